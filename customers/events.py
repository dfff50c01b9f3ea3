"""The domain events `customers` sends after a write commits, declared together.

This is the one seam between `customers` and the layers above it: `engagement`
subscribes in its AppConfig.ready(); `customers` never imports engagement.
Every event is sent only after the transaction commits (see `send_on_commit`), so
a subscriber always reads committed data and a rolled-back write sends nothing.

Arguments (all keyword, all lists of primary keys, never model instances):

- interactions_recorded(customer_ids): interactions were recorded, changed or
  deleted for these customers.
- subscriptions_changed(customer_ids, cancelled_customer_ids): subscriptions of
  these customers were created, changed or deleted; `cancelled_customer_ids` is the
  subset where a subscription became `cancelled` in this write.
- customers_changed(customer_ids): customers were created, edited, archived or
  restored (their `customer_since` or archive state may change how they stand).

Each event's `customer_ids` are also marked changed in the refresh outbox
(customers.outbox), inside the write's transaction: the event wakes a subscriber, the mark
says durably what is stale, so a subscriber that is never woken (a broker down) loses nothing.
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

from .outbox import customer_changes_mark

logger = logging.getLogger(__name__)

interactions_recorded = Signal()
subscriptions_changed = Signal()
customers_changed = Signal()


def send_on_commit(event: Signal, sender, **ids: Iterable[int]) -> None:
    """Mark the customers changed (in this transaction), then send `event` once the current
    transaction commits (at once outside one).

    A failing subscriber is logged, not raised: the write it reacts to is already
    committed and must not look failed to the user who made it.
    """
    payload = {name: sorted(set(values)) for name, values in ids.items()}
    customer_changes_mark(customer_ids=payload.get("customer_ids", ()))

    def send():
        for receiver, result in event.send_robust(sender=sender, **payload):
            if isinstance(result, Exception):
                logger.error(
                    "Subscriber %r of a customers event failed",
                    receiver,
                    exc_info=(type(result), result, result.__traceback__),
                )

    transaction.on_commit(send)
