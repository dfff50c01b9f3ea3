"""The metrics API: thin views over engagement.analytics.

Every endpoint takes `?period=day|week|month&start=&end=` and the segment filters `owner`,
`kind`, `country`, `industry`; a bad parameter answers 400 naming it. Any CRM role reads.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.fields import DayField, IdField
from crm.api.permissions import IsCRMUser
from customers.models import Customer
from engagement.analytics.board import answer
from engagement.analytics.money import mrr, revenue
from engagement.analytics.periods import UNITS, Period, Segment
from engagement.analytics.status import status_history, type_history
from engagement.models.results import CustomerType, Status


class MetricsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=UNITS, default="month")
    start = DayField(required=False, help_text="First day (YYYY-MM-DD).")
    end = DayField(required=False, help_text="Last day (YYYY-MM-DD); default today.")
    owner = IdField(required=False, help_text="Owner's user id.")
    kind = serializers.ChoiceField(choices=Customer.Kind.choices, required=False)
    country = serializers.CharField(required=False, allow_blank=True)
    industry = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs):
        try:
            attrs["period_obj"] = Period.parse(
                period=attrs["period"], start=attrs.get("start"), end=attrs.get("end")
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        attrs["segment"] = Segment(
            owner_id=attrs.get("owner"),
            kind=attrs.get("kind", ""),
            country=attrs.get("country", ""),
            industry=attrs.get("industry", ""),
        )
        return attrs


QUERY_PARAMETERS = [
    OpenApiParameter(
        "period",
        str,
        enum=list(UNITS),
        description="Bucket: day, ISO week (Monday first) or calendar month. Default month.",
    ),
    OpenApiParameter("start", str, description="First day, YYYY-MM-DD (default: 12 buckets back)."),
    OpenApiParameter("end", str, description="Last day, YYYY-MM-DD (default: today)."),
    OpenApiParameter("owner", int, description="Only customers of this owner (user id)."),
    OpenApiParameter("kind", str, enum=list(Customer.Kind.values)),
    OpenApiParameter("country", str),
    OpenApiParameter("industry", str),
]


def _envelope(name: str, row_fields: dict):
    return inline_serializer(
        name=name,
        fields={
            "period": serializers.CharField(),
            "results": inline_serializer(name=f"{name}Row", fields=row_fields, many=True),
        },
    )


class MetricView(APIView):
    """Parses the query, computes `compute(period, segment)` and wraps it in the envelope."""

    permission_classes = [IsCRMUser]

    def compute(self, period, segment):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def get(self, request):
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query.validated_data["period_obj"]
        results = self.compute(period, query.validated_data["segment"])
        return Response({"period": period.unit, "results": results})


def _int():
    return serializers.IntegerField()


def _rate():
    return serializers.FloatField(allow_null=True)


def _money():
    return serializers.DecimalField(max_digits=16, decimal_places=2)


def _schema(name, fields, description):
    return extend_schema(
        parameters=QUERY_PARAMETERS,
        responses=_envelope(name, {"start": serializers.DateField(), **fields}),
        description=description,
    )


@_schema(
    "ActivityMetrics",
    {"active": _int()},
    "Distinct active customers per bucket (DAU, WAU or MAU by `period`); empty buckets answer 0.",
)
class ActivityView(MetricView):
    def compute(self, period, segment):
        return answer("activity", period=period, segment=segment)


@_schema(
    "LifecycleMetrics",
    {"new": _int(), "returning": _int(), "resurrecting": _int(), "dormant": _int()},
    "Per bucket: new (active, customer_since in the bucket), returning (active in this and the "
    "previous bucket), resurrecting (active, not in the previous bucket, not new), dormant "
    "(active in the previous bucket, not in this one).",
)
class LifecycleView(MetricView):
    def compute(self, period, segment):
        return answer("lifecycle", period=period, segment=segment)


@_schema(
    "StickinessMetrics",
    {"mau": _int(), "dau": serializers.FloatField(), "stickiness": _rate()},
    "Per calendar month of the period: MAU, average DAU and DAU/MAU.",
)
class StickinessView(MetricView):
    def compute(self, period, segment):
        return answer("stickiness", period=period, segment=segment)


@_schema(
    "StatusMetrics",
    {s.value: _int() for s in Status},
    "Customers per status at each bucket's end, replayed from the status history.",
)
class StatusView(MetricView):
    def compute(self, period, segment):
        return status_history(period=period, segment=segment)["counts"]


@_schema(
    "TypeMetrics",
    {t.value: _int() for t in CustomerType},
    "Customers holding each type at each bucket's end, replayed from the type changes.",
)
class TypesView(MetricView):
    def compute(self, period, segment):
        return type_history(period=period, segment=segment)


@_schema(
    "RateMetrics",
    {
        "churned": _int(),
        "churn_rate": _rate(),
        "reactivated": _int(),
        "reactivation_rate": _rate(),
    },
    "Churn rate (turned churned / not churned at the bucket's start) and reactivation rate "
    "(turned active from at_risk, inactive or churned / those at the start).",
)
class RatesView(MetricView):
    def compute(self, period, segment):
        return status_history(period=period, segment=segment)["rates"]


@_schema(
    "ActivationMetrics",
    {"customers": _int(), "activated": _int(), "rate": _rate()},
    "Per bucket of customer_since: customers, those active within onboarding_days, and the rate.",
)
class ActivationView(MetricView):
    def compute(self, period, segment):
        return answer("activation", period=period, segment=segment)


@_schema("MRRMetrics", {"mrr": _money()}, "MRR (monthly-normalised) at each bucket's end.")
class MRRView(MetricView):
    def compute(self, period, segment):
        return mrr(period=period, segment=segment)


@_schema(
    "RevenueMetrics",
    {"purchases": _money(), "refunds": _money(), "revenue": _money()},
    "Purchases, refunds and net revenue (purchases - refunds) per bucket.",
)
class RevenueView(MetricView):
    def compute(self, period, segment):
        return revenue(period=period, segment=segment)


@extend_schema(
    parameters=QUERY_PARAMETERS,
    responses=inline_serializer(
        name="CohortMetrics",
        fields={
            "period": serializers.CharField(),
            "results": inline_serializer(
                name="CohortRow",
                many=True,
                fields={
                    "cohort": serializers.DateField(),
                    "size": _int(),
                    "retention": serializers.ListField(child=_rate()),
                },
            ),
        },
    ),
    description="Cohorts by customer_since month: size, and the share active N months later "
    "(retention[N]). Always monthly, over the months of the period.",
)
class CohortsView(MetricView):
    def compute(self, period, segment):
        return answer("cohorts", period=period, segment=segment)


@extend_schema(
    parameters=QUERY_PARAMETERS,
    responses=inline_serializer(
        name="ComparisonMetrics",
        fields={
            "period": serializers.CharField(),
            "results": inline_serializer(
                name="ComparisonRow",
                many=True,
                fields={
                    "group": serializers.ChoiceField(choices=["active", "non_active"]),
                    "customers": _int(),
                    "avg_score": serializers.FloatField(allow_null=True),
                    "revenue": _money(),
                    "revenue_share": _rate(),
                    "clv": serializers.DecimalField(
                        max_digits=16, decimal_places=2, allow_null=True
                    ),
                    "interactions_per_customer": serializers.FloatField(allow_null=True),
                    "mrr": _money(),
                },
            ),
        },
    ),
    description="Active (customer activity within active_days of `end`) versus non-active "
    "customers: engagement score, revenue in the period and its share, lifetime value (net "
    "revenue to `end` per customer), interactions per customer, MRR.",
)
class ComparisonView(MetricView):
    def compute(self, period, segment):
        return answer("comparison", period=period, segment=segment)
