"""What every customers admin page shares: object permissions and service-backed saving
(the big-table paginator both apps share is in crm/admin.py)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.forms.models import construct_instance
from simple_history.models import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from crm import permissions
from crm.admin import BigTableMixin


class CustomerScopedAdmin(BigTableMixin):
    """Model permissions (from the role groups) decide what a role sees at all;
    `object_rule` from crm.permissions decides whether this user may change this record.
    A record the user may not change opens read-only, and a POST to it answers 403."""

    object_rule = staticmethod(permissions.can_edit_customer)

    def customer_of(self, obj):
        return obj.customer

    def _allowed(self, request, obj):
        return self.object_rule(request.user, None if obj is None else self.customer_of(obj))

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self.object_rule(request.user)

    def may_change(self, request, obj):
        return self._allowed(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Hard deletes: crm_admin only, whoever owns the customer (crm.permissions).
        return super().has_delete_permission(request, obj) and permissions.can_delete_records(
            request.user
        )

    def customer_choices(self, request, customers):
        """Customers this user may attach a new record to (the add form's choices)."""
        return permissions.editable_customers(request.user, customers)


def form_values(form, *, exclude=()) -> dict:
    """The model fields a (model) form edited, to hand to a service."""
    skip = {"id", "DELETE", *exclude}
    return {name: value for name, value in form.cleaned_data.items() if name not in skip}


def adopt(obj, created) -> None:
    """Make the admin's unsaved `obj` the record a create service just made.

    The admin keeps using its own instance after save_model (log entry, redirect).
    """
    obj.pk = created.pk
    obj._state.adding = False
    obj.refresh_from_db()


def save_formset_through(request, formset, *, create, update, delete=None) -> None:
    """Save an inline formset row by row through services instead of formset.save().

    create(parent, user, values), update(instance, user, values), delete(instance).
    Fills new_objects/changed_objects/deleted_objects, which the admin's change
    message reads.
    """
    parent = formset.instance
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.forms:
        # View-only rows never report a change (the admin's inline form sees to that).
        if not hasattr(form, "cleaned_data") or not form.has_changed():
            continue
        instance = form.instance
        if formset.can_delete and formset._should_delete_form(form):
            if instance.pk:
                (delete or (lambda obj: obj.delete()))(instance)
                formset.deleted_objects.append(instance)
            continue
        values = form_values(form, exclude=[formset.fk.name])
        if instance.pk:
            update(instance, request.user, values)
            formset.changed_objects.append((instance, form.changed_data))
        else:
            created = create(parent, request.user, values)
            form.instance = created
            formset.new_objects.append(created)


class ParentScopedInline(admin.TabularInline):
    """An inline under a customer: editable when the user may edit that customer."""

    extra = 0

    def _allowed(self, request, obj):
        user = request.user
        if obj is None:
            return permissions.can_create_customer(user)
        return permissions.can_edit_customer(user, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._allowed(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._allowed(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._allowed(request, obj)


class HistoryRevertGuard:
    """Reverting a record from its history follows the rules of editing it.

    django-simple-history saves a "revert" POST for anyone who may view the history, and
    saves the old version whole: fields the form leaves out (read-only for this user, such
    as `archived_at`: archiving is not an edit) would go back too. Here only who may change
    the current record reverts it, and only the fields the change form lets them edit are
    taken from the old version; everything else stays as it is now.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            current = self.get_object(request, object_id)
            if current is None or not self.has_change_permission(request, current):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_form(self, request, form, change):
        if getattr(form.instance, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None) is None:
            return super().save_form(request, form, change)
        # A revert: the form was built on the old version; apply its fields to the record
        # as it is now, never the old version's other fields.
        current = self.get_object(request, str(form.instance.pk))
        if current is None:
            raise PermissionDenied
        form.instance = construct_instance(form, current, form._meta.fields, form._meta.exclude)
        return super().save_form(request, form, change)

    def revert_disabled(self, request, obj=None):
        current = self.get_object(request, obj.pk) if obj is not None else None
        return super().revert_disabled(request, obj) or not self.has_change_permission(
            request, current
        )
