"""playbooks/, alert-rules/, alerts/, action-plans/, action-steps/{id}/.

Thin: querysets from engagement.workflow.selectors, permissions from crm.permissions, and
every write a service call (a service's ValidationError is a 400 naming the field).
"""

from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from crm import permissions
from crm.api.permissions import ConfigurationPermission, IsCRMUser
from engagement.models.workflow import ActionStep
from engagement.workflow import alerts as alert_services
from engagement.workflow import plans as plan_services
from engagement.workflow import playbooks as playbook_services
from engagement.workflow import selectors

from . import filters, serializers


class PlaybookViewSet(viewsets.ModelViewSet):
    """Playbooks with their ordered steps nested as `steps`: everybody reads, crm_admin writes."""

    serializer_class = serializers.PlaybookSerializer
    permission_classes = [ConfigurationPermission]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    search_fields = ["name", "objective"]
    ordering_fields = ["name", "id"]

    def get_queryset(self):
        return selectors.playbook_list().order_by("name", "pk")

    def perform_create(self, serializer):
        serializer.instance = playbook_services.playbook_save(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = playbook_services.playbook_save(
            playbook=serializer.instance, **serializer.validated_data
        )


class AlertRuleViewSet(viewsets.ModelViewSet):
    serializer_class = serializers.AlertRuleSerializer
    permission_classes = [ConfigurationPermission]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    search_fields = ["name"]
    filterset_fields = ["trigger", "severity", "is_active"]

    def get_queryset(self):
        return selectors.alert_rule_list().order_by("name", "pk")

    def perform_create(self, serializer):
        serializer.instance = playbook_services.alert_rule_save(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = playbook_services.alert_rule_save(
            rule=serializer.instance, **serializer.validated_data
        )


class _WorkflowPermission(IsCRMUser):
    """Reads: what crm.permissions lets the user see; writes: customer success and crm_admin."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or permissions.can_manage_workflow(request.user)


class _StepPermission(IsCRMUser):
    """Steps: full roles change any; a rep completes the steps assigned to them."""

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS or permissions.can_manage_workflow(request.user):
            return True
        return permissions.can_complete_step(request.user, obj) and set(request.data) <= {"status"}


class AlertViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = serializers.AlertSerializer
    permission_classes = [_WorkflowPermission]
    http_method_names = ["get", "patch", "head", "options"]
    filterset_class = filters.AlertFilter
    search_fields = ["customer__name", "message"]
    ordering_fields = ["created_at", "severity", "id"]

    def get_queryset(self):
        return selectors.alert_list(user=self.request.user).order_by("-created_at", "-pk")

    def perform_update(self, serializer):
        serializer.instance = alert_services.alert_update(
            alert=serializer.instance, user=self.request.user, **serializer.validated_data
        )


class ActionPlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = serializers.ActionPlanSerializer
    permission_classes = [_WorkflowPermission]
    filterset_class = filters.ActionPlanFilter
    search_fields = ["customer__name", "objective"]
    ordering_fields = ["started_on", "id"]

    def get_queryset(self):
        return selectors.action_plan_list(user=self.request.user).order_by("-started_on", "-pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_services.action_plan_start(**serializer.validated_data)
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(self.get_serializer(plan).data, status=status.HTTP_201_CREATED)


class ActionStepViewSet(
    mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    serializer_class = serializers.ActionStepSerializer
    permission_classes = [_StepPermission]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.action_step_list(user=self.request.user)

    def perform_update(self, serializer):
        data = serializer.validated_data
        if (
            not permissions.can_manage_workflow(self.request.user)
            and data.get("status") not in ActionStep.CLOSED_STATES
        ):
            raise PermissionDenied("You may only complete the steps assigned to you.")
        serializer.instance = plan_services.action_step_update(
            step=serializer.instance, user=self.request.user, **data
        )
