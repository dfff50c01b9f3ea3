"""GET /api/metrics/outcomes/: does a playbook work? A thin view over
engagement.workflow.outcomes.outcomes_report; any CRM role reads.

Rates are fractions from 0 to 1 (floats); mean revenue and the revenue uplift are money,
sent as strings with two decimals like every amount of the API; an uplift with fewer than
30 matured units in either arm is null ("not enough data").
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.permissions import IsCRMUser
from engagement.models.workflow import AlertRule, Playbook
from engagement.workflow.outcomes import outcomes_report


class OutcomesQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="Day D (YYYY-MM-DD); default today.")
    rule = serializers.PrimaryKeyRelatedField(queryset=AlertRule.objects.all(), required=False)
    playbook = serializers.PrimaryKeyRelatedField(queryset=Playbook.objects.all(), required=False)
    campaign = serializers.IntegerField(min_value=1, required=False)


def _arm(name):
    return inline_serializer(
        name=name,
        fields={
            "n": serializers.IntegerField(help_text="Matured alerts or campaign members."),
            "converted": serializers.FloatField(allow_null=True, help_text="Conversion rate."),
            "purchased": serializers.FloatField(allow_null=True, help_text="Purchase rate."),
            "revenue": serializers.DecimalField(
                max_digits=16, decimal_places=2, allow_null=True, help_text="Mean net revenue."
            ),
        },
    )


def _uplift(name, field):
    return inline_serializer(
        name=name,
        fields={"value": field(), "low": field(), "high": field()},
        allow_null=True,
        help_text="Treatment minus control with its 95% interval; null: not enough data.",
    )


def _money():
    return serializers.DecimalField(max_digits=16, decimal_places=2)


OUTCOMES_SCHEMA = inline_serializer(
    name="Outcomes",
    fields={
        "as_of": serializers.DateField(),
        "results": inline_serializer(
            name="OutcomesRow",
            many=True,
            fields={
                "rule": serializers.IntegerField(allow_null=True),
                "playbook": serializers.IntegerField(allow_null=True),
                "campaign": serializers.IntegerField(allow_null=True),
                "window_days": serializers.IntegerField(allow_null=True),
                "treatment": _arm("OutcomesTreatment"),
                "control": _arm("OutcomesControl"),
                "conversion_uplift": _uplift("ConversionUplift", serializers.FloatField),
                "purchase_uplift": _uplift("PurchaseUplift", serializers.FloatField),
                "revenue_uplift": _uplift("RevenueUplift", _money),
            },
        ),
    },
)


class OutcomesView(APIView):
    permission_classes = [IsCRMUser]

    @extend_schema(
        parameters=[
            OpenApiParameter("as_of", str, description="Day D, YYYY-MM-DD (default: today)."),
            OpenApiParameter("rule", int, description="Only this alert rule's row."),
            OpenApiParameter(
                "playbook", int, description="The playbook's row, its rules' and its campaigns'."
            ),
            OpenApiParameter("campaign", int, description="Only this campaign's row."),
        ],
        responses=OUTCOMES_SCHEMA,
        description=(
            "Per alert rule, playbook and campaign, as of D: per arm the matured alerts (or "
            "members), conversion and purchase rates (0 to 1) and mean revenue; the uplift of "
            "each (treatment minus control) with a 95% interval (Newcombe for rates, Welch "
            "for revenue), null under 30 per arm."
        ),
    )
    def get(self, request):
        query = OutcomesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        as_of = data.get("as_of") or timezone.localdate()
        rows = outcomes_report(
            as_of=as_of,
            rule=data["rule"].pk if "rule" in data else None,
            playbook=data["playbook"].pk if "playbook" in data else None,
            campaign=data.get("campaign"),
        )
        return Response({"as_of": as_of, "results": rows})
