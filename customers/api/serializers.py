"""Serializers of the customers API: they validate and shape; the services write.

Related records are written and read as ids. A customer's `engagement` is the stored result
of the last recompute, and `prediction` the stored prediction (both read-only; null before
the first recompute or fit).
"""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from customers.models import Contact, Customer, Interaction, Product, Subscription
from engagement.models.predictions import CustomerPrediction
from engagement.models.results import CustomerType, EngagementResult, Status


class EngagementSummarySerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    types = serializers.ListField(
        child=serializers.ChoiceField(choices=CustomerType.choices), read_only=True
    )

    class Meta:
        model = EngagementResult
        fields = ["status", "types", "reactivated", "score", "computed_at", "as_of"]
        read_only_fields = fields


class PredictionSerializer(serializers.ModelSerializer):
    """A customer's stored prediction (docs/definitions.md, "Prediction"); figures empty when
    the customer has no purchase or the model is not fitted, and `reason` says why."""

    customer = serializers.IntegerField(source="customer_id", help_text="The customer's id.")
    T = serializers.IntegerField(
        allow_null=True, help_text="Days from the first purchase day to as_of."
    )

    class Meta:
        model = CustomerPrediction
        fields = [
            "customer",
            "as_of",
            "frequency",
            "recency",
            "T",
            "monetary",
            "p_alive",
            "expected_purchases_90",
            "expected_purchases_365",
            "expected_value",
            "predicted_clv_365",
            "historical_clv",
            "reason",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "frequency": {"help_text": "Repeat purchase days (purchase days - 1)."},
            "recency": {"help_text": "Days from the first to the last purchase day."},
            "monetary": {"help_text": "Mean total of the repeat purchase days."},
            "p_alive": {"help_text": "Probability the customer is still a buyer (0 to 1)."},
            "expected_purchases_90": {"help_text": "Expected purchase days in 90 days."},
            "expected_purchases_365": {"help_text": "Expected purchase days in 365 days."},
            "expected_value": {"help_text": "Expected value of a purchase day (Gamma-Gamma)."},
            "predicted_clv_365": {"help_text": "expected_purchases_365 x expected_value."},
            "historical_clv": {"help_text": "Net revenue (purchases - refunds) up to as_of."},
            "reason": {"help_text": "One line: why this P(alive), or why there is none."},
        }


class CustomerSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(),
        allow_null=True,
        required=False,
        help_text=(
            "Owner's user id. A sales rep creating a customer becomes its owner when none is given."
        ),
    )
    engagement = EngagementSummarySerializer(
        read_only=True,
        allow_null=True,
        help_text="The stored result of the last recompute; null before the first one.",
    )
    prediction = PredictionSerializer(
        read_only=True,
        allow_null=True,
        help_text="The stored prediction; null before the first fit.",
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "kind",
            "email",
            "phone",
            "country",
            "industry",
            "owner",
            "customer_since",
            "external_id",
            "created_at",
            "updated_at",
            "archived_at",
            "engagement",
            "prediction",
        ]
        read_only_fields = ["created_at", "updated_at", "archived_at"]
        # Uniqueness is the service's to check (full_clean, one place); the serializer
        # would add a query per unique field.
        validators = []
        extra_kwargs = {"external_id": {"validators": []}}


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "is_primary",
            "marketing_opt_in",
            "external_id",
        ]
        validators = []
        extra_kwargs = {"external_id": {"validators": []}}


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "sku", "kind", "price", "currency", "is_active"]
        validators = []
        extra_kwargs = {"sku": {"validators": []}}


class SubscriptionSerializer(serializers.ModelSerializer):
    monthly_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="The amount normalised to a month (MRR contribution).",
    )

    class Meta:
        model = Subscription
        fields = [
            "id",
            "customer",
            "product",
            "status",
            "started_at",
            "ended_at",
            "amount",
            "interval",
            "monthly_amount",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators = []
        extra_kwargs = {"external_id": {"validators": []}}


class InteractionSerializer(serializers.ModelSerializer):
    direction = serializers.ChoiceField(
        choices=Interaction.Direction.choices,
        required=False,
        allow_blank=True,
        help_text="Defaults from the kind: inbound, except outbound for a note.",
    )

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "contact",
            "kind",
            "direction",
            "occurred_at",
            "amount",
            "subject",
            "notes",
            "external_id",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["created_by", "created_at"]
        validators = []


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Rows written.")
    duplicates = serializers.IntegerField(
        help_text=(
            "Rows whose external_id the customer already had (stored, or earlier in the batch)."
        )
    )


class BulkInteractionRowSerializer(InteractionSerializer):
    """One row of a bulk batch (documentation only: the service validates the batch)."""

    class Meta(InteractionSerializer.Meta):
        ref_name = "BulkInteractionRow"
        fields = [f for f in InteractionSerializer.Meta.fields if f not in ("id",)]
