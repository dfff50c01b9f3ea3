"""Alert rules that watch customers events (connected in apps.ready()).

A cancelled subscription and recorded support interactions are evaluated at once for the
customers concerned; the recompute that the same events queue evaluates every rule after.
"""

from customers import events

from .models.workflow import AlertRule
from .workflow_tasks import enqueue_evaluate


def evaluate_on_subscriptions(sender, *, cancelled_customer_ids=(), **kwargs):
    if cancelled_customer_ids:
        enqueue_evaluate(cancelled_customer_ids, [AlertRule.Trigger.SUBSCRIPTION_CANCELLED])


def evaluate_on_interactions(sender, *, customer_ids, **kwargs):
    enqueue_evaluate(customer_ids, [AlertRule.Trigger.SUPPORT_SPIKE])


def connect() -> None:
    events.subscriptions_changed.connect(
        evaluate_on_subscriptions, dispatch_uid="engagement.evaluate_on_subscriptions"
    )
    events.interactions_recorded.connect(
        evaluate_on_interactions, dispatch_uid="engagement.evaluate_on_interactions"
    )
