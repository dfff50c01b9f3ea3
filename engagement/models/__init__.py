from .metrics import ActivityCell, CohortCell, ComparisonCell, MetricRefresh
from .predictions import CustomerPrediction, PredictionFit
from .results import CustomerType, EngagementResult, Status, StatusHistory, TypeChange
from .rules import RuleSet
from .runs import RecomputeChunk, RecomputeRun
from .segments import Campaign, CampaignMember, SavedSegment
from .workflow import ActionPlan, ActionStep, Alert, AlertRule, Arm, Playbook, PlaybookStep

__all__ = [
    "ActionPlan",
    "ActionStep",
    "ActivityCell",
    "Alert",
    "AlertRule",
    "Arm",
    "Campaign",
    "CampaignMember",
    "CohortCell",
    "ComparisonCell",
    "CustomerPrediction",
    "CustomerType",
    "EngagementResult",
    "MetricRefresh",
    "Playbook",
    "PlaybookStep",
    "PredictionFit",
    "RecomputeChunk",
    "RecomputeRun",
    "RuleSet",
    "SavedSegment",
    "Status",
    "StatusHistory",
    "TypeChange",
]
