"""Serializers of the engagement API: rule sets, the live evaluation, recompute, segments and
the prediction model."""

from rest_framework import serializers

from crm.api.fields import DayField
from engagement.models.predictions import PredictionFit
from engagement.models.results import CustomerType, Status
from engagement.models.rules import RuleSet

THRESHOLDS = RuleSet.THRESHOLD_FIELDS


class RuleSetSerializer(serializers.ModelSerializer):
    """The active rule set (read); `version` grows by one with every change."""

    class Meta:
        model = RuleSet
        fields = ["version", *THRESHOLDS, "created_at", "created_by"]
        read_only_fields = fields


class RuleSetChangeSerializer(serializers.ModelSerializer):
    """PATCH: any subset of the thresholds; the others keep the active version's values."""

    class Meta:
        model = RuleSet
        fields = list(THRESHOLDS)
        extra_kwargs = {name: {"required": False} for name in THRESHOLDS}

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(THRESHOLDS)) if self.initial_data else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown rule."] for name in unknown})
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": ["Give at least one rule to change."]}
            )
        return attrs


class AsOfQuerySerializer(serializers.Serializer):
    as_of = DayField(
        required=False,
        allow_null=True,
        input_formats=["%Y-%m-%d"],
        help_text="Evaluate as of this day (YYYY-MM-DD); default today in the site's time zone.",
    )


class LiveEngagementSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's id.")
    as_of = serializers.DateField()
    status = serializers.ChoiceField(choices=Status.choices)
    types = serializers.ListField(child=serializers.ChoiceField(choices=CustomerType.choices))
    reactivated = serializers.BooleanField()
    score = serializers.IntegerField(allow_null=True)
    reasons = serializers.JSONField(
        help_text="One line per rule: why the customer has this status and each type, or not."
    )
    metrics = serializers.JSONField(help_text="The figures behind the result, as of the day.")


class RecomputeRequestSerializer(serializers.Serializer):
    as_of = DayField(
        required=False,
        allow_null=True,
        input_formats=["%Y-%m-%d"],
        help_text="Recompute as of this day (YYYY-MM-DD); default today.",
    )


class RecomputeResponseSerializer(serializers.Serializer):
    task_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(
        choices=["done", "queued"],
        help_text="done: ran in-process (no broker), summary given; queued: a worker runs it.",
    )
    summary = serializers.JSONField(allow_null=True)


class RecomputeRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    as_of = serializers.DateField()
    state = serializers.ChoiceField(choices=["running", "finishing", "done", "failed"])
    fan_out = serializers.BooleanField(help_text="Chunks on Celery workers (with a broker).")
    chunks_done = serializers.IntegerField()
    chunks_total = serializers.IntegerField()
    customers = serializers.IntegerField(help_text="Customers stored so far.")
    customers_total = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True)


class RecomputeProgressSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["queued", "running", "finishing", "done", "failed"],
        help_text="queued: no worker has started it yet; else the run's state.",
    )
    run = RecomputeRunSerializer(allow_null=True)
    summary = serializers.JSONField(allow_null=True, help_text="The run's, once done.")


class SegmentsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Current (unarchived) customers counted.")
    unclassified = serializers.IntegerField(help_text="Customers not yet recomputed.")
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_type = serializers.DictField(child=serializers.IntegerField())


class BgNbdSerializer(serializers.Serializer):
    r = serializers.FloatField()
    alpha = serializers.FloatField(help_text="In days.")
    a = serializers.FloatField()
    b = serializers.FloatField()


class GammaGammaSerializer(serializers.Serializer):
    p = serializers.FloatField()
    q = serializers.FloatField()
    gamma = serializers.FloatField()


class PredictionModelSerializer(serializers.ModelSerializer):
    """A fit of the prediction models; `bg_nbd` and `gamma_gamma` are null when it was not
    fitted (too little data)."""

    time_unit = serializers.SerializerMethodField(help_text='Always "day".')
    bg_nbd = serializers.SerializerMethodField()
    gamma_gamma = serializers.SerializerMethodField()

    class Meta:
        model = PredictionFit
        fields = [
            "as_of",
            "fitted_at",
            "customers",
            "repeaters",
            "converged",
            "log_likelihood",
            "time_unit",
            "bg_nbd",
            "gamma_gamma",
        ]
        read_only_fields = fields

    def get_time_unit(self, fit) -> str:
        return "day"

    def get_bg_nbd(self, fit) -> BgNbdSerializer(allow_null=True):
        return {"r": fit.r, "alpha": fit.alpha, "a": fit.a, "b": fit.b} if fit.fitted else None

    def get_gamma_gamma(self, fit) -> GammaGammaSerializer(allow_null=True):
        return {"p": fit.p, "q": fit.q, "gamma": fit.gamma} if fit.fitted else None


class PredictionFitRequestSerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False,
        allow_null=True,
        input_formats=["%Y-%m-%d"],
        help_text="Fit on the purchases up to this day (YYYY-MM-DD); default today.",
    )


class PredictionFitQueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued"])
