"""DRF permission classes: each one asks crm.permissions (the one permission matrix)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from crm import permissions


class IsCRMUser(BasePermission):
    """Any CRM role reads; writes are decided by the view's own class below."""

    message = "You need a CRM role (sales rep, customer success or CRM admin)."

    def has_permission(self, request, view):
        return permissions.can_read(request.user)


class CustomerPermission(IsCRMUser):
    """Customers: create (rep, admin), edit (owner rep, admin), DELETE archives (admin)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        if view.action == "create":
            return permissions.can_create_customer(request.user)
        if view.action in ("destroy", "restore"):
            return permissions.can_archive_customer(request.user)
        return permissions.can_edit_customer(request.user)

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        if view.action in ("destroy", "restore"):
            return permissions.can_archive_customer(request.user)
        return permissions.can_edit_customer(request.user, obj)


class _CustomerRecordRule(IsCRMUser):
    """A record under a customer: written by whoever `rule(user, customer)` lets write there;
    a DELETE is a hard delete, crm_admin's only."""

    rule = staticmethod(permissions.can_edit_customer)

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method == "DELETE":
            return permissions.can_delete_records(request.user)
        return request.method in SAFE_METHODS or self.rule(request.user)

    def has_object_permission(self, request, view, obj):
        if request.method == "DELETE":
            return permissions.can_delete_records(request.user)
        return request.method in SAFE_METHODS or self.rule(request.user, obj.customer)


class CustomerRecordPermission(_CustomerRecordRule):
    """Contacts and subscriptions: written by whoever may edit their customer."""


class InteractionPermission(_CustomerRecordRule):
    """Interactions: logged by whoever may log on their customer."""

    rule = staticmethod(permissions.can_log_interaction)


class ProductPermission(IsCRMUser):
    """The product catalogue: everybody reads, crm_admin writes."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or permissions.can_edit_products(request.user)


class ConfigurationPermission(IsCRMUser):
    """Engagement rules and recompute: everybody reads, crm_admin changes and triggers."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or permissions.can_manage_configuration(request.user)
