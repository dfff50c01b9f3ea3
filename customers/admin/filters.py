"""List filters of the customer list: ownership, archive state, stored engagement and
prediction."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from crm.admin import indexed_distinct_values
from crm.params import parse_id
from customers.models import Customer
from engagement.models.results import CustomerType, EngagementResult, Status
from engagement.workflow.customer_filters import P_ALIVE_BANDS


class OwnerFilter(admin.SimpleListFilter):
    """'My accounts' first, then 'No owner' and each user who owns customers."""

    title = _("owner")
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        # EXISTS per user (an index probe), not a join over every customer.
        owns = Customer.objects.filter(owner=OuterRef("pk"))
        owners = (
            get_user_model()
            .objects.filter(Exists(owns))
            .order_by("username")
            .values_list("pk", "username")
        )
        return [
            ("me", _("My accounts")),
            ("none", _("No owner")),
            *((str(pk), username) for pk, username in owners),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(owner=request.user)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        owner_id = parse_id(value)  # not an id ("²", 20 digits): no filter
        return queryset if owner_id is None else queryset.filter(owner_id=owner_id)


class ArchivedFilter(admin.SimpleListFilter):
    """Archived customers are hidden unless this filter asks for them."""

    title = _("archived")
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("yes", _("Archived")), ("all", _("All, with archived"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "yes":
            return queryset.filter(archived_at__isnull=False)
        if value == "all" or (value is None and request.GET.get("segment")):
            # A saved segment says itself whether it holds archived customers.
            return queryset
        return queryset.filter(archived_at__isnull=True)

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Not archived"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class EngagementStatusFilter(admin.SimpleListFilter):
    title = _("engagement status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*Status.choices, ("none", _("Not computed yet"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(engagement__isnull=True)
        if value in Status.values:
            return queryset.filter(engagement__status=value)
        return queryset


class EngagementTypeFilter(admin.SimpleListFilter):
    title = _("customer type")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return CustomerType.choices

    def queryset(self, request, queryset):
        field = EngagementResult.TYPE_FIELDS.get(self.value())
        if field:
            return queryset.filter(**{f"engagement__{field}": True})
        return queryset


class ReactivatedFilter(admin.SimpleListFilter):
    title = _("reactivated")
    parameter_name = "reactivated"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(engagement__reactivated=True)
        if self.value() == "no":
            return queryset.exclude(engagement__reactivated=True)
        return queryset


class PAliveFilter(admin.SimpleListFilter):
    """Bands of the stored prediction's P(alive), and customers without one."""

    title = _("P(alive)")
    parameter_name = "p_alive"
    NONE = "none"
    BANDS = P_ALIVE_BANDS  # value -> (lowest included, highest excluded); None: open
    LABELS = {
        "lt25": _("below 0.25"),
        "25to50": _("0.25 to 0.50"),
        "50to75": _("0.50 to 0.75"),
        "gte75": _("0.75 and above"),
    }

    def lookups(self, request, model_admin):
        return [*self.LABELS.items(), (self.NONE, _("No prediction"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.NONE:
            return queryset.filter(Q(prediction__isnull=True) | Q(prediction__p_alive=None))
        if value in self.BANDS:
            low, high = self.BANDS[value]
            if low is not None:
                queryset = queryset.filter(prediction__p_alive__gte=low)
            if high is not None:
                queryset = queryset.filter(prediction__p_alive__lt=high)
        return queryset


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """Like Django's all-values filter (country, industry), read through the index."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = indexed_distinct_values(model, field)
