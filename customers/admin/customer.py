"""The customer list and page: the sales reps' daily tool."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from crm import permissions
from crm.admin import BigTableMixin, NullsLast
from customers import selectors, services
from customers.models import Contact, Customer, Interaction, Subscription
from engagement.admin.display import status_badge, type_badges
from engagement.admin.engine.actions import RecomputePermissionMixin, recompute_engagement_action
from engagement.admin.engine.panel import customer_panel_context
from engagement.admin.engine.prediction_panel import prediction_panel_context
from engagement.admin.segments import SegmentListFilter
from engagement.models.predictions import CustomerPrediction
from engagement.models.results import EngagementResult

from .base import (
    HistoryRevertGuard,
    ParentScopedInline,
    adopt,
    form_values,
    save_formset_through,
)
from .filters import (
    ArchivedFilter,
    EngagementStatusFilter,
    EngagementTypeFilter,
    IndexedValuesFilter,
    OwnerFilter,
    PAliveFilter,
    ReactivatedFilter,
)
from .paging import CappedChangeList, CappedCountPaginator, page_number

LATEST_INTERACTIONS = 20

# What the list's columns show (list_display, the archived column, the log link's owner
# check): a page reads these, not the customer's search texts and the dozens of figures
# of its engagement result. A column that shows another field must add it here, or each
# row loads it with a query of its own (the list's query-count tests would fail).
LIST_FIELDS = [
    "name",
    "kind",
    "owner__username",
    "country",
    "industry",
    "archived_at",
    "engagement__status",
    "engagement__reactivated",
    *(f"engagement__{field}" for field in EngagementResult.TYPE_FIELDS.values()),
    "engagement__score",
    "engagement__last_activity_on",
    "prediction__p_alive",
    "prediction__predicted_clv_365",
]


def _engagement(customer) -> EngagementResult | None:
    # Joined by get_queryset(); missing until the first recompute.
    try:
        return customer.engagement
    except EngagementResult.DoesNotExist:
        return None


def _prediction(customer) -> CustomerPrediction | None:
    # Joined by get_queryset(); missing until the first fit.
    try:
        return customer.prediction
    except CustomerPrediction.DoesNotExist:
        return None


def _log_interaction_column(user):
    """A 'Log' link on the rows where this user may log an interaction (no query per row)."""
    url = reverse("admin:customers_interaction_add")

    link = format_html('<a href="{}?customer={{}}">{}</a>', url, _("Log"))

    # The rule looks at the customer's owner only: asked once per owner on the page.
    allowed_by_owner = {}

    @admin.display(description="")
    def log_interaction(customer):
        allowed = allowed_by_owner.get(customer.owner_id)
        if allowed is None:
            allowed = permissions.can_log_interaction(user, customer)
            allowed_by_owner[customer.owner_id] = allowed
        return mark_safe(link.format(int(customer.pk))) if allowed else ""

    return log_interaction


class ContactInline(ParentScopedInline):
    model = Contact
    fields = [
        "first_name",
        "last_name",
        "title",
        "email",
        "phone",
        "is_primary",
        "marketing_opt_in",
    ]
    show_change_link = True
    # Narrow inputs keep the row within the page.
    formfield_overrides = {
        models.CharField: {"widget": forms.TextInput(attrs={"size": 16})},
        models.EmailField: {"widget": forms.EmailInput(attrs={"size": 24})},
    }


class SubscriptionInline(ParentScopedInline):
    model = Subscription
    fields = ["product", "status", "started_at", "ended_at", "amount", "interval"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "customer")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        product = formset.form.base_fields.get("product")
        if product is not None:
            # One query for the product list of every row, not one per row.
            choices = list(product.choices)
            product.choices = choices
            product.widget.choices = choices
            if hasattr(product.widget, "widget"):  # the admin's related-field wrapper
                product.widget.widget.choices = choices
        return formset


class LatestInteractionsFormSet(BaseInlineFormSet):
    """Only the latest interactions: a long-lived customer has thousands."""

    def get_queryset(self):
        if not hasattr(self, "_latest"):
            self._latest = (
                super().get_queryset().order_by("-occurred_at", "-id")[:LATEST_INTERACTIONS]
            )
            self._queryset = self._latest
        return self._latest


class LatestInteractionInline(admin.TabularInline):
    """Read-only; the full history is one click away (the link under this table)."""

    model = Interaction
    formset = LatestInteractionsFormSet
    verbose_name = _("latest interaction")
    verbose_name_plural = _("latest interactions (newest first)")
    fields = ["occurred_at", "kind", "direction", "amount", "subject", "contact", "created_by"]
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contact", "created_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(
    RecomputePermissionMixin, HistoryRevertGuard, BigTableMixin, SimpleHistoryAdmin
):
    list_display = [
        "name",
        "kind",
        "owner",
        "country",
        "industry",
        "engagement_status",
        "engagement_types",
        "engagement_score",
        "last_activity",
        "p_alive",
        "predicted_clv",
    ]
    list_select_related = ["owner", "engagement", "prediction"]
    list_filter = [
        SegmentListFilter,
        OwnerFilter,
        EngagementStatusFilter,
        EngagementTypeFilter,
        ReactivatedFilter,
        PAliveFilter,
        "kind",
        ("country", IndexedValuesFilter),
        ("industry", IndexedValuesFilter),
        ArchivedFilter,
    ]
    # The search itself is selectors.customer_search (contacts matched by a subquery, so
    # no duplicate rows and no DISTINCT); these fields enable the search box and pickers.
    search_fields = ["name", "email", "external_id"]
    search_help_text = _("Name, e-mail, external id, or a contact's name or e-mail.")
    fieldsets = [
        (None, {"fields": ["name", "kind", "owner", "customer_since"]}),
        (_("Contact details"), {"fields": ["email", "phone", "country", "industry"]}),
        (_("Record"), {"fields": ["external_id", "created_at", "updated_at", "archived_at"]}),
    ]
    readonly_fields = ["created_at", "updated_at", "archived_at"]
    inlines = [ContactInline, SubscriptionInline, LatestInteractionInline]
    actions = ["archive_customers", "restore_customers", recompute_engagement_action]
    change_form_template = "admin/customers/customer/change_form.html"

    def get_queryset(self, request):
        # Archived ones stay reachable (their page, the archived filter); the
        # ArchivedFilter hides them from the default list.
        return selectors.customer_list(include_archived=True, related=["engagement", "prediction"])

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if request.GET.get(ArchivedFilter.parameter_name):
            display.append("archived_at")
        if request.user.has_perm("customers.add_interaction"):
            display.append(_log_interaction_column(request.user))
        return display

    # Permissions ---------------------------------------------------------------------------

    def has_add_permission(self, request):
        return super().has_add_permission(request) and permissions.can_create_customer(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and permissions.can_edit_customer(
            request.user, obj
        )

    def has_delete_permission(self, request, obj=None):
        # Customers are never deleted here: crm_admin archives them (an action).
        return False

    def has_archive_permission(self, request):
        return permissions.can_archive_customer(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            kwargs["queryset"] = (
                get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if permissions.is_sales_rep(request.user):
            initial.setdefault("owner", request.user.pk)
        return initial

    # The list at 100,000 customers: capped counts, pages read by id (customers.admin.paging).

    def get_changelist(self, request, **kwargs):
        return CappedChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return CappedCountPaginator(
            queryset,
            per_page,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
            page=page_number(request),
            fetch=lambda ids: self.get_queryset(request).filter(pk__in=ids).only(*LIST_FIELDS),
        )

    def get_search_results(self, request, queryset, search_term):
        queryset = selectors.customer_search(queryset, term=search_term)
        if request.resolver_match and request.resolver_match.url_name == "autocomplete":
            queryset = self._autocomplete_choices(request, queryset)
        return queryset, False

    def _autocomplete_choices(self, request, queryset):
        """Customer pickers of other forms offer only customers the user may write under."""
        if request.GET.get("app_label") != "customers" or request.GET.get("field_name") != (
            "customer"
        ):
            return queryset
        queryset = queryset.filter(archived_at__isnull=True)
        if request.GET.get("model_name") == "interaction":
            return permissions.interaction_customers(request.user, queryset)
        return permissions.editable_customers(request.user, queryset)

    # Saving through services ---------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            values = {name: form.cleaned_data[name] for name in form.changed_data}
            services.customer_update(customer=obj, user=request.user, **values)
        else:
            adopt(obj, services.customer_create(user=request.user, **form_values(form)))

    def save_formset(self, request, form, formset, change):
        if formset.model is Contact:
            save_formset_through(
                request,
                formset,
                create=lambda parent, user, values: services.contact_create(
                    customer=parent, user=user, **values
                ),
                update=lambda contact, user, values: services.contact_update(
                    contact=contact, user=user, **values
                ),
            )
        elif formset.model is Subscription:
            save_formset_through(
                request,
                formset,
                create=lambda parent, user, values: services.subscription_create(
                    customer=parent, user=user, **values
                ),
                update=lambda sub, user, values: services.subscription_update(
                    subscription=sub, user=user, **values
                ),
                delete=lambda sub: services.subscription_delete(subscription=sub),
            )
        else:
            # The latest-interactions inline is read-only: nothing to save.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # Actions -------------------------------------------------------------------------------

    @admin.action(description=_("Archive selected customers"), permissions=["archive"])
    def archive_customers(self, request, queryset):
        count = 0
        for customer in queryset.filter(archived_at__isnull=True):
            services.customer_archive(customer=customer, user=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("Archived %d customer.", "Archived %d customers.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Restore selected customers"), permissions=["archive"])
    def restore_customers(self, request, queryset):
        count = 0
        for customer in queryset.filter(archived_at__isnull=False):
            services.customer_restore(customer=customer, user=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("Restored %d customer.", "Restored %d customers.", count) % count,
            messages.SUCCESS,
        )

    # Engagement columns (from the joined EngagementResult) ---------------------------------

    @admin.display(description=_("status"), ordering="engagement__status")
    def engagement_status(self, customer):
        result = _engagement(customer)
        if result is None:
            return "-"
        return status_badge(result.status, reactivated=result.reactivated)

    @admin.display(description=_("types"))
    def engagement_types(self, customer):
        result = _engagement(customer)
        return type_badges(result.types if result else [])

    def action_checkbox(self, obj):
        # Django's markup, formatted here rather than by a form widget template per row.
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )

    @admin.display(description=_("score"), ordering="engagement__score")
    def engagement_score(self, customer):
        result = _engagement(customer)
        return "-" if result is None else result.score

    @admin.display(description=_("last activity"), ordering="engagement__last_activity_on")
    def last_activity(self, customer):
        result = _engagement(customer)
        return (result.last_activity_on if result else None) or "-"

    # Prediction columns (from the joined CustomerPrediction) -------------------------------

    @admin.display(description=_("P(alive)"), ordering=NullsLast("prediction__p_alive"))
    def p_alive(self, customer):
        prediction = _prediction(customer)
        if prediction is None or prediction.p_alive is None:
            return "-"
        return f"{prediction.p_alive:.2f}"

    @admin.display(
        description=_("predicted CLV 365 d"), ordering=NullsLast("prediction__predicted_clv_365")
    )
    def predicted_clv(self, customer):
        prediction = _prediction(customer)
        if prediction is None or prediction.predicted_clv_365 is None:
            return "-"
        return f"{prediction.predicted_clv_365:,.2f}"

    # The customer page ---------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        customer = self.get_object(request, object_id)
        if customer is not None:
            extra_context.update(self._page_context(request, customer))
        return super().change_view(request, object_id, form_url, extra_context)

    def _page_context(self, request, customer):
        context = {
            "can_log_interaction": permissions.can_log_interaction(request.user, customer)
            and request.user.has_perm("customers.add_interaction"),
            "log_interaction_url": (
                f"{reverse('admin:customers_interaction_add')}?customer={customer.pk}"
            ),
            "all_interactions_url": (
                f"{reverse('admin:customers_interaction_changelist')}"
                f"?customer__id__exact={customer.pk}"
            ),
            "interaction_count": customer.interactions.count(),
        }
        context["engagement_panel"] = customer_panel_context(customer)
        context["prediction_panel"] = prediction_panel_context(customer)
        return context
