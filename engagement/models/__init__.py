from .metrics import ActivityCell, CohortCell, ComparisonCell, MetricRefresh
from .results import CustomerType, EngagementResult, Status, StatusHistory, TypeChange
from .rules import RuleSet
from .runs import RecomputeChunk, RecomputeRun
from .workflow import ActionPlan, ActionStep, Alert, AlertRule, Playbook, PlaybookStep

__all__ = [
    "ActionPlan",
    "ActionStep",
    "ActivityCell",
    "Alert",
    "AlertRule",
    "CohortCell",
    "ComparisonCell",
    "CustomerType",
    "EngagementResult",
    "MetricRefresh",
    "Playbook",
    "PlaybookStep",
    "RecomputeChunk",
    "RecomputeRun",
    "RuleSet",
    "Status",
    "StatusHistory",
    "TypeChange",
]
