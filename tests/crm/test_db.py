"""Planner statistics after bulk loads (crm/db.py): PostgreSQL gets ANALYZE, SQLite nothing."""

import pytest
from django.db import connection

from crm import db
from customers.demo import demo_seed
from customers.importing import records_import
from customers.models import Customer, Interaction
from tests.factories import CustomerFactory, InteractionFactory
from tests.fixtures.api import client_for

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's"
)


def _estimated_rows(model) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
        )
        return cursor.fetchone()[0]


def test_the_helpers_do_nothing_and_never_fail_on_sqlite():
    CustomerFactory()
    db.analyze(Customer, Interaction)
    if connection.vendor == "sqlite":
        assert db.analyze_if_stale(Customer, min_rows=0, pending=1) == []
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            assert cursor.fetchone() is None  # the planner keeps its own heuristics


@postgresql_only
def test_analyze_gives_the_planner_the_tables_size():
    CustomerFactory.create_batch(40)
    InteractionFactory.create_batch(30, customer=Customer.objects.first())
    db.analyze(Customer, Interaction)
    assert _estimated_rows(Customer) == 40
    assert _estimated_rows(Interaction) == 30


@postgresql_only
def test_stale_tables_are_those_changed_past_the_threshold():
    db.analyze(Customer, Interaction)  # counters from earlier tests start over
    assert db.stale(Customer, Interaction, min_rows=50, pending=60) == [Customer, Interaction]
    assert db.stale(Customer, min_rows=50, pending=10) == []


@postgresql_only
def test_a_large_import_leaves_statistics(monkeypatch):
    monkeypatch.setattr(db, "ANALYZE_MIN_ROWS", 50)
    rows = "\n".join(f"C{n},Customer {n},company" for n in range(60))
    records_import(
        model_name="customers",
        data=f"external_id,name,kind\n{rows}\n".encode(),
        filename="customers.csv",
    )
    assert _estimated_rows(Customer) == 60


@postgresql_only
def test_a_small_import_does_not_analyze(monkeypatch):
    calls = []
    monkeypatch.setattr(db, "analyze", lambda *models, **kw: calls.append(models))
    records_import(
        model_name="customers", data=b"external_id,name,kind\nC1,One,company\n", filename="c.csv"
    )
    assert calls == [()]  # asked, nothing stale


@postgresql_only
def test_bulk_ingest_past_the_threshold_leaves_statistics(
    crm_admin, monkeypatch, django_capture_on_commit_callbacks
):
    admin_api = client_for(crm_admin)
    monkeypatch.setattr(db, "ANALYZE_MIN_ROWS", 50)
    customer = CustomerFactory()
    rows = [{"customer": customer.pk, "kind": "login"} for _ in range(60)]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/interactions/bulk/", rows, format="json")
    assert response.json() == {"created": 60, "duplicates": 0}
    assert _estimated_rows(Interaction) == 60


@postgresql_only
def test_the_demo_seed_leaves_statistics(rep):
    result = demo_seed(customers=25, seed=7, owners=[rep])
    assert _estimated_rows(Customer) == 25
    assert _estimated_rows(Interaction) == result.interactions > 0
