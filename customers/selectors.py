"""Reads of customers and what hangs off them, with their joins built once.

The admin, the API and tasks start from these querysets, so a list never issues a
query per row: every relation a list shows is joined here.
"""

from django.db.models import Q, QuerySet
from django.utils.text import smart_split, unescape_string_literal

from .models import Contact, Customer, Interaction, Product, Subscription


def customer_list(*, include_archived: bool = False, related=()) -> QuerySet[Customer]:
    """Customers with their owner joined; archived ones hidden by default.

    `related`: more one-to-one relations to join, named by the face that shows them (the
    layers above hang their own records on a customer; this module does not know them).
    """
    customers = Customer.objects.select_related("owner", *related)
    return customers if include_archived else customers.unarchived()


def customer_get(*, pk, include_archived: bool = True, related=()) -> Customer:
    """One customer by id (raises Customer.DoesNotExist). Archived ones are found by default."""
    return customer_list(include_archived=include_archived, related=related).get(pk=pk)


def customer_search(customers: QuerySet[Customer], *, term: str) -> QuerySet[Customer]:
    """Narrow customers to those matching every word of `term`.

    A word matches the customer's name, e-mail or external id, or the first name, last
    name or e-mail of one of its contacts. The matching ids come from a UNION of the two
    tables (not an OR across a join), so each side can use its own indexes (trigram
    indexes on PostgreSQL) and a customer with several matching contacts is listed once.
    Quoted phrases ("Acme Rockets") count as one word.
    """
    for word in smart_split(term or ""):
        if word[0] in "\"'" and word[0] == word[-1] and len(word) > 1:
            word = unescape_string_literal(word)
        if not word:
            continue
        by_customer = Customer.objects.filter(
            Q(name__icontains=word) | Q(email__icontains=word) | Q(external_id__icontains=word)
        )
        by_contact = Contact.objects.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
        matching = (
            by_customer.order_by()
            .values("pk")
            .union(by_contact.order_by().values("customer_id"), all=True)
        )
        customers = customers.filter(pk__in=matching)
    return customers


def contact_list(*, customer: Customer | int | None = None) -> QuerySet[Contact]:
    contacts = Contact.objects.select_related("customer")
    return contacts if customer is None else contacts.filter(customer=customer)


def product_list(*, active_only: bool = False) -> QuerySet[Product]:
    products = Product.objects.all()
    return products.filter(is_active=True) if active_only else products


def subscription_list(*, customer: Customer | int | None = None) -> QuerySet[Subscription]:
    subscriptions = Subscription.objects.select_related("customer", "product")
    return subscriptions if customer is None else subscriptions.filter(customer=customer)


def interaction_list(*, customer: Customer | int | None = None) -> QuerySet[Interaction]:
    """Interactions newest first, with customer, contact and author joined."""
    interactions = Interaction.objects.select_related("customer", "contact", "created_by")
    return interactions if customer is None else interactions.filter(customer=customer)


def interactions_latest(*, customer: Customer | int, limit: int = 20) -> QuerySet[Interaction]:
    """The customer's latest interactions, newest first (bounded, for the customer page)."""
    return interaction_list(customer=customer).order_by("-occurred_at", "-id")[:limit]
