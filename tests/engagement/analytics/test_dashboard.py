"""The engagement dashboard and the customer timeline in the admin: roles, panels, CSV, queries."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from engagement.models import EngagementResult, RuleSet, StatusHistory
from tests.factories import CustomerFactory, InteractionFactory, UserFactory

pytestmark = pytest.mark.django_db
DASHBOARD = "/admin/engagement/dashboard/"
PANELS = (
    "status-now",
    "types-now",
    "predicted-clv-status",
    "predicted-clv-type",
    "value-at-risk",
    "status-over-time",
    "types-over-time",
    "activity",
    "stickiness",
    "lifecycle",
    "activation",
    "rates",
    "mrr",
    "revenue",
    "cohorts",
    "comparison",
    "outcomes",
)


def _history(customers: int, owner=None):
    rules = RuleSet.objects.order_by("-version").first() or RuleSet.objects.create(version=1)
    today = timezone.localdate()
    for n in range(customers):
        customer = CustomerFactory(owner=owner, customer_since=today - dt.timedelta(days=30 * n))
        for days in (1, 40, 100):
            InteractionFactory(
                customer=customer, occurred_at=timezone.now() - dt.timedelta(days=days + n)
            )
        InteractionFactory(
            customer=customer, kind="purchase", amount=Decimal("20"), occurred_at=timezone.now()
        )
        EngagementResult.objects.create(
            customer=customer,
            status="active",
            rule_set=rules,
            as_of=today,
            computed_at=timezone.now(),
        )
        StatusHistory.objects.create(
            customer=customer,
            to_status="active",
            as_of=today - dt.timedelta(days=n),
            changed_at=timezone.now(),
            rule_set=rules,
        )


@pytest.mark.parametrize("role", ["rep", "cs", "crm_admin"])
def test_every_role_sees_every_panel_with_chart_table_and_csv(client, request, role):
    _history(3)
    client.force_login(request.getfixturevalue(role))
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    for panel in PANELS:
        assert f'id="panel-{panel}"' in html
        assert f"csv={panel}" in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="crm-chart') == len(PANELS)
    assert html.count('<details class="crm-numbers">') == len(PANELS) - 1  # comparison: beside


def test_users_without_a_crm_role_are_refused_and_anonymous_sent_to_login(client):
    assert client.get(DASHBOARD).status_code == 302
    client.force_login(UserFactory(username="staff_only"))
    assert client.get(DASHBOARD).status_code == 403


def test_admin_index_links_to_the_dashboard(client, cs):
    client.force_login(cs)
    assert b'href="/admin/engagement/dashboard/"' in client.get("/admin/").content


def test_query_count_does_not_grow_with_the_data(client, cs, django_assert_max_num_queries):
    client.force_login(cs)
    _history(2)
    # 40: the outcome panel reads the campaigns too, and the prediction panels their figures.
    with django_assert_max_num_queries(40) as few:
        client.get(DASHBOARD, {"period": "week"})
    _history(25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(DASHBOARD, {"period": "week"}).status_code == 200


def test_csv_has_the_numbers_of_the_chart(client, cs):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, occurred_at=dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC))
    client.force_login(cs)
    response = client.get(
        DASHBOARD,
        {"period": "week", "start": "2026-03-02", "end": "2026-03-15", "csv": "activity"},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["Period", "Active customers"], ["2026-03-02", "1"], ["2026-03-09", "0"]]
    assert client.get(DASHBOARD, {"csv": "nothing"}).status_code == 404


def test_period_and_segment_selection_apply_and_bad_values_fall_back(client, cs, rep):
    client.force_login(cs)
    response = client.get(DASHBOARD, {"period": "day", "start": "2026-03-01", "end": "2026-03-07"})
    html = response.content.decode()
    assert "7 day periods from 1 Mar 2026 to 7 Mar 2026" in html
    response = client.get(DASHBOARD, {"period": "fortnight"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Period: Choose one of" in html


def test_rep_opens_on_own_accounts_and_may_widen(client, rep):
    mine = CustomerFactory(owner=rep)
    other = CustomerFactory()
    when = dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)
    InteractionFactory(customer=mine, occurred_at=when)
    InteractionFactory(customer=other, occurred_at=when)
    client.force_login(rep)
    params = {"period": "month", "start": "2026-03-01", "end": "2026-03-31", "csv": "activity"}
    assert client.get(DASHBOARD, params).content.decode().splitlines()[1] == "2026-03-01,1"
    wide = client.get(DASHBOARD, {**params, "owner": "all"})
    assert wide.content.decode().splitlines()[1] == "2026-03-01,2"


@pytest.mark.parametrize("role", ["rep", "cs", "crm_admin"])
def test_timeline_lists_interactions_filtered_by_kind(client, request, role):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, kind="login", subject="Logged in")
    InteractionFactory(customer=customer, kind="support", subject="Printer on fire")
    client.force_login(request.getfixturevalue(role))
    url = f"/admin/engagement/customer/{customer.pk}/timeline/"
    html = client.get(url).content.decode()
    assert "Logged in" in html
    assert "Printer on fire" in html
    filtered = client.get(url, {"kind": "support"}).content.decode()
    assert "Printer on fire" in filtered
    assert "Logged in" not in filtered


def test_timeline_draws_the_status_strip(client, cs):
    customer = CustomerFactory()
    rules = RuleSet.objects.order_by("-version").first() or RuleSet.objects.create(version=1)
    today = timezone.localdate()
    for status, days in (("active", 90), ("at_risk", 30)):
        StatusHistory.objects.create(
            customer=customer,
            to_status=status,
            as_of=today - dt.timedelta(days=days),
            changed_at=timezone.now(),
            rule_set=rules,
        )
    client.force_login(cs)
    html = client.get(f"/admin/engagement/customer/{customer.pk}/timeline/").content.decode()
    assert "<title>Active from" in html
    assert "<title>At risk from" in html


# Session and user (3), the customer, its status history, the admin's permissions (2), the
# interactions, the rules, the score trend (3: one read for all twelve months), the stored
# result, open alerts, active plans.
TIMELINE_QUERIES = 15


def test_timeline_query_count_does_not_grow_with_the_history(client, cs, django_assert_num_queries):
    customer = CustomerFactory()
    InteractionFactory(customer=customer)
    client.force_login(cs)
    url = f"/admin/engagement/customer/{customer.pk}/timeline/"
    with django_assert_num_queries(TIMELINE_QUERIES):
        client.get(url)
    for _ in range(30):
        InteractionFactory(customer=customer)
    with django_assert_num_queries(TIMELINE_QUERIES):
        assert client.get(url).status_code == 200


def test_dashboard_reads_the_rollups_once_refreshed_with_the_same_numbers(client, cs):
    from engagement.analytics.rollups import metrics_refresh

    _history(6)
    client.force_login(cs)
    live = {
        panel: client.get(DASHBOARD, {"period": "week", "csv": panel}).content
        for panel in ("activity", "lifecycle", "activation", "stickiness", "cohorts", "comparison")
    }
    assert "computed live" in client.get(DASHBOARD).content.decode()
    metrics_refresh()
    assert "read the rollups refreshed" in client.get(DASHBOARD).content.decode()
    for panel, body in live.items():
        assert client.get(DASHBOARD, {"period": "week", "csv": panel}).content == body, panel


def test_comparison_table_shows_revenue_share_as_a_percent_and_csv_keeps_the_fraction(client, cs):
    _history(3)  # every customer active: all the revenue is the active group's
    client.force_login(cs)
    html = client.get(DASHBOARD).content.decode()
    panel = html[html.index('id="panel-comparison"') :]
    table = panel[panel.index("<table") : panel.index("</table>")]
    share_row = table[table.index("Revenue share") :].split("</tr>")[0]
    assert "<td>100.0%</td>" in share_row
    assert "<td>1.0</td>" not in share_row
    assert "<td>60.00</td>" in table  # revenue in money format (3 purchases of 20)
    rows = list(csv.reader(io.StringIO(client.get(DASHBOARD + "?csv=comparison").content.decode())))
    assert next(r for r in rows if r[0] == "Revenue share")[1] == "1.0"
