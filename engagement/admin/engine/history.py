"""Status history and type changes, read-only: appended by every recompute that moves a customer."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.admin import customer_link
from engagement.admin.base import ComputedRecordAdmin
from engagement.admin.display import TYPE_LABELS, status_badge
from engagement.models.results import StatusHistory, TypeChange


class _HistoryAdmin(ComputedRecordAdmin):
    list_display_links = None
    list_select_related = ["customer", "rule_set"]
    search_fields = ["customer__name", "customer__external_id"]
    readonly_fields = ["customer", "as_of", "changed_at", "rule_set"]

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_name(self, row):
        return customer_link(row.customer)

    @admin.display(description=_("rules"), ordering="rule_set__version")
    def rule_version(self, row):
        return f"v{row.rule_set.version}"


@admin.register(StatusHistory)
class StatusHistoryAdmin(_HistoryAdmin):
    list_display = [
        "customer_name",
        "from_badge",
        "to_badge",
        "as_of",
        "changed_at",
        "rule_version",
    ]
    list_filter = ["to_status", "from_status", "as_of", "changed_at", "rule_set"]
    readonly_fields = [*_HistoryAdmin.readonly_fields, "from_status", "to_status"]

    @admin.display(description=_("from"), ordering="from_status")
    def from_badge(self, row):
        return status_badge(row.from_status)

    @admin.display(description=_("to"), ordering="to_status")
    def to_badge(self, row):
        return status_badge(row.to_status)


@admin.register(TypeChange)
class TypeChangeAdmin(_HistoryAdmin):
    list_display = ["customer_name", "change", "as_of", "changed_at", "rule_version"]
    list_filter = ["customer_type", "gained", "as_of", "changed_at", "rule_set"]
    readonly_fields = [*_HistoryAdmin.readonly_fields, "customer_type", "gained"]

    @admin.display(description=_("change"), ordering="customer_type")
    def change(self, row):
        label = TYPE_LABELS.get(row.customer_type, row.customer_type)
        return (
            _("gained %(type)s") % {"type": label}
            if row.gained
            else _("lost %(type)s") % {"type": label}
        )
