"""Playbooks (with their ordered steps) and alert rules: written by crm_admin."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from engagement.models.workflow import AlertRule, Playbook, PlaybookStep

# The parameters each trigger needs (docs/definitions.md, "Alert rules"); the others are
# ignored by evaluation.
TRIGGER_PARAMETERS = {
    AlertRule.Trigger.STATUS_CHANGED: ("to_status",),
    AlertRule.Trigger.TYPE_GAINED: ("customer_type",),
    AlertRule.Trigger.TYPE_LOST: ("customer_type",),
    AlertRule.Trigger.SUBSCRIPTION_CANCELLED: (),
    AlertRule.Trigger.SUPPORT_SPIKE: ("count", "window_days"),
    AlertRule.Trigger.HIGH_VALUE_INACTIVE: ("min_revenue",),
    AlertRule.Trigger.VALUE_AT_RISK: ("max_p_alive", "min_revenue"),
}
STEP_FIELDS = ("title", "description", "kind", "offset_days", "assignee_role")


def alert_rule_check(rule: AlertRule) -> None:
    """Raise ValidationError naming each parameter the rule's trigger needs and lacks."""
    missing = {
        name: "This trigger needs this parameter."
        for name in TRIGGER_PARAMETERS.get(rule.trigger, ())
        if getattr(rule, name) in (None, "")
    }
    if missing:
        raise ValidationError(missing)


@transaction.atomic
def alert_rule_save(*, rule: AlertRule | None = None, **fields) -> AlertRule:
    """Create (rule=None) or change an alert rule."""
    rule = rule or AlertRule()
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.full_clean()
    alert_rule_check(rule)
    rule.save()
    return rule


@transaction.atomic
def playbook_save(
    *, playbook: Playbook | None = None, steps: list[dict] | None = None, **fields
) -> Playbook:
    """Create or change a playbook; `steps` (in order), when given, replace its steps.

    Plans already started keep their own copied steps.
    """
    playbook = playbook or Playbook()
    for name, value in fields.items():
        setattr(playbook, name, value)
    playbook.full_clean()
    playbook.save()
    if steps is not None:
        made = []
        for position, data in enumerate(steps):
            step = PlaybookStep(
                playbook=playbook,
                position=position,
                **{k: v for k, v in data.items() if k in STEP_FIELDS},
            )
            try:
                step.full_clean(exclude=["playbook"])
            except ValidationError as error:
                raise ValidationError(
                    {"steps": [f"Step {position + 1}: {m}" for m in error.messages]}
                ) from error
            made.append(step)
        PlaybookStep.objects.filter(playbook=playbook).delete()
        PlaybookStep.objects.bulk_create(made)
    return playbook
