"""Admin actions of the engagement engine, shared with the customer list.

customers.admin.customer.CustomerAdmin lists `recompute_engagement_action` in its actions;
a ModelAdmin that offers it answers `has_recompute_permission(request)` (see
`RecomputePermissionMixin`).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm import permissions
from engagement.tasks import enqueue_refresh


class RecomputePermissionMixin:
    def has_recompute_permission(self, request):
        return permissions.can_manage_configuration(request.user)


def _recompute(modeladmin, request, customer_ids):
    # The action list already hides it from other roles; a forged POST meets this.
    if not permissions.can_manage_configuration(request.user):
        raise PermissionDenied
    count = enqueue_refresh(customer_ids)
    modeladmin.message_user(
        request,
        ngettext(
            "Recomputing the engagement of %d customer.",
            "Recomputing the engagement of %d customers.",
            count,
        )
        % count,
        messages.SUCCESS,
    )


@admin.action(description=_("Recompute engagement"), permissions=["recompute"])
def recompute_engagement_action(modeladmin, request, queryset):
    """For a customer queryset: queue a refresh of the selected customers' stored results."""
    _recompute(modeladmin, request, queryset.order_by().values_list("pk", flat=True))


@admin.action(description=_("Recompute engagement"), permissions=["recompute"])
def recompute_results_action(modeladmin, request, queryset):
    """For an EngagementResult (or StatusHistory) queryset: the same, by customer."""
    _recompute(modeladmin, request, queryset.order_by().values_list("customer_id", flat=True))
