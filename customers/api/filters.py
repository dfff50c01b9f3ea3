"""FilterSets of the customers API: every filter the public contract names, and `archived`."""

import django_filters
from django.db.models import F
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter

from crm import permissions
from crm.filters import IdFilter
from customers import selectors
from customers.models import Contact, Interaction, Product, Subscription
from engagement.models.segments import SavedSegment
from engagement.workflow.customer_filters import CustomerListFilter
from engagement.workflow.segments import segment_apply


def _visible_segments(request):
    user = getattr(request, "user", None)
    return permissions.visible_segments(user, SavedSegment.objects.all())


@extend_schema_field(OpenApiTypes.INT)
class SegmentIdFilter(django_filters.ModelChoiceFilter):
    """A saved segment by id, among those the requesting user reads (else 400 naming it)."""


class CustomerFilter(CustomerListFilter):
    """The customer list's filters (engagement.workflow.customer_filters) and `segment`."""

    segment = SegmentIdFilter(
        queryset=_visible_segments,
        method="filter_segment",
        label="A saved segment's id (yours or a shared one): its filters and search apply.",
    )

    class Meta(CustomerListFilter.Meta):
        fields = [*CustomerListFilter.Meta.fields, "segment"]

    def filter_segment(self, queryset, name, value):
        return segment_apply(queryset, value)

    def hides_archived(self) -> bool:
        # A segment says itself whether it holds archived customers.
        return super().hides_archived() and self.form.cleaned_data.get("segment") is None


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
