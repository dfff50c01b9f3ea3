"""engagement's subscriptions to the customers domain events (connected in apps.ready()).

A write in `customers` that can change how a customer stands (an interaction, a
subscription, the customer record itself) queues a refresh of that customer's stored
result. The events arrive after commit; the task is still queued through
transaction.on_commit so a sender inside an outer transaction cannot leak it early.
"""

from customers import events

from .tasks import enqueue_refresh


def refresh_on_interactions(sender, *, customer_ids, **kwargs):
    enqueue_refresh(customer_ids)


def refresh_on_subscriptions(sender, *, customer_ids, **kwargs):
    enqueue_refresh(customer_ids)


def refresh_on_customers(sender, *, customer_ids, **kwargs):
    enqueue_refresh(customer_ids)


def connect() -> None:
    # dispatch_uid: ready() may run twice (tests, reloader); one subscription each.
    events.interactions_recorded.connect(
        refresh_on_interactions, dispatch_uid="engagement.refresh_on_interactions"
    )
    events.subscriptions_changed.connect(
        refresh_on_subscriptions, dispatch_uid="engagement.refresh_on_subscriptions"
    )
    events.customers_changed.connect(
        refresh_on_customers, dispatch_uid="engagement.refresh_on_customers"
    )
