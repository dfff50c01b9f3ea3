"""The customer list's filters, stated once.

- The API's customer list filters with `CustomerListFilter` (customers/api/filters.py adds
  `segment`); `?search=` goes through the same customers.selectors.customer_search.
- A saved segment stores these names and values, and `search`, as its query string:
  `SegmentFilter` reads it back (engagement.workflow.segments).
- The admin's sidebar speaks its own parameter names (`q`, `kind__exact`, `owner=me`...);
  its "Save as segment" maps them onto these (see docs/definitions.md, "Segments and
  campaigns").
"""

import django_filters

from crm.filters import BooleanFilter, IdFilter
from customers import selectors
from customers.models import Customer
from engagement.models.results import CustomerType, EngagementResult, Status

# The status filter's value for customers the recompute has not classified yet.
NOT_COMPUTED = "none"
# The admin's P(alive) bands (its `p_alive` parameter): value -> (p_alive_gte, p_alive_lt),
# None for an open end; a segment saves a band as those two filters.
P_ALIVE_BANDS = {
    "lt25": (None, 0.25),
    "25to50": (0.25, 0.5),
    "50to75": (0.5, 0.75),
    "gte75": (0.75, None),
}


class CustomerListFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(
        choices=CustomerType.choices,
        method="filter_type",
        label="Engagement type held (stored result of the last recompute).",
    )
    status = django_filters.ChoiceFilter(
        choices=[*Status.choices, (NOT_COMPUTED, "Not computed yet")],
        method="filter_status",
        label="Engagement status (stored result of the last recompute); none: not computed yet.",
    )
    owner = IdFilter(field_name="owner_id", label="Owner's user id.")
    has_owner = BooleanFilter(method="filter_has_owner", label="false: customers without an owner.")
    kind = django_filters.ChoiceFilter(choices=Customer.Kind.choices)
    country = django_filters.CharFilter(label="Country (exact, any case).", lookup_expr="iexact")
    industry = django_filters.CharFilter(label="Industry (exact, any case).", lookup_expr="iexact")
    reactivated = BooleanFilter(
        method="filter_reactivated",
        label="true: reactivated customers (stored result of the last recompute); false: others.",
    )
    archived = BooleanFilter(
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
            "has_owner",
            "kind",
            "country",
            "industry",
            "reactivated",
            "archived",
            "p_alive_lt",
            "p_alive_gte",
        ]

    def filter_type(self, queryset, name, value):
        return queryset.filter(**{f"engagement__{EngagementResult.TYPE_FIELDS[value]}": True})

    def filter_status(self, queryset, name, value):
        if value == NOT_COMPUTED:
            return queryset.filter(engagement__isnull=True)
        return queryset.filter(engagement__status=value)

    def filter_has_owner(self, queryset, name, value):
        return queryset.filter(owner__isnull=not value)

    def filter_reactivated(self, queryset, name, value):
        # "Not reactivated" includes customers without a stored result, as in the admin.
        if value:
            return queryset.filter(engagement__reactivated=True)
        return queryset.exclude(engagement__reactivated=True)

    def filter_archived(self, queryset, name, value):
        return queryset.archived() if value else queryset.unarchived()

    def hides_archived(self) -> bool:
        """Archived customers are hidden unless ?archived= says otherwise."""
        return self.form.cleaned_data.get("archived") is None

    def filter_queryset(self, queryset):
        if self.hides_archived():
            queryset = queryset.unarchived()
        return super().filter_queryset(queryset)


class SegmentFilter(CustomerListFilter):
    """What a saved segment stores: the list's filters and its search words."""

    search = django_filters.CharFilter(
        method="filter_search",
        label="Every word matches the name, e-mail or external id, or a contact's name or e-mail.",
    )

    class Meta(CustomerListFilter.Meta):
        fields = [*CustomerListFilter.Meta.fields, "search"]

    def filter_search(self, queryset, name, value):
        return selectors.customer_search(queryset, term=value)
