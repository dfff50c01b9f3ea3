"""The engagement API: live evaluation of one customer, rules, recompute, segments and
predictions (the model, a fit, one customer's prediction).

Thin views: a selector or service call each; permissions from crm.permissions.
"""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.json_renderer import JSONRenderer
from crm.api.permissions import ConfigurationPermission, IsCRMUser
from customers.api.filters import CustomerFilter
from customers.api.serializers import PredictionSerializer
from customers.models import Customer
from engagement.analytics.status import engagement_counts
from engagement.engine.live import CustomerNotFound, engagement_evaluate
from engagement.engine.rule_sets import rule_set_ensure, rule_set_update
from engagement.models.predictions import CustomerPrediction, PredictionFit
from engagement.tasks import enqueue_recompute_all, fit_predictions, recompute_all
from engagement.workflow.selectors import recompute_run_of_task

from . import serializers

# These answers are single JSON documents, not lists: no CSV.
_RENDERERS = [JSONRenderer, BrowsableAPIRenderer]

_AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="YYYY-MM-DD; default today in the site's time zone. Malformed: 400 naming as_of.",
)


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
        try:
            result = engagement_evaluate(customer_id=pk, as_of=query.validated_data.get("as_of"))
        except CustomerNotFound:
            raise NotFound("No such customer.") from None
        return Response(
            {
                "customer": result.customer_id,
                "as_of": result.as_of,
                "status": result.status,
                "types": list(result.types),
                "reactivated": result.reactivated,
                "score": result.score,
                "reasons": result.reasons,
                "metrics": result.metrics,
            }
        )


class RulesView(APIView):
    renderer_classes = _RENDERERS
    permission_classes = [ConfigurationPermission]

    @extend_schema(
        summary="The active engagement rule set", responses=serializers.RuleSetSerializer
    )
    def get(self, request):
        # The stored version in force (version 1, with the defaults, stored on first use).
        return Response(serializers.RuleSetSerializer(rule_set_ensure()).data)

    @extend_schema(
        summary="Change rules (CRM admin): makes a new version and queues a full recompute",
        request=serializers.RuleSetChangeSerializer,
        responses=serializers.RuleSetSerializer,
    )
    def patch(self, request):
        change = serializers.RuleSetChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        new = rule_set_update(user=request.user, **change.validated_data)
        enqueue_recompute_all()
        return Response(serializers.RuleSetSerializer(new).data)


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
        body = serializers.RecomputeRequestSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        as_of = body.validated_data.get("as_of")
        day = as_of.isoformat() if as_of else None
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            result = recompute_all.apply(args=[day], throw=True)
            summary = result.get()
            if summary.get("state") == "rerun requested":  # another full run is open
                return Response(
                    {
                        "detail": f"A full recompute is running (run {summary['run']}); "
                        "it will run once more when it is done."
                    },
                    status=status.HTTP_409_CONFLICT,
                )
            return Response({"task_id": result.id, "status": "done", "summary": summary})
        result = recompute_all.delay(day)
        return Response(
            {"task_id": result.id, "status": "queued", "summary": None},
            status=status.HTTP_202_ACCEPTED,
        )


class RecomputeProgressView(APIView):
    renderer_classes = _RENDERERS
    permission_classes = [ConfigurationPermission]

    @extend_schema(
        summary="A full recompute's progress: chunks done of total, then its summary",
        description=(
            "By the task id POST engagement/recompute/ answered. `queued` until a worker "
            "starts the run (an id no run has is also `queued`)."
        ),
        responses={200: serializers.RecomputeProgressSerializer},
    )
    def get(self, request, task_id: str):
        run = recompute_run_of_task(task_id)
        if run is None:
            return Response({"task_id": task_id, "status": "queued", "run": None, "summary": None})
        return Response(
            {
                "task_id": task_id,
                "status": run.state,
                "run": serializers.RecomputeRunSerializer(run).data,
                "summary": run.summary if run.state == "done" else None,
            }
        )


_SEGMENT_FILTERS = [
    *(
        OpenApiParameter(name, str, description=f"Only customers with this {name}.")
        for name in ("owner", "kind", "country", "industry", "type", "status")
    ),
    OpenApiParameter("has_owner", bool, description="false: customers without an owner."),
    OpenApiParameter("reactivated", bool, description="true: reactivated customers only."),
    OpenApiParameter("segment", int, description="A saved segment's id: its filters apply."),
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
        counts = engagement_counts(filterset.qs)
        return Response(
            {
                "total": counts["total"],
                "unclassified": counts["unclassified"],
                "by_status": counts["status"],
                "by_type": counts["types"],
            }
        )


class PredictionModelView(APIView):
    renderer_classes = _RENDERERS
    permission_classes = [IsCRMUser]

    @extend_schema(
        summary="The latest fit of the prediction models",
        description=(
            "BG/NBD (`r`, `alpha` in days, `a`, `b`) and Gamma-Gamma (`p`, `q`, `gamma`) of the "
            "latest fit, converged or not (a fit that did not converge leaves the previous "
            "converged model predicting). Both null when the fit had too little data. 404 "
            "before the first fit."
        ),
        responses={200: serializers.PredictionModelSerializer},
        tags=["predictions"],
    )
    def get(self, request):
        fit = PredictionFit.objects.order_by("-fitted_at", "-id").first()
        if fit is None:
            raise NotFound("No prediction model yet: it is fitted by the nightly recompute.")
        return Response(serializers.PredictionModelSerializer(fit).data)


class PredictionFitView(APIView):
    renderer_classes = _RENDERERS
    permission_classes = [ConfigurationPermission]

    @extend_schema(
        summary="Fit the prediction models and predict every customer (CRM admin)",
        description=(
            "A background task. Without a broker (the default) it runs in-process at once and "
            "the answer is the new model (200, as `predictions/model/`); with "
            "CELERY_BROKER_URL set it is queued and the answer is its task id (202)."
        ),
        request=serializers.PredictionFitRequestSerializer,
        responses={
            200: serializers.PredictionModelSerializer,
            202: serializers.PredictionFitQueuedSerializer,
        },
        tags=["predictions"],
    )
    def post(self, request):
        body = serializers.PredictionFitRequestSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        as_of = body.validated_data.get("as_of")
        day = as_of.isoformat() if as_of else None
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            answer = fit_predictions.apply(args=[day], throw=True).get()
            fit = PredictionFit.objects.get(pk=answer["fit"])
            return Response(serializers.PredictionModelSerializer(fit).data)
        result = fit_predictions.delay(day)
        return Response({"task_id": result.id, "status": "queued"}, status=status.HTTP_202_ACCEPTED)


class CustomerPredictionView(APIView):
    renderer_classes = _RENDERERS
    permission_classes = [IsCRMUser]

    @extend_schema(
        summary="A customer's stored prediction",
        description=(
            "From the latest fit (or the freshness refresh since). Empty figures with a reason "
            "when the customer has no purchase yet or the model is not fitted; 404 when the "
            "customer does not exist or has no prediction yet."
        ),
        responses={200: PredictionSerializer},
        tags=["customers"],
    )
    def get(self, request, pk: int):
        prediction = CustomerPrediction.objects.filter(customer_id=pk).first()
        if prediction is None:
            if not Customer.objects.filter(pk=pk).exists():
                raise NotFound("No such customer.")
            raise NotFound("No prediction yet for this customer: the next fit makes one.")
        return Response(PredictionSerializer(prediction).data)
