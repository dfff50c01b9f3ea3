"""Reads of customers and what hangs off them, with their joins built once.

The admin, the API and tasks start from these querysets, so a list never issues a
query per row: every relation a list shows is joined here.
"""

from django.db.models import QuerySet

from .models import Contact, Customer, Interaction, Product, Subscription
from .search import search_words, word_matches


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
    """Narrow customers to those matching every word of `term`, ignoring case and accents.

    A word matches the customer's name, e-mail or external id, or the first name, last
    name or e-mail of one of its contacts ("zabka" finds "Żabka", "ÇAÍ" finds "Açaí"):
    a LIKE on the customer's folded search columns (customers.search), so no join, no
    duplicate rows, and the list can stop reading once it has a page of matches.
    Quoted phrases ("Acme Rockets") count as one word.
    """
    for word in search_words(term):
        customers = customers.filter(word_matches(word))
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
