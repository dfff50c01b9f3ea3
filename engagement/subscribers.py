"""engagement's subscriptions to the customers domain events (connected in apps.ready()).

A write in `customers` that can change how a customer stands (an interaction, a
subscription, the customer record itself) queues a refresh of that customer's stored
result, which evaluates every alert rule after. A cancelled subscription and recorded
support interactions also evaluate their own alert rules at once. The events arrive after
commit; tasks are still queued through transaction.on_commit so a sender inside an outer
transaction cannot leak them early.
"""

from customers import events

from .models.workflow import AlertRule
from .tasks import enqueue_evaluate, enqueue_refresh


def refresh_on_interactions(sender, *, customer_ids, **kwargs):
    enqueue_refresh(customer_ids)


def refresh_on_subscriptions(sender, *, customer_ids, **kwargs):
    enqueue_refresh(customer_ids)


def refresh_on_customers(sender, *, customer_ids, **kwargs):
    enqueue_refresh(customer_ids)


def evaluate_on_subscriptions(sender, *, cancelled_customer_ids=(), **kwargs):
    if cancelled_customer_ids:
        enqueue_evaluate(cancelled_customer_ids, [AlertRule.Trigger.SUBSCRIPTION_CANCELLED])


def evaluate_on_interactions(sender, *, customer_ids, **kwargs):
    enqueue_evaluate(customer_ids, [AlertRule.Trigger.SUPPORT_SPIKE])


def connect() -> None:
    # dispatch_uid: ready() may run twice (tests, reloader); one subscription each.
    for signal, receiver, uid in (
        (events.interactions_recorded, refresh_on_interactions, "refresh_on_interactions"),
        (events.subscriptions_changed, refresh_on_subscriptions, "refresh_on_subscriptions"),
        (events.customers_changed, refresh_on_customers, "refresh_on_customers"),
        (events.subscriptions_changed, evaluate_on_subscriptions, "evaluate_on_subscriptions"),
        (events.interactions_recorded, evaluate_on_interactions, "evaluate_on_interactions"),
    ):
        signal.connect(receiver, dispatch_uid=f"engagement.{uid}")
