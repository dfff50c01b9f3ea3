"""The engagement API: live evaluation of one customer, rules, recompute and segments.

Thin views: a selector or service call each; permissions from crm.permissions.
"""

import dataclasses
import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.json_renderer import JSONRenderer
from crm.api.permissions import ConfigurationPermission, IsCRMUser
from customers.api.filters import CustomerFilter
from customers.models import Customer
from engagement.models.results import CustomerType, EngagementResult, Status

from . import serializers

# These answers are single JSON documents, not lists: no CSV.
_RENDERERS = [JSONRenderer, BrowsableAPIRenderer]

_AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="YYYY-MM-DD; default today in the site's time zone. Malformed: 400 naming as_of.",
)


def _get(result, name, default=None):
    if isinstance(result, dict):
        return result.get(name, default)
    return getattr(result, name, default)


def _plain(value):
    """JSON-ready: dataclasses and objects become dicts, dates ISO strings, Decimals strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "__dict__"):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


class CustomerEngagementView(APIView):
    renderer_classes = _RENDERERS
    permission_classes = [IsCRMUser]

    @extend_schema(
        summary="A customer's engagement computed live as of a day (nothing stored)",
        parameters=[_AS_OF],
        responses={200: serializers.LiveEngagementSerializer},
        tags=["customers"],
    )
    def get(self, request, pk: int):
        query = serializers.AsOfQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        customer = get_object_or_404(Customer.objects.only("pk"), pk=pk)
        from engagement.services.live import engagement_evaluate

        as_of = query.validated_data.get("as_of")
        result = engagement_evaluate(customer_id=customer.pk, as_of=as_of)
        types = _get(result, "types") or []
        return Response(
            {
                "customer": customer.pk,
                "as_of": _plain(_get(result, "as_of") or as_of),
                "status": _get(result, "status"),
                "types": sorted(types, key=_TYPE_ORDER.get) if types else [],
                "reactivated": bool(_get(result, "reactivated")),
                "score": _get(result, "score"),
                "reasons": _plain(_get(result, "reasons") or {}),
                "metrics": _plain(_get(result, "metrics") or {}),
            }
        )


_TYPE_ORDER = {code: i for i, code in enumerate(CustomerType.values)}


class RulesView(APIView):
    renderer_classes = _RENDERERS
    permission_classes = [ConfigurationPermission]

    @extend_schema(
        summary="The active engagement rule set", responses=serializers.RuleSetSerializer
    )
    def get(self, request):
        from engagement.rules import active_rule_set

        return Response(serializers.RuleSetSerializer(_rule_set(active_rule_set())).data)

    @extend_schema(
        summary="Change rules (CRM admin): makes a new version and queues a full recompute",
        request=serializers.RuleSetChangeSerializer,
        responses=serializers.RuleSetSerializer,
    )
    def patch(self, request):
        change = serializers.RuleSetChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        from engagement.services.rules import rule_set_update
        from engagement.tasks import enqueue_recompute_all

        new = rule_set_update(user=request.user, **change.validated_data)
        enqueue_recompute_all()
        return Response(serializers.RuleSetSerializer(_rule_set(new)).data)


def _rule_set(value):
    """The RuleSet row behind what the engine answers (a row, or a value with a version)."""
    from engagement.models.rules import RuleSet

    if isinstance(value, RuleSet):
        return value
    version = _get(value, "version")
    found = RuleSet.objects.filter(version=version).first() if version is not None else None
    return found or RuleSet.objects.order_by("-version").first()


class RecomputeView(APIView):
    renderer_classes = _RENDERERS
    permission_classes = [ConfigurationPermission]

    @extend_schema(
        summary="Recompute every customer's engagement (CRM admin)",
        description=(
            "Runs the recompute as a background task. Without a broker (the default) the task "
            "runs in-process at once and the answer is its summary (200); with "
            "CELERY_BROKER_URL set it is queued and the answer is its task id (202)."
        ),
        request=serializers.RecomputeRequestSerializer,
        responses={
            200: serializers.RecomputeResponseSerializer,
            202: serializers.RecomputeResponseSerializer,
        },
    )
    def post(self, request):
        from engagement.tasks import recompute_all

        body = serializers.RecomputeRequestSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        as_of = body.validated_data.get("as_of")
        day = as_of.isoformat() if as_of else None
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            result = recompute_all.apply(args=[day], throw=True)
            return Response({"task_id": result.id, "status": "done", "summary": result.get()})
        result = recompute_all.delay(day)
        return Response(
            {"task_id": result.id, "status": "queued", "summary": None},
            status=status.HTTP_202_ACCEPTED,
        )


_SEGMENT_FILTERS = [
    OpenApiParameter(name, str, description=f"Only customers with this {name}.")
    for name in ("owner", "kind", "country", "industry", "type", "status")
]


class SegmentsView(APIView):
    renderer_classes = _RENDERERS
    permission_classes = [IsCRMUser]

    @extend_schema(
        summary="Current customers counted by engagement type and by status",
        description=(
            "From the stored results of the last recompute; archived customers are not "
            "counted. Accepts the customer list's filters."
        ),
        parameters=_SEGMENT_FILTERS,
        responses=serializers.SegmentsSerializer,
    )
    def get(self, request):
        params = request.query_params.copy()
        params.pop("archived", None)
        filterset = CustomerFilter(params, queryset=Customer.objects.all(), request=request)
        if not filterset.is_valid():
            return Response(filterset.errors, status=status.HTTP_400_BAD_REQUEST)
        aggregates = {"total": Count("pk"), "unclassified": Count("pk", filter=Q(engagement=None))}
        for code in Status.values:
            aggregates[f"status__{code}"] = Count("pk", filter=Q(engagement__status=code))
        for code, field in EngagementResult.TYPE_FIELDS.items():
            aggregates[f"type__{code}"] = Count("pk", filter=Q(**{f"engagement__{field}": True}))
        counts = filterset.qs.aggregate(**aggregates)
        return Response(
            {
                "total": counts["total"],
                "unclassified": counts["unclassified"],
                "by_status": {code: counts[f"status__{code}"] for code in Status.values},
                "by_type": {code: counts[f"type__{code}"] for code in CustomerType.values},
            }
        )
