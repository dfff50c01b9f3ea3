"""FilterSets of the customers API: every filter the public contract names, and `archived`."""

import django_filters
from django import forms
from django.db.models import F
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter

from customers import selectors
from customers.models import Contact, Customer, Interaction, Product, Subscription
from engagement.models.results import CustomerType, EngagementResult, Status


class IdFilter(django_filters.NumberFilter):
    """A record's id: a whole number in the database's range (else 400 naming the filter)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class CustomerFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(
        choices=CustomerType.choices,
        method="filter_type",
        label="Engagement type held (stored result of the last recompute).",
    )
    status = django_filters.ChoiceFilter(
        field_name="engagement__status",
        choices=Status.choices,
        label="Engagement status (stored result of the last recompute).",
    )
    owner = IdFilter(field_name="owner_id", label="Owner's user id.")
    kind = django_filters.ChoiceFilter(choices=Customer.Kind.choices)
    country = django_filters.CharFilter(label="Country (exact, any case).", lookup_expr="iexact")
    industry = django_filters.CharFilter(label="Industry (exact, any case).", lookup_expr="iexact")
    archived = django_filters.BooleanFilter(
        method="filter_archived",
        label="true: only archived customers; false (the default): only current ones.",
    )
    p_alive_lt = django_filters.NumberFilter(
        field_name="prediction__p_alive",
        lookup_expr="lt",
        min_value=0,
        max_value=1,
        label="P(alive) of the stored prediction below this (0 to 1).",
    )
    p_alive_gte = django_filters.NumberFilter(
        field_name="prediction__p_alive",
        lookup_expr="gte",
        min_value=0,
        max_value=1,
        label="P(alive) of the stored prediction at least this (0 to 1).",
    )

    class Meta:
        model = Customer
        fields = [
            "type",
            "status",
            "owner",
            "kind",
            "country",
            "industry",
            "archived",
            "p_alive_lt",
            "p_alive_gte",
        ]

    def filter_type(self, queryset, name, value):
        return queryset.filter(**{f"engagement__{EngagementResult.TYPE_FIELDS[value]}": True})

    def filter_archived(self, queryset, name, value):
        return queryset.archived() if value else queryset.unarchived()

    def filter_queryset(self, queryset):
        # Archived customers are hidden unless ?archived= says otherwise.
        if self.form.cleaned_data.get("archived") is None:
            queryset = queryset.unarchived()
        return super().filter_queryset(queryset)


class ContactFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label="Customer id.")

    class Meta:
        model = Contact
        fields = ["customer"]


class ProductFilter(django_filters.FilterSet):
    class Meta:
        model = Product
        fields = ["kind", "is_active"]


class SubscriptionFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label="Customer id.")
    status = django_filters.ChoiceFilter(choices=Subscription.Status.choices)

    class Meta:
        model = Subscription
        fields = ["customer", "status"]


class InteractionFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label="Customer id.")
    kind = django_filters.ChoiceFilter(choices=Interaction.Kind.choices)
    direction = django_filters.ChoiceFilter(choices=Interaction.Direction.choices)
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at",
        lookup_expr="gte",
        label="Occurred at or after this ISO 8601 timestamp (or date).",
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at",
        lookup_expr="lt",
        label="Occurred strictly before this ISO 8601 timestamp (or date).",
    )

    class Meta:
        model = Interaction
        fields = ["customer", "kind", "direction", "occurred_after", "occurred_before"]


class CustomerOrderingFilter(OrderingFilter):
    """`?ordering=` of the customer list: the view's `ordering_fields`, and the prediction's
    `predicted_clv_365` (`-` for highest first; customers without a prediction last either
    way). An unknown field answers 400 naming `ordering`, never a silently ignored order."""

    # Public name -> the field it sorts by, customers without a value last.
    NULLS_LAST = {"predicted_clv_365": "prediction__predicted_clv_365"}

    def get_ordering(self, request, queryset, view):
        param = request.query_params.get(self.ordering_param)
        if not param:
            return self.get_default_ordering(view)
        allowed = set(view.ordering_fields) | set(self.NULLS_LAST)
        terms = [term.strip() for term in param.split(",") if term.strip()]
        unknown = [term for term in terms if term.removeprefix("-") not in allowed]
        if unknown or not terms:
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Unknown ordering {', '.join(unknown) or repr(param)}; choose from "
                        f"{', '.join(sorted(allowed))} (prefix - for descending)."
                    ]
                }
            )
        ordering = []
        for term in terms:
            name = term.removeprefix("-")
            if name in self.NULLS_LAST:
                field = F(self.NULLS_LAST[name])
                descending = term.startswith("-")
                ordering.append(
                    field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
                )
            else:
                ordering.append(term)
        return [*ordering, "id"]  # a stable order for pages: ties broken by id

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["description"] = (
                f"Sort by one or more of {', '.join([*view.ordering_fields, *self.NULLS_LAST])} "
                "(comma-separated; prefix - for descending). predicted_clv_365 puts customers "
                "without a prediction last. Unknown fields: 400."
            )
        return parameters


class CustomerSearchFilter(SearchFilter):
    """`?search=` through customers.selectors.customer_search (name, e-mail, external id,
    contact names), so the API and the admin find the same customers."""

    def filter_queryset(self, request, queryset, view):
        term = request.query_params.get(self.search_param, "")
        return selectors.customer_search(queryset, term=term) if term.strip() else queryset

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["description"] = (
                "Every word matches the name, e-mail or external id, or a contact's name or e-mail."
            )
        return parameters
