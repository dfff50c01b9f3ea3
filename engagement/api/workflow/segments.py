"""/api/saved-segments/ and /api/campaigns/: serializers and views.

Thin: querysets from engagement.workflow.segments / campaigns, permissions from
crm.permissions, every write a service call (its ValidationError is a 400 naming the field).
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from crm import permissions
from crm.api.permissions import IsCRMUser
from crm.filters import BooleanFilter, IdFilter
from engagement.models.segments import Campaign, SavedSegment
from engagement.models.workflow import Playbook
from engagement.tasks import enqueue_campaign_run
from engagement.workflow import campaigns as campaign_services
from engagement.workflow import segments as segment_services

# --- Saved segments -----------------------------------------------------------------------


class SavedSegmentSerializer(serializers.ModelSerializer):
    size = serializers.SerializerMethodField(
        help_text="How many customers the segment holds now; null when its filters no longer apply."
    )

    class Meta:
        model = SavedSegment
        fields = ["id", "name", "filters", "owner", "is_shared", "size"]
        read_only_fields = ["id", "owner", "size"]
        # The (owner, name) constraint is checked by the service, naming `name`.
        validators = []

    def get_size(self, segment) -> int | None:
        # A list hands in its page's sizes (one query); one segment is counted here.
        sizes = self.context.get("sizes")
        if sizes is None:
            sizes = segment_services.segment_sizes([segment])
        return sizes.get(segment.pk)

    def validate_filters(self, value):
        return segment_services.segment_filters_clean(value)


class SavedSegmentFilter(django_filters.FilterSet):
    owner = IdFilter(field_name="owner_id", label="Owner's user id.")
    is_shared = BooleanFilter(label="true: shared segments only; false: private ones.")

    class Meta:
        model = SavedSegment
        fields = ["owner", "is_shared"]


class SegmentPermission(IsCRMUser):
    """Every role reads its own and shared segments and saves its own; the owner (or
    crm_admin) changes and deletes one."""

    def has_object_permission(self, request, view, obj):
        return request.method in SAFE_METHODS or permissions.can_edit_segment(request.user, obj)


class SavedSegmentViewSet(viewsets.ModelViewSet):
    serializer_class = SavedSegmentSerializer
    permission_classes = [SegmentPermission]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    search_fields = ["name"]
    filterset_class = SavedSegmentFilter
    ordering_fields = ["name", "id"]

    def get_queryset(self):
        return segment_services.saved_segment_list(user=self.request.user)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        segments = list(page if page is not None else queryset)
        # The page's sizes in one query, not one COUNT per segment.
        context = {
            **self.get_serializer_context(),
            "sizes": segment_services.segment_sizes(segments),
        }
        data = self.serializer_class(segments, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def perform_create(self, serializer):
        serializer.instance = segment_services.saved_segment_create(
            owner=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = segment_services.saved_segment_update(
            segment=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        segment_services.saved_segment_delete(segment=instance)


# --- Campaigns ----------------------------------------------------------------------------


class _VisibleSegmentField(serializers.PrimaryKeyRelatedField):
    """A segment the requesting user reads (their own, a shared one; crm_admin: any)."""

    def get_queryset(self):
        return permissions.visible_segments(
            self.context["request"].user, SavedSegment.objects.all()
        )


class CampaignSerializer(serializers.ModelSerializer):
    segment = _VisibleSegmentField()
    playbook = serializers.PrimaryKeyRelatedField(queryset=Playbook.objects.all())
    treatment = serializers.IntegerField(
        source="treatment_count", read_only=True, help_text="Members drawn into treatment."
    )
    control = serializers.IntegerField(
        source="control_count", read_only=True, help_text="Members drawn into control."
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "segment",
            "playbook",
            "holdout_percent",
            "outcome_window_days",
            "started_on",
            "started_by",
            "state",
            "members_total",
            "members_done",
            "treatment",
            "control",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = [
            "id",
            "started_on",
            "started_by",
            "state",
            "members_total",
            "members_done",
            "error",
            "created_at",
            "finished_at",
        ]


class CampaignFilter(django_filters.FilterSet):
    segment = IdFilter(field_name="segment_id", label="Saved segment id.")
    playbook = IdFilter(field_name="playbook_id", label="Playbook id.")
    state = django_filters.ChoiceFilter(choices=Campaign.State.choices)

    class Meta:
        model = Campaign
        fields = ["segment", "playbook", "state"]


class CampaignPermission(IsCRMUser):
    """Every role reads campaigns; customer success and crm_admin start them."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or permissions.can_start_campaign(request.user)


@extend_schema_view(
    create=extend_schema(
        summary="Start a campaign",
        description=(
            "Draws every current customer of the segment into treatment (a plan from the "
            "playbook starts, unless the customer already has an active one from it) or "
            "control (holdout_percent of them, recorded, nothing started). Without a broker "
            "the draw runs at once and the answer counts the members; with one it runs as a "
            "background task and `state`, `members_done` of `members_total` show its progress."
        ),
    )
)
class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = CampaignSerializer
    permission_classes = [CampaignPermission]
    filterset_class = CampaignFilter
    search_fields = ["name"]
    ordering_fields = ["started_on", "id"]

    def get_queryset(self):
        return campaign_services.campaign_list().order_by("-started_on", "-pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = campaign_services.campaign_start(
            started_by=request.user, **serializer.validated_data
        )
        enqueue_campaign_run(campaign.pk)
        campaign = self.get_queryset().get(pk=campaign.pk)
        return Response(self.get_serializer(campaign).data, status=status.HTTP_201_CREATED)
