"""The stored rule-set versions: the current one (a read that never writes), the first one
made on demand, and a change saved as a new version."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from engagement.engine.rules import Rules, validate_rules
from engagement.models.rules import RuleSet


def rule_set_current() -> RuleSet | None:
    """The stored rule set in force (the highest version); None before the first is stored."""
    return RuleSet.objects.order_by("-version").first()


def current_rules() -> Rules:
    """The thresholds in force, read only: the defaults (version None) before any is stored."""
    current = rule_set_current()
    return Rules.from_rule_set(current) if current is not None else Rules()


def rule_set_ensure() -> RuleSet:
    """The stored rule set in force, creating version 1 with the defaults when there is none.

    For writes that record the version they used (a recompute, a rule change) and for the
    pages that change the rules.
    """
    current = rule_set_current()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            return RuleSet.objects.create(version=1, **Rules().thresholds())
    except IntegrityError:
        # Another process created version 1 at the same moment.
        return rule_set_current()


@transaction.atomic
def rule_set_update(*, user=None, **changes) -> RuleSet:
    """Save the active thresholds with `changes` as a new version; older versions stay as they are.

    Raises ValidationError (a message per field) for unknown names or nonsense thresholds.
    """
    unknown = sorted(set(changes) - set(RuleSet.THRESHOLD_FIELDS))
    if unknown:
        raise ValidationError({name: "Unknown rule." for name in unknown})
    current = rule_set_ensure()
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
