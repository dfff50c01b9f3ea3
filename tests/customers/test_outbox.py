"""The refresh outbox: marks written with the write, claimed by one refresh at a time."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from customers.models import ChangedCustomer
from customers.outbox import (
    customer_changes_backlog,
    customer_changes_claim,
    customer_changes_clear,
    customer_changes_clear_covered,
    customer_changes_cover,
    customer_changes_mark,
)


def _marks():
    return {m.customer_id: m for m in ChangedCustomer.objects.all()}


@pytest.mark.django_db
def test_a_new_write_keeps_the_waiting_time_and_lifts_a_cover():
    customer_changes_mark(customer_ids=[3, 1, 3])
    ChangedCustomer.objects.update(
        waiting_since=timezone.now() - dt.timedelta(minutes=5),
        changed_at=timezone.now() - dt.timedelta(minutes=5),
    )
    assert customer_changes_cover(token=7) == 2

    customer_changes_mark(customer_ids=[1])

    marks = _marks()
    assert set(marks) == {1, 3}
    assert marks[1].covered_by is None
    assert marks[3].covered_by == 7
    assert marks[1].changed_at > marks[1].waiting_since  # the first write's time is kept
    assert customer_changes_clear_covered(token=7) == 1
    assert set(_marks()) == {1}
    count, since = customer_changes_backlog()
    assert count == 1
    assert timezone.now() - since > dt.timedelta(minutes=4)


@pytest.mark.django_db
def test_many_marks_in_one_write_fit_the_parameter_limit():
    customer_changes_mark(customer_ids=range(1, 2_501))
    assert customer_changes_backlog()[0] == 2_500


@pytest.mark.django_db(transaction=True)
def test_a_claim_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        customer_changes_claim(limit=10)


@pytest.mark.django_db
def test_claim_and_clear_take_the_lowest_ids_first():
    customer_changes_mark(customer_ids=[5, 2, 9])
    with transaction.atomic():
        claimed = customer_changes_claim(limit=2)
        customer_changes_clear(customer_ids=claimed)
    assert claimed == [2, 5]
    assert set(_marks()) == {9}


def _in_thread(target):
    errors = []

    def run():
        try:
            target()
        except Exception as error:  # surfaced in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@pytest.mark.django_db(transaction=True)
def test_postgresql_two_refreshes_claim_disjoint_marks_and_a_write_waits_for_the_refresh():
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED: PostgreSQL (SQLite runs one writer at a time)")
    customer_changes_mark(customer_ids=[1, 2, 3])
    first_claimed = threading.Event()
    release = threading.Event()
    seen = {}

    def refresh():
        with transaction.atomic():
            seen["first"] = customer_changes_claim(limit=2)
            first_claimed.set()
            release.wait(10)
            customer_changes_clear(customer_ids=seen["first"])

    first, errors = _in_thread(refresh)
    assert first_claimed.wait(10)

    with transaction.atomic():  # a second refresh meanwhile: skips the locked marks
        seen["second"] = customer_changes_claim(limit=10)

    def write():
        with transaction.atomic():
            customer_changes_mark(customer_ids=[1])
        seen["written"] = time.monotonic()

    writer, write_errors = _in_thread(write)
    time.sleep(0.5)
    assert "written" not in seen  # waits for the refresh that holds customer 1
    released = time.monotonic()
    release.set()
    first.join(10)
    writer.join(10)
    assert not errors
    assert not write_errors
    assert seen["first"] == [1, 2]
    assert seen["second"] == [3]
    assert seen["written"] >= released
    # Marked again after the refresh committed: its change may not have been read.
    assert set(_marks()) == {1, 3}
