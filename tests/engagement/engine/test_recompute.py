"""The stored recompute: results, history, batches, the lock, the preview, the command."""

import datetime as dt
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import ProtectedError
from django.utils import timezone

from customers.models import Interaction, Product, Subscription
from engagement.engine import recompute
from engagement.engine.live import engagement_evaluate
from engagement.engine.locks import RecomputeBusy, recompute_lock
from engagement.engine.recompute import engagement_preview, engagement_recompute
from engagement.engine.rule_sets import rule_set_ensure
from engagement.engine.rules import Rules
from engagement.models import EngagementResult, StatusHistory, TypeChange
from tests.engagement.snapshots import clear_engagement, varied_base
from tests.factories import CustomerFactory, InteractionFactory, ProductFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

D = dt.date(2026, 6, 30)


def at(day: dt.date, hour=12, minute=0) -> dt.datetime:
    """An aware instant on local `day`."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def ago(n):
    return D - dt.timedelta(days=n)


def customer(**kw):
    kw.setdefault("customer_since", ago(1000))
    return CustomerFactory(**kw)


def event(c, days, kind="login", direction="inbound", amount=None, hour=12):
    return InteractionFactory(
        customer=c, kind=kind, direction=direction, occurred_at=at(ago(days), hour), amount=amount
    )


def stored(c) -> EngagementResult:
    return EngagementResult.objects.get(customer=c)


@pytest.mark.parametrize(
    ("days", "expected"), [(30, "active"), (31, "at_risk"), (90, "inactive"), (91, "churned")]
)
def test_stored_status_at_the_window_edges(days, expected):
    c = customer()
    event(c, days)
    engagement_recompute(as_of=D)
    assert stored(c).status == expected
    assert stored(c).days_since_activity == days


def test_future_events_do_not_count():
    c = customer()
    event(c, 40)
    event(c, -1)
    engagement_recompute(as_of=D)
    assert stored(c).status == "at_risk"
    assert stored(c).last_activity_on == ago(40)


@pytest.mark.parametrize(
    ("kind", "direction", "counts"),
    [
        ("email", "outbound", False),
        ("email", "inbound", True),
        ("call", "outbound", False),
        ("chat", "inbound", True),
        ("social", "outbound", False),
        ("meeting", "outbound", True),
        ("visit", "outbound", True),
        ("note", "outbound", False),
        ("webinar", "inbound", True),
    ],
)
def test_what_counts_as_activity(kind, direction, counts):
    c = customer()
    event(c, 100)
    event(c, 5, kind=kind, direction=direction)
    engagement_recompute(as_of=D)
    assert (stored(c).status == "active") is counts


def test_refund_is_not_activity_and_lowers_revenue():
    c = customer()
    event(c, 100, kind="purchase", amount=Decimal("100.00"))
    event(c, 5, kind="refund", amount=Decimal("30.50"))
    engagement_recompute(as_of=D)
    result = stored(c)
    assert result.status == "churned"
    assert result.revenue_365 == Decimal("69.50")


def test_local_dates_decide_windows_in_a_non_utc_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    c = customer()
    # 23:30 local on D-30 is already D-29 in UTC; 23:30 local on D-31 is D-30 in UTC.
    event(c, 31, hour=23)
    engagement_recompute(as_of=D)
    assert stored(c).status == "at_risk"
    assert engagement_evaluate(customer_id=c.pk, as_of=D).status == "at_risk"
    event(c, 30, hour=23)
    engagement_recompute(as_of=D)
    assert stored(c).status == "active"
    assert stored(c).last_activity_on == ago(30)


def test_subscriptions_live_paused_trial_and_ended():
    product = ProductFactory(kind=Product.Kind.PRODUCT)
    service = ProductFactory(kind=Product.Kind.SERVICE)
    live, paused, trial, ended, later = (customer() for _ in range(5))
    SubscriptionFactory(customer=live, product=product, started_at=ago(10))
    SubscriptionFactory(customer=paused, product=product, status="paused", started_at=ago(10))
    SubscriptionFactory(customer=trial, product=service, status="trial", started_at=ago(10))
    SubscriptionFactory(
        customer=ended, product=service, status="cancelled", started_at=ago(100), ended_at=D
    )
    SubscriptionFactory(customer=later, product=service, started_at=D + dt.timedelta(days=1))
    engagement_recompute(as_of=D)
    assert stored(live).type_product_subscriber
    assert stored(live).status == "passive"
    for c in (paused, trial, ended, later):
        assert not stored(c).type_product_subscriber
        assert not stored(c).type_service_subscriber
        assert stored(c).status == "churned"
    from engagement.engine.rule_sets import rule_set_update

    rule_set_update(count_trials_as_subscribers=True)
    engagement_recompute(as_of=D)
    assert stored(trial).type_service_subscriber


def test_history_rows_for_status_changes_and_type_changes_only():
    c = customer()
    event(c, 40, kind="purchase", amount=Decimal("10"))
    first = engagement_recompute(as_of=D)
    assert first.moves == {"->at_risk": 1}
    assert list(StatusHistory.objects.values_list("from_status", "to_status")) == [("", "at_risk")]
    again = engagement_recompute(as_of=D)
    assert (again.changed, again.moves) == (0, {})
    assert StatusHistory.objects.count() == 1

    event(c, 1, kind="purchase", amount=Decimal("10"))
    summary = engagement_recompute(as_of=D)
    assert summary.moves == {"at_risk->active": 1}
    assert summary.type_moves == {"+recent_buyer": 1}
    assert summary.by_status == {"active": 1}
    assert StatusHistory.objects.latest("id").to_status == "active"
    assert list(TypeChange.objects.values_list("customer_type", "gained")) == [
        ("recent_buyer", True)
    ]


def _rows_of(model, *fields):
    return sorted(model.objects.values_list(*fields))


# A result's columns that a partial run must store as a full one does: RFM scores are ranked
# across the whole base by a full run alone, and computed_at is the clock's.
COMPARED = [
    f.attname
    for f in EngagementResult._meta.concrete_fields
    if f.attname not in ("r_score", "f_score", "m_score", "computed_at")
]


def test_a_first_recompute_stores_one_history_row_per_customer_and_a_gain_per_type_held(
    django_user_model,
):
    base = varied_base(12, owner=django_user_model.objects.create_user("owner"), today=D)
    engagement_recompute(as_of=D, batch_size=5)  # three batches, every row new
    results = {r.customer_id: r for r in EngagementResult.objects.all()}
    assert sorted(results) == sorted(c.pk for c in base)
    assert _rows_of(StatusHistory, "customer_id", "from_status", "to_status", "as_of") == [
        (pk, "", results[pk].status, D) for pk in sorted(results)
    ]
    assert _rows_of(TypeChange, "customer_id", "customer_type", "gained", "as_of") == sorted(
        (pk, code, True, D) for pk, result in results.items() for code in result.types
    )
    assert TypeChange.objects.exists()


def test_a_batch_of_new_stored_and_moved_customers_stores_what_a_first_run_does(
    django_user_model,
):
    # One id range holding customers stored and unmoved, stored and moved, and new ones:
    # each kind is written its own way, and the results are those of a first run.
    base = varied_base(12, owner=django_user_model.objects.create_user("owner"), today=D)
    engagement_recompute(as_of=D, customer_ids=[c.pk for c in base[:8]])
    moved = base[5]  # at risk: last active 36 days ago
    event(moved, 1, kind="purchase", amount=Decimal("5"))
    history_before = _rows_of(StatusHistory, "customer_id", "from_status", "to_status")
    engagement_recompute(as_of=D, customer_ids=[c.pk for c in base])
    mixed = _rows_of(EngagementResult, *COMPARED)
    new_rows = [
        row
        for row in _rows_of(StatusHistory, "customer_id", "from_status", "to_status")
        if row not in history_before
    ]
    assert [pk for pk, *_ in new_rows] == sorted([moved.pk] + [c.pk for c in base[8:]])
    clear_engagement()
    engagement_recompute(as_of=D)
    assert mixed == _rows_of(EngagementResult, *COMPARED)


def test_a_first_activity_of_a_stored_customer_moves_their_indexed_columns():
    # Stored with no activity (last_activity_on NULL), then active: the stored row moves to
    # what a first run writes.
    quiet = customer(customer_since=ago(400))
    engagement_recompute(as_of=D)
    assert stored(quiet).last_activity_on is None
    event(quiet, 2, kind="purchase", amount=Decimal("5"))
    engagement_recompute(as_of=D)
    moved = _rows_of(EngagementResult, *COMPARED)
    assert stored(quiet).last_activity_on == ago(2)
    clear_engagement()
    engagement_recompute(as_of=D)
    assert moved == _rows_of(EngagementResult, *COMPARED)


def test_results_record_rule_version_as_of_and_rfm():
    customers = [customer() for _ in range(10)]
    for i, c in enumerate(customers):
        for _ in range(i):
            event(c, 10 - i, kind="purchase", amount=Decimal(10 * (i + 1)))
    engagement_recompute(as_of=D)
    results = {r.customer_id: r for r in EngagementResult.objects.all()}
    assert {r.rule_set_id for r in results.values()} == {rule_set_ensure().pk}
    assert {r.as_of for r in results.values()} == {D}
    best, worst = results[customers[-1].pk], results[customers[0].pk]
    assert (best.r_score, best.f_score, best.m_score) == (5, 5, 5)
    assert (worst.r_score, worst.f_score, worst.m_score) == (1, 1, 1)
    assert sorted(r.f_score for r in results.values()) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_a_rule_version_in_use_cannot_be_deleted():
    # No database constraint stands behind the rule-set column (migration 0014): the ORM's
    # PROTECT is what keeps the version a result, history or type change names.
    event(customer(), 5, kind="purchase", amount=Decimal(10))
    engagement_recompute(as_of=D)
    version = rule_set_ensure()
    assert StatusHistory.objects.filter(rule_set=version).exists()
    assert TypeChange.objects.filter(rule_set=version).exists()
    with pytest.raises(ProtectedError):
        version.delete()
    assert EngagementResult.objects.get().rule_set == version


def _crash_on_store(monkeypatch, batch: int):
    """The batch-th batch fails at its last step (the results' upsert), after its history rows."""
    real, calls = recompute._store, []

    def store(cursor, *args, **kwargs):
        calls.append(1)
        if len(calls) == batch:
            raise RuntimeError("boom")
        real(cursor, *args, **kwargs)

    monkeypatch.setattr(recompute, "_store", store)


def test_a_crash_keeps_the_old_results_and_never_half_a_batch(monkeypatch):
    a, b, c = customer(), customer(), customer()
    for x in (a, b, c):
        event(x, 40)
    engagement_recompute(as_of=D)
    for x in (a, b, c):
        event(x, 1, kind="purchase", amount=Decimal("5"))
    history, type_changes = StatusHistory.objects.count(), TypeChange.objects.count()
    _crash_on_store(monkeypatch, batch=1)
    with pytest.raises(RuntimeError):
        engagement_recompute(as_of=D, batch_size=2)
    # a and b share the first batch: neither is written, nor their history; c never got its turn.
    assert {x.pk: stored(x).status for x in (a, b, c)} == {
        a.pk: "at_risk",
        b.pk: "at_risk",
        c.pk: "at_risk",
    }
    assert StatusHistory.objects.count() == history
    assert TypeChange.objects.count() == type_changes


def test_a_crash_in_a_later_batch_keeps_earlier_batches(monkeypatch):
    a, b, c = customer(), customer(), customer()
    for x in (a, b, c):
        event(x, 40)
    engagement_recompute(as_of=D)
    for x in (a, b, c):
        event(x, 1)
    _crash_on_store(monkeypatch, batch=2)
    with pytest.raises(RuntimeError):
        engagement_recompute(as_of=D, batch_size=2)
    assert [stored(x).status for x in (a, b, c)] == ["active", "active", "at_risk"]
    assert set(
        StatusHistory.objects.filter(to_status="active").values_list("customer", flat=True)
    ) == {a.pk, b.pk}


def test_partial_recompute_touches_only_the_given_customers():
    a, b = customer(), customer()
    event(a, 40)
    event(b, 40)
    engagement_recompute(as_of=D)
    event(a, 1)
    event(b, 1)
    summary = engagement_recompute(as_of=D, customer_ids=[a.pk])
    assert summary.customers == 1
    assert (stored(a).status, stored(b).status) == ("active", "at_risk")


def test_partial_recompute_of_scattered_customers_stores_what_a_full_one_does(django_user_model):
    # Every seventh customer of a base, as a refresh of changed customers asks: each one's
    # figures are its own (purchases, support, subscriptions), not its neighbours'.
    owner = django_user_model.objects.create_user("owner")
    base = varied_base(60, owner=owner, today=D)
    product = ProductFactory(kind="service")
    for c in base[::5]:
        SubscriptionFactory(customer=c, product=product, started_at=D - dt.timedelta(days=90))
    scattered = [c.pk for c in base[::7]]

    def results():
        return list(EngagementResult.objects.order_by("pk").values_list(*COMPARED))

    engagement_recompute(as_of=D, customer_ids=scattered, batch_size=100)
    partial = results()
    clear_engagement()
    engagement_recompute(as_of=D)
    assert [row[0] for row in partial] == scattered
    assert partial == [row for row in results() if row[0] in set(scattered)]


def test_a_day_later_the_day_counts_move_where_nothing_indexed_does():
    # Status, types, score and last activity stay: the row is written by the update of the
    # other columns alone, and must still say the new day.
    c = customer()
    event(c, 3)
    engagement_recompute(as_of=D)
    before = stored(c)
    engagement_recompute(as_of=D + dt.timedelta(days=1))
    after = stored(c)
    unmoved = ("status", "score", "last_activity_on", "rule_set_id", "type_recent_buyer")
    assert [getattr(after, name) for name in unmoved] == [getattr(before, name) for name in unmoved]
    assert (after.as_of, after.days_since_activity) == (D + dt.timedelta(days=1), 4)
    assert after.computed_at > before.computed_at


def test_two_recomputes_cannot_interleave():
    got = []
    with recompute_lock():

        def other():
            try:
                with recompute_lock(wait=False):
                    got.append("ran")
            except RecomputeBusy:
                got.append("busy")

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert got == ["busy"]


def test_preview_counts_moves_with_samples_and_writes_nothing():
    movers = [customer() for _ in range(3)]
    for c in movers:
        event(c, 40)
    stay = customer()
    event(stay, 80)
    engagement_recompute(as_of=D)
    history = StatusHistory.objects.count()
    preview = engagement_preview(rules=Rules(active_days=45), as_of=D, sample_size=2)
    assert preview.customers == 4
    assert [(m["from_status"], m["to_status"], m["count"]) for m in preview.status_moves] == [
        ("at_risk", "active", 3)
    ]
    assert len(preview.status_moves[0]["samples"]) == 2
    assert set(preview.status_moves[0]["samples"]) <= {c.pk for c in movers}
    assert StatusHistory.objects.count() == history
    assert set(EngagementResult.objects.values_list("status", flat=True)) == {"at_risk", "inactive"}


def test_preview_reports_type_moves():
    c = customer()
    event(c, 40, kind="purchase", amount=Decimal("5"))
    preview = engagement_preview(rules=Rules(recent_buyer_days=40), as_of=D)
    assert [(m["type"], m["gained"], m["count"]) for m in preview.type_moves] == [
        ("recent_buyer", True, 1)
    ]


def test_command_prints_progress_and_summary():
    c = customer()
    event(c, 40)
    out, err = StringIO(), StringIO()
    call_command("recompute_engagement", "--as-of", D.isoformat(), stdout=out, stderr=err)
    assert "1 / 1 customers" in err.getvalue()
    text = out.getvalue()
    assert "Recomputed 1 customers as of 2026-06-30" in text
    assert "at_risk" in text
    assert "(none) -> at_risk" in text


def test_the_bench_floor_query_reads_the_same_customers():
    # Interaction and Subscription imported so the scratch fill's tables exist here too.
    assert Interaction._meta.db_table == "customers_interaction"
    assert Subscription._meta.db_table == "customers_subscription"
