"""May this user do X to this object? The permission matrix, stated once (see
README.md, "Roles").

The admin (has_*_permission) and the API (permission classes) both ask these functions.
Superusers count as crm_admin.
"""

from django.db.models import Q, QuerySet

from .roles import CRM_ADMIN, CUSTOMER_SUCCESS, ROLES, SALES_REP


def roles_of(user) -> set[str]:
    if not user or not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return {CRM_ADMIN}
    cached = getattr(user, "_crm_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._crm_roles = cached
    return cached


def is_admin(user) -> bool:
    return CRM_ADMIN in roles_of(user)


def is_customer_success(user) -> bool:
    return CUSTOMER_SUCCESS in roles_of(user)


def is_sales_rep(user) -> bool:
    return SALES_REP in roles_of(user)


def can_read(user) -> bool:
    """Every role reads customers, contacts, subscriptions, interactions and engagement."""
    return bool(roles_of(user))


def can_create_customer(user) -> bool:
    return is_admin(user) or is_sales_rep(user)


def _owns(user, customer) -> bool:
    return customer is not None and customer.owner_id == user.pk


def can_edit_customer(user, customer=None) -> bool:
    """Edit a customer, its contacts and subscriptions. Without a customer: edit any at all."""
    if is_admin(user):
        return True
    if is_sales_rep(user):
        return customer is None or _owns(user, customer)
    return False


def can_log_interaction(user, customer=None) -> bool:
    if is_admin(user) or is_customer_success(user):
        return True
    if is_sales_rep(user):
        return customer is None or _owns(user, customer)
    return False


def can_archive_customer(user) -> bool:
    return is_admin(user)


def can_delete_records(user) -> bool:
    """Hard-delete a contact, subscription or interaction (the history keeps a copy)."""
    return is_admin(user)


def can_manage_configuration(user) -> bool:
    """Engagement rules, playbooks, alert rules, recompute: crm_admin only (others read)."""
    return is_admin(user)


def can_manage_workflow(user) -> bool:
    """Full access to action plans, steps and alerts."""
    return is_admin(user) or is_customer_success(user)


def can_view_workflow_of(user, customer) -> bool:
    """Plans and alerts of a customer: full roles see all, reps see their own customers'."""
    return can_manage_workflow(user) or (is_sales_rep(user) and _owns(user, customer))


def can_complete_step(user, step) -> bool:
    return can_manage_workflow(user) or (is_sales_rep(user) and step.assignee_id == user.pk)


def editable_customers(user, customers: QuerySet) -> QuerySet:
    """Narrow a customer queryset to those the user may edit."""
    if is_admin(user):
        return customers
    if is_sales_rep(user):
        return customers.filter(owner=user)
    return customers.none()


def interaction_customers(user, customers: QuerySet) -> QuerySet:
    """Narrow a customer queryset to those the user may log interactions on."""
    if is_admin(user) or is_customer_success(user):
        return customers
    if is_sales_rep(user):
        return customers.filter(owner=user)
    return customers.none()


def visible_workflow(user, queryset: QuerySet, customer_field: str = "customer") -> QuerySet:
    """Narrow plans or alerts (steps: customer_field='plan__customer') to what the user sees."""
    if can_manage_workflow(user):
        return queryset
    if is_sales_rep(user):
        return queryset.filter(
            Q(**{f"{customer_field}__owner": user})
            | Q(**({"assignee": user} if hasattr(queryset.model, "assignee") else {"pk__in": []}))
        )
    return queryset.none()




def can_create_segment(user) -> bool:
    """Every role saves its own segments."""
    return can_read(user)


def can_edit_segment(user, segment=None) -> bool:
    """Change or delete a saved segment: its owner, or crm_admin. Without one: any own."""
    if is_admin(user):
        return True
    return can_create_segment(user) and (segment is None or segment.owner_id == user.pk)


def visible_segments(user, segments: QuerySet) -> QuerySet:
    """The segments a user reads: crm_admin all, others their own and the shared ones."""
    if is_admin(user):
        return segments
    if can_read(user):
        return segments.filter(Q(owner=user) | Q(is_shared=True))
    return segments.none()


def can_start_campaign(user) -> bool:
    return is_admin(user) or is_customer_success(user)


def can_import(user) -> bool:
    """Importing writes many customers' records at once, past any owner: crm_admin only."""
    return is_admin(user)


def can_export(user) -> bool:
    """Exporting a list is reading it: every role that reads may take its list away."""
    return can_read(user)






def can_edit_products(user) -> bool:
    """The product catalogue (names, SKUs, prices) is shared configuration: crm_admin only."""
    return is_admin(user)


