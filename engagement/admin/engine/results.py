"""The stored results, read-only: what the last recompute found for each customer."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.admin import customer_link
from engagement.admin.base import ComputedRecordAdmin
from engagement.admin.display import status_badge, type_badges
from engagement.models.results import CustomerType, EngagementResult

from .actions import RecomputePermissionMixin, recompute_results_action


class TypeFilter(admin.SimpleListFilter):
    title = _("customer type")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [
            *CustomerType.choices,
            *(
                (f"not_{code}", _("Not %(type)s") % {"type": label})
                for code, label in CustomerType.choices
            ),
        ]

    def queryset(self, request, queryset):
        value = self.value() or ""
        held = not value.startswith("not_")
        field = EngagementResult.TYPE_FIELDS.get(value.removeprefix("not_"))
        if field:
            return queryset.filter(**{field: held})
        return queryset


@admin.register(EngagementResult)
class EngagementResultAdmin(RecomputePermissionMixin, ComputedRecordAdmin):
    list_display = [
        "customer_name",
        "status_badge",
        "type_badges",
        "reactivated",
        "score",
        "r_score",
        "f_score",
        "m_score",
        "last_activity_on",
        "days_since_activity",
        "rule_version",
        "as_of",
        "computed_at",
    ]
    list_display_links = None
    list_select_related = ["customer", "rule_set"]
    list_filter = ["status", TypeFilter, "reactivated", "rule_set", "as_of"]
    search_fields = ["customer__name", "customer__external_id"]
    ordering = ["-score", "customer_id"]
    actions = [recompute_results_action]
    readonly_fields = [f.name for f in EngagementResult._meta.fields]

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_name(self, result):
        return customer_link(result.customer)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, result):
        return status_badge(result.status, reactivated=result.reactivated)

    @admin.display(description=_("types"))
    def type_badges(self, result):
        return type_badges(result.types)

    @admin.display(description=_("rules"), ordering="rule_set__version")
    def rule_version(self, result):
        return f"v{result.rule_set.version}"
