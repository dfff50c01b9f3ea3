"""engagement's subscriptions to the customers domain events (connected in apps.ready()).

A write in `customers` that can change how a customer stands (an interaction, a
subscription, the customer record itself) marks the customer in the refresh outbox in its
own transaction (customers.outbox) and sends an event after commit. Every event wakes the
same thing: one drain of the outbox (engagement.tasks.enqueue_drain), which recomputes
everything marked and evaluates every alert rule for it, those watching events included
(a cancelled subscription, a support spike). Many writes, one drain: the queue stays short.
"""

from customers import events

from .tasks import enqueue_drain


def refresh_changed(sender, **kwargs):
    enqueue_drain()


def connect() -> None:
    # dispatch_uid: ready() may run twice (tests, reloader); one subscription each.
    for signal, uid in (
        (events.interactions_recorded, "refresh_on_interactions"),
        (events.subscriptions_changed, "refresh_on_subscriptions"),
        (events.customers_changed, "refresh_on_customers"),
    ):
        signal.connect(refresh_changed, dispatch_uid=f"engagement.{uid}")
