"""Admin pages for contacts, products, subscriptions and interactions."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm import permissions
from crm.admin import BigTableMixin
from customers import selectors, services
from customers.models import Contact, Customer, Interaction, Product, Subscription

from .base import CustomerScopedAdmin, HistoryRevertGuard, adopt, form_values


def _changed_values(form) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data}


class CustomerChildAdmin(CustomerScopedAdmin):
    """A record under one customer, written by whoever may edit that customer."""

    autocomplete_fields = ["customer"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            # The picker offers (and the POST accepts) only customers the user may write under.
            kwargs["queryset"] = self.customer_choices(request, Customer.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Contact)
class ContactAdmin(HistoryRevertGuard, CustomerChildAdmin, SimpleHistoryAdmin):
    list_display = ["last_name", "first_name", "customer", "title", "email", "phone", "is_primary"]
    list_select_related = ["customer"]
    list_filter = ["is_primary", "marketing_opt_in"]
    search_fields = ["last_name", "first_name", "email", "customer__name"]
    fields = [
        "customer",
        ("first_name", "last_name"),
        "title",
        ("email", "phone"),
        ("is_primary", "marketing_opt_in"),
        "external_id",
    ]

    def get_queryset(self, request):
        return selectors.contact_list()

    def save_model(self, request, obj, form, change):
        if change:
            services.contact_update(contact=obj, user=request.user, **_changed_values(form))
        else:
            values = form_values(form, exclude=["customer"])
            customer = form.cleaned_data["customer"]
            adopt(obj, services.contact_create(customer=customer, user=request.user, **values))

    def delete_model(self, request, obj):
        services.contact_delete(contact=obj)

    def delete_queryset(self, request, queryset):
        for contact in queryset:
            services.contact_delete(contact=contact)


@admin.register(Product)
class ProductAdmin(BigTableMixin, admin.ModelAdmin):
    list_display = ["name", "sku", "kind", "price", "currency", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "sku"]

    def save_model(self, request, obj, form, change):
        if change:
            services.product_update(product=obj, user=request.user, **_changed_values(form))
        else:
            adopt(obj, services.product_create(user=request.user, **form_values(form)))


@admin.register(Subscription)
class SubscriptionAdmin(HistoryRevertGuard, CustomerChildAdmin, SimpleHistoryAdmin):
    list_display = [
        "customer",
        "product",
        "status",
        "started_at",
        "ended_at",
        "amount",
        "interval",
    ]
    list_select_related = ["customer", "product"]
    list_filter = ["status", "interval", "product__kind", "product"]
    search_fields = ["customer__name", "product__name", "product__sku", "external_id"]
    date_hierarchy = "started_at"

    def get_queryset(self, request):
        return selectors.subscription_list()

    def save_model(self, request, obj, form, change):
        if change:
            services.subscription_update(
                subscription=obj, user=request.user, **_changed_values(form)
            )
        else:
            values = form_values(form, exclude=["customer"])
            customer = form.cleaned_data["customer"]
            adopt(obj, services.subscription_create(customer=customer, user=request.user, **values))

    def delete_model(self, request, obj):
        services.subscription_delete(subscription=obj)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            services.subscription_delete(subscription=subscription)


@admin.register(Interaction)
class InteractionAdmin(CustomerChildAdmin, admin.ModelAdmin):
    object_rule = staticmethod(permissions.can_log_interaction)

    list_display = [
        "occurred_at",
        "customer",
        "kind",
        "direction",
        "amount",
        "subject",
        "contact",
        "created_by",
    ]
    list_select_related = ["customer", "contact", "created_by"]
    list_filter = ["kind", "direction"]
    date_hierarchy = "occurred_at"
    search_fields = ["subject", "external_id", "customer__name"]
    autocomplete_fields = ["customer", "contact"]
    fields = [
        "customer",
        "contact",
        ("kind", "direction"),
        "occurred_at",
        "amount",
        "subject",
        "notes",
        "external_id",
        ("created_by", "created_at"),
    ]
    readonly_fields = ["created_by", "created_at"]

    def get_queryset(self, request):
        return selectors.interaction_list()

    def customer_choices(self, request, customers):
        return permissions.interaction_customers(request.user, customers)

    def _known_customer_id(self, request):
        """The customer of the form: ?customer= (the 'Log interaction' link) or the record's."""
        raw = request.GET.get("customer", "")
        if raw.isdigit():
            return int(raw)
        object_id = str(
            (request.resolver_match.kwargs if request.resolver_match else {}).get("object_id", "")
        )
        if object_id.isdigit():
            return (
                Interaction.objects.filter(pk=object_id)
                .values_list("customer_id", flat=True)
                .first()
            )
        return None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "contact":
            customer_id = self._known_customer_id(request)
            if customer_id is not None:
                # The customer is known: a plain list of its contacts beats a search box.
                kwargs["queryset"] = Contact.objects.filter(customer_id=customer_id)
                kwargs["widget"] = forms.Select()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("kind", Interaction.Kind.CALL)
        return initial

    def save_model(self, request, obj, form, change):
        if change:
            services.interaction_update(interaction=obj, user=request.user, **_changed_values(form))
        else:
            values = form_values(form, exclude=["customer"])
            customer = form.cleaned_data["customer"]
            adopt(obj, services.interaction_record(customer=customer, user=request.user, **values))

    def delete_model(self, request, obj):
        services.interaction_delete(interaction=obj)

    def delete_queryset(self, request, queryset):
        for interaction in queryset:
            services.interaction_delete(interaction=interaction)

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        customer_id = request.GET.get("customer__id__exact", "")
        if customer_id.isdigit():
            customer = Customer.objects.filter(pk=customer_id).first()
            if customer is not None:
                extra_context["title"] = _("Interactions of %(customer)s") % {"customer": customer}
        return super().changelist_view(request, extra_context)
