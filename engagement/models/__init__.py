from .metrics import ActivityCell, CohortCell, ComparisonCell, MetricRefresh
from .results import CustomerType, EngagementResult, Status, StatusHistory, TypeChange
from .rules import RuleSet
from .workflow import ActionPlan, ActionStep, Alert, AlertRule, Arm, Playbook, PlaybookStep

__all__ = [
    "ActionPlan",
    "ActionStep",
    "ActivityCell",
    "Alert",
    "AlertRule",
    "Arm",
    "CohortCell",
    "ComparisonCell",
    "CustomerType",
    "EngagementResult",
    "MetricRefresh",
    "Playbook",
    "PlaybookStep",
    "RuleSet",
    "Status",
    "StatusHistory",
    "TypeChange",
]
