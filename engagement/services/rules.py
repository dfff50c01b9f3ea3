from django.db import transaction
from django.db.models import Max

from engagement.models.rules import RuleSet
from engagement.rules import active_rule_set, validate_rules


@transaction.atomic
def rule_set_update(*, user=None, **changes) -> RuleSet:
    """Save the active thresholds with `changes` as a new version; older versions stay as they are.

    Raises ValidationError (a message per field) for unknown names or nonsense thresholds.
    """
    unknown = sorted(set(changes) - set(RuleSet.THRESHOLD_FIELDS))
    if unknown:
        from django.core.exceptions import ValidationError

        raise ValidationError({name: "Unknown rule." for name in unknown})
    current = active_rule_set()
    values = {name: getattr(current, name) for name in RuleSet.THRESHOLD_FIELDS}
    values.update(changes)
    validate_rules(values)
    # Lock the versions so two concurrent changes cannot take the same number.
    list(RuleSet.objects.select_for_update().values_list("pk", flat=True))
    version = (RuleSet.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    rule_set = RuleSet(version=version, created_by=user, **values)
    rule_set.full_clean()
    rule_set.save()
    return rule_set
