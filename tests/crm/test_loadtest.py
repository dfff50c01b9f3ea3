"""`manage.py loadtest` (crm/loadtest.py) against a live server: figures, lost writes, 5xx."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.loadtest import LoadTest, Options, verdict
from customers.models import Customer, Interaction
from engagement.api.engine import views as engagement_views
from tests.factories import CustomerFactory

pytestmark = pytest.mark.usefixtures("transactional_db")


def _loadtest(live_server, *extra) -> tuple[dict, str]:
    out = io.StringIO()
    args = [
        "--base-url", live_server.url, "--username", "admin", "--password", "pw-secret-123",
        "--clients", "1", "--seconds", "2", "--probes", "1", "--freshness-timeout", "15",
        "--broker-url", "", "--bulk-size", "5", "--seed", "1",
        *extra,
    ]  # fmt: skip
    try:
        call_command("loadtest", *args, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        return json.loads(out.getvalue().splitlines()[0]), str(error)
    return json.loads(out.getvalue().splitlines()[0]), ""


def test_a_short_load_measures_every_operation_and_finds_every_write(live_server, crm_admin):
    CustomerFactory.create_batch(5)

    figures, failed = _loadtest(live_server)

    assert failed == ""
    assert figures["ok"] is True
    for op in ("customer_list", "customer_detail", "engagement_live", "interaction_create"):
        row = figures["ops"][op]
        assert row["count"] >= 1, op
        assert row["2xx"] == row["count"], op
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["max_ms"], op
    writes = figures["writes"]
    stored = Interaction.objects.filter(external_id__startswith=f"lt-{figures['run_id']}-")
    assert writes["acknowledged"] == writes["present"] == stored.count() > 0
    assert writes["lost"] == 0
    # Without a broker the refresh runs in the request: the probe reads back active at once.
    fresh = figures["freshness"]
    assert (fresh["probes"], fresh["refreshed"], fresh["timeouts"]) == (1, 1, 0)
    assert fresh["p95_s"] <= 5
    probe = Customer.objects.get(external_id=f"lt-{figures['run_id']}-probe-1")
    assert probe.engagement.status == "active"


def test_server_errors_fail_the_run(live_server, crm_admin, monkeypatch):
    CustomerFactory.create_batch(3)

    def broken(self, request, pk):
        raise RuntimeError("engagement bug")

    monkeypatch.setattr(engagement_views.CustomerEngagementView, "get", broken)

    figures, failed = _loadtest(live_server, "--mix", "engagement_live=1", "--probes", "0")

    live = figures["ops"]["engagement_live"]
    assert live["5xx"] == live["count"] > 0
    assert figures["ok"] is False
    assert "engagement_live: " in failed
    assert "server errors (5xx)" in failed


def test_an_acknowledged_write_that_is_missing_is_reported_lost(live_server, crm_admin):
    customer = CustomerFactory()
    run = LoadTest(
        Options(base_url=live_server.url, username="admin", password="pw-secret-123", probes=0)
    )
    run.authenticate()
    kept, gone = f"{run.prefix}1", f"{run.prefix}2"
    Interaction.objects.create(customer=customer, kind="login", external_id=kept)
    run.acknowledged = {(customer.pk, kept), (customer.pk, gone)}

    writes = run.verify_writes()

    assert (writes["acknowledged"], writes["present"], writes["lost"]) == (2, 1, 1)
    assert writes["lost_examples"] == [gone]


def test_freshness_over_its_maximum_or_timed_out_fails_the_verdict():
    def figures(p95, timeouts=0, most=5.0):
        return {
            "ops": {},
            "writes": {"lost": 0, "lost_examples": []},
            "freshness": {
                "probes": 20,
                "timeouts": timeouts,
                "timeout_s": 60.0,
                "p95_s": p95,
                "p95_max_s": most,
            },
        }

    assert verdict(figures(4.9)) == []
    assert verdict(figures(5.1)) == ["freshness p95 5.1 s over 5.0 s (0 of 20 probes not "
                                     "refreshed within 60 s)"]  # fmt: skip
    assert "over the 60 s timeout (18 of 20" in verdict(figures(None, timeouts=18))[0]
    # `--freshness-p95-max off`: measured and reported, never failing the run.
    assert verdict(figures(None, timeouts=18, most=None)) == []
