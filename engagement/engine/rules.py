"""The engagement thresholds as a plain value (Rules) and their validation.

Rules is what the classifier and the recompute read; RuleSet is its stored, versioned form
(engagement.engine.rule_sets reads and writes the versions).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from engagement.models.rules import RuleSet

WINDOW_FIELDS = (
    "recent_buyer_days",
    "loyal_window_days",
    "loyal_min_tenure_days",
    "support_window_days",
    "contact_window_days",
    "onboarding_days",
    "active_days",
    "at_risk_days",
    "inactive_days",
)
COUNT_FIELDS = ("loyal_min_purchases", "support_min_interactions", "contact_min_interactions")
# No window may reach further back than this: it bounds the dates the SQL has to compute.
MAX_DAYS = 3650


@dataclass(frozen=True)
class Rules:
    """Every threshold (docs/definitions.md, "Rules") with its default, and the version."""

    recent_buyer_days: int = 30
    loyal_min_purchases: int = 3
    loyal_window_days: int = 365
    loyal_min_tenure_days: int = 180
    support_min_interactions: int = 3
    support_window_days: int = 90
    contact_min_interactions: int = 2
    contact_window_days: int = 90
    onboarding_days: int = 30
    active_days: int = 30
    at_risk_days: int = 60
    inactive_days: int = 90
    count_trials_as_subscribers: bool = False
    version: int | None = None
    rule_set_id: int | None = None

    @classmethod
    def from_rule_set(cls, rule_set: RuleSet) -> Rules:
        return cls(
            **{name: getattr(rule_set, name) for name in RuleSet.THRESHOLD_FIELDS},
            version=rule_set.version,
            rule_set_id=rule_set.pk,
        )

    def thresholds(self) -> dict:
        return {name: getattr(self, name) for name in RuleSet.THRESHOLD_FIELDS}

    def replace(self, **changes) -> Rules:
        return dataclasses.replace(self, **changes)


def rule_errors(values) -> dict[str, str]:
    """A message per field for thresholds that make no sense; empty when they are fine.

    `values` is a Rules or a mapping of threshold names (missing ones take the defaults).
    """
    if isinstance(values, Rules):
        values = values.thresholds()
    merged = {**Rules().thresholds(), **dict(values)}
    errors: dict[str, str] = {}
    for name in (*WINDOW_FIELDS, *COUNT_FIELDS):
        value = merged[name]
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = (
                "Enter a whole number of days."
                if name in WINDOW_FIELDS
                else ("Enter a whole number.")
            )
        elif name in WINDOW_FIELDS and value < 0:
            errors[name] = "A window cannot be negative."
        elif name in WINDOW_FIELDS and value > MAX_DAYS:
            errors[name] = f"A window cannot be longer than {MAX_DAYS} days."
        elif name in COUNT_FIELDS and value < 1:
            errors[name] = "Must be at least 1."
    if not isinstance(merged["count_trials_as_subscribers"], bool):
        errors["count_trials_as_subscribers"] = "Must be true or false."
    if errors:
        return errors
    if merged["active_days"] >= merged["at_risk_days"]:
        errors["active_days"] = (
            f"Active ({merged['active_days']} days) must be shorter than at risk "
            f"({merged['at_risk_days']} days)."
        )
        errors["at_risk_days"] = "At risk must be longer than active."
    if merged["at_risk_days"] >= merged["inactive_days"]:
        errors.setdefault(
            "at_risk_days",
            f"At risk ({merged['at_risk_days']} days) must be shorter than inactive "
            f"({merged['inactive_days']} days).",
        )
        errors["inactive_days"] = "Inactive must be longer than at risk."
    return errors


def validate_rules(values) -> None:
    """Raises ValidationError with a message per field (see rule_errors)."""
    errors = rule_errors(values)
    if errors:
        raise ValidationError(errors)
