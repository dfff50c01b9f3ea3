"""FilterSets of the workflow lists."""

import django_filters

from engagement.models.workflow import ActionPlan, Alert


class AlertFilter(django_filters.FilterSet):
    class Meta:
        model = Alert
        fields = ["customer", "status", "severity", "assignee"]


class ActionPlanFilter(django_filters.FilterSet):
    class Meta:
        model = ActionPlan
        fields = ["customer", "owner", "status"]
