"""Serializers of the workflow: playbooks, alert rules, alerts, plans, steps (services write)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from customers.models import Customer
from engagement.models.workflow import (
    ActionPlan,
    ActionStep,
    Alert,
    AlertRule,
    Playbook,
    PlaybookStep,
)
from engagement.workflow.plans import progress_percent


class PlaybookStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlaybookStep
        fields = ["id", "position", "title", "description", "kind", "offset_days", "assignee_role"]
        read_only_fields = ["id", "position"]


class PlaybookSerializer(serializers.ModelSerializer):
    steps = PlaybookStepSerializer(many=True, required=False)

    class Meta:
        model = Playbook
        fields = ["id", "name", "objective", "is_active", "steps", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class AlertRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "trigger",
            "to_status",
            "from_status",
            "customer_type",
            "count",
            "window_days",
            "min_revenue",
            "max_p_alive",
            "severity",
            "playbook",
            "cooldown_days",
            "holdout_percent",
            "outcome_window_days",
            "is_active",
        ]
        read_only_fields = ["id"]


class AlertSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "customer",
            "customer_name",
            "rule",
            "rule_name",
            "severity",
            "message",
            "status",
            "arm",
            "assignee",
            "fired_on",
            "created_at",
            "acknowledged_at",
            "resolved_at",
            "resolved_by",
            "action_plan",
        ]
        read_only_fields = [f for f in fields if f not in ("status", "assignee")]


class ActionStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActionStep
        fields = [
            "id",
            "plan",
            "position",
            "title",
            "description",
            "kind",
            "due_on",
            "assignee",
            "status",
            "completed_at",
            "completed_by",
            "last_reminded_on",
        ]
        read_only_fields = [f for f in fields if f not in ("status", "assignee", "due_on")]


class ActionPlanSerializer(serializers.ModelSerializer):
    steps = ActionStepSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField()
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    playbook = serializers.PrimaryKeyRelatedField(
        queryset=Playbook.objects.filter(is_active=True), required=False, allow_null=True
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )

    class Meta:
        model = ActionPlan
        fields = [
            "id",
            "customer",
            "playbook",
            "objective",
            "owner",
            "status",
            "started_on",
            "due_on",
            "outcome",
            "progress",
            "created_at",
            "completed_at",
            "steps",
        ]
        read_only_fields = ["id", "status", "due_on", "outcome", "created_at", "completed_at"]
        extra_kwargs = {"started_on": {"required": False}, "objective": {"required": False}}

    def get_progress(self, plan) -> int:
        # Annotated by engagement.workflow.selectors.action_plan_list.
        return progress_percent(plan.steps_closed, plan.steps_total)
