from .metrics import ActivityCell, CohortCell, ComparisonCell, MetricRefresh
from .results import CustomerType, EngagementResult, Status, StatusHistory, TypeChange
from .rules import RuleSet
from .segments import Arm, Campaign, CampaignMember, SavedSegment
from .workflow import ActionPlan, ActionStep, Alert, AlertRule, Playbook, PlaybookStep

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
    "CustomerType",
    "EngagementResult",
    "MetricRefresh",
    "Playbook",
    "PlaybookStep",
    "RuleSet",
    "SavedSegment",
    "Status",
    "StatusHistory",
    "TypeChange",
]
