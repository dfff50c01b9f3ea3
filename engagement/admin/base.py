"""What the engagement admin pages share."""

from django.contrib import admin

from crm.admin import BigTableMixin


class ComputedRecordAdmin(BigTableMixin, admin.ModelAdmin):
    """Rows written only by the engine (results, history): every role reads, nobody edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
