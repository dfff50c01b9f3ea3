from .metrics import ActivityCell, CohortCell, ComparisonCell, MetricRefresh
from .predictions import CustomerPrediction, PredictionFit
from .results import CustomerType, EngagementResult, Status, StatusHistory, TypeChange
from .rules import RuleSet
from .workflow import ActionPlan, ActionStep, Alert, AlertRule, Playbook, PlaybookStep

__all__ = [
    "ActionPlan",
    "ActionStep",
    "ActivityCell",
    "Alert",
    "AlertRule",
    "CohortCell",
    "ComparisonCell",
    "CustomerPrediction",
    "CustomerType",
    "EngagementResult",
    "MetricRefresh",
    "Playbook",
    "PlaybookStep",
    "PredictionFit",
    "RuleSet",
    "Status",
    "StatusHistory",
    "TypeChange",
]
