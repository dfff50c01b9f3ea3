"""Full recompute runs, read-only: progress (chunks done of total) and each chunk's timing."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from engagement.admin.base import ComputedRecordAdmin
from engagement.models.runs import RecomputeChunk, RecomputeRun


class RecomputeChunkInline(admin.TabularInline):
    model = RecomputeChunk
    fields = ["index", "lo", "hi", "customers", "seconds", "attempts", "worker", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ComputedRecordAdmin):
    list_display = [
        "id",
        "as_of",
        "state",
        "progress",
        "customers_progress",
        "fan_out",
        "started_at",
        "finished_at",
        "duration",
    ]
    list_filter = ["state", "fan_out", "as_of"]
    ordering = ["-started_at", "-id"]
    inlines = [RecomputeChunkInline]
    fields = [
        "as_of",
        "state",
        "progress",
        "customers_progress",
        "fan_out",
        "rule_set",
        "rerun",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "duration",
        "task_id",
        "summary",
        "error",
    ]
    readonly_fields = fields

    @admin.display(description=_("chunks done"))
    def progress(self, run):
        return f"{run.chunks_done} / {run.chunks_total}"

    @admin.display(description=_("customers"))
    def customers_progress(self, run):
        return f"{run.customers:,} / {run.customers_total:,}"

    @admin.display(description=_("seconds"))
    def duration(self, run):
        if run.finished_at is None:
            return "-"
        return f"{(run.finished_at - run.started_at).total_seconds():.1f}"
