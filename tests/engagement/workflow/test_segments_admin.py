"""The admin's segments and campaigns: save from the list, the sidebar filter, start a
campaign with a preview, the campaign page; each role; query counts."""

import re

import pytest
from django.http import QueryDict
from django.urls import reverse

from engagement.admin.segments import segment_filters_from_list
from engagement.models.segments import Campaign, SavedSegment
from engagement.models.workflow import ActionPlan, Playbook
from engagement.workflow.segments import saved_segment_create, segment_customers

from .builders import classified, mixed_population

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("admin:customers_customer_changelist")
SAVE = reverse("admin:engagement_savedsegment_save_from_list")
SEGMENTS = reverse("admin:engagement_savedsegment_changelist")
CAMPAIGNS = reverse("admin:engagement_campaign_changelist")
SIZES = reverse("admin:engagement_savedsegment_sizes")


def _start_url(segment):
    return reverse("admin:engagement_savedsegment_start_campaign", args=[segment.pk])


def _listed(client, query: str) -> list[int]:
    response = client.get(f"{CUSTOMERS}?{query}")
    assert response.status_code == 200
    return sorted(c.pk for c in response.context["cl"].result_list)


# --- Save as segment ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "status=at_risk",
        "owner=me&type=loyal",
        "owner=none",
        "q=acme",
        "q=acme&status=inactive",
        "kind__exact=person&country=DE",
        "industry=Food",
        "industry__exact=Food",
        "reactivated=yes",
        "reactivated=no&status=at_risk",
        "status=none",
        "archived=yes",
        "o=2&p=1&status=at_risk",
    ],
)
def test_a_segment_saved_from_the_list_shows_the_same_customers(client, rep, other_rep, query):
    mixed_population(rep, other_rep)
    client.force_login(rep)
    listed = _listed(client, query)
    page = client.get(CUSTOMERS + "?" + query).content.decode()
    link = re.search(r'href="([^"]*save-from-list/[^"]*)" id="save-as-segment"', page)
    assert link, "the customer list offers Save as segment"
    url = link.group(1).replace("&amp;", "&")
    form = client.get(url)
    assert form.status_code == 200
    assert form.context["size"] == len([pk for pk in listed])
    saved = client.post(url, {"name": "From the list", "is_shared": "on"})
    segment = SavedSegment.objects.get(name="From the list")
    assert saved.status_code == 302
    assert saved.url == f"{CUSTOMERS}?segment={segment.pk}"
    assert (segment.owner, segment.is_shared) == (rep, True)
    assert _listed(client, f"segment={segment.pk}") == listed
    assert sorted(segment_customers(segment).values_list("pk", flat=True)) == listed


def test_my_accounts_is_saved_as_the_savers_id(rep):
    assert segment_filters_from_list(QueryDict("owner=me&q=acme"), user=rep) == (
        f"owner={rep.pk}&search=acme"
    )


@pytest.mark.parametrize(
    ("query", "named"),
    [("archived=all", "All, with archived"), ("colour=red", "colour"), ("status=lapsed", "status")],
)
def test_list_parameters_a_segment_cannot_hold_are_named(client, rep, query, named):
    client.force_login(rep)
    response = client.get(f"{SAVE}?{query}")
    assert response.status_code == 200
    assert named in " ".join(response.context["problems"])
    assert b"save-segment-form" not in response.content
    assert client.post(f"{SAVE}?{query}", {"name": "S"}).status_code == 200
    assert not SavedSegment.objects.exists()


def test_a_segment_applied_on_the_list_is_merged_into_the_new_one(client, rep, other_rep):
    mixed_population(rep, other_rep)
    base = saved_segment_create(owner=rep, name="Risky", filters="status=at_risk")
    client.force_login(rep)
    client.post(f"{SAVE}?segment={base.pk}&country__exact=FR", {"name": "Risky in France"})
    merged = SavedSegment.objects.get(name="Risky in France")
    assert merged.filters == "status=at_risk&country=FR"
    conflict = client.get(f"{SAVE}?segment={base.pk}&status=active")
    assert "status" in " ".join(conflict.context["problems"])


def test_a_duplicate_name_is_shown_on_the_form(client, rep):
    saved_segment_create(owner=rep, name="Mine")
    client.force_login(rep)
    response = client.post(f"{SAVE}?status=active", {"name": "Mine"})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors


# --- The sidebar filter -------------------------------------------------------------------


def test_sidebar_lists_own_and_shared_segments_and_their_sizes_follow(client, rep, other_rep):
    mixed_population(rep, other_rep)
    mine = saved_segment_create(owner=rep, name="Mine", filters="status=at_risk")
    shared = saved_segment_create(
        owner=other_rep, name="Theirs shared", filters="type=loyal", is_shared=True
    )
    private = saved_segment_create(owner=other_rep, name="Theirs private")
    client.force_login(rep)
    sidebar = client.get(CUSTOMERS).content.decode()
    sidebar = sidebar[sidebar.index('id="segment-filter"') :]
    assert f"segment={mine.pk}" in sidebar
    assert f'data-segment-id="{shared.pk}"' in sidebar
    assert "Theirs private" not in sidebar
    # The page's script asks for every size listed, in one request.
    asked = f"{SIZES}?id={mine.pk}&id={shared.pk}&id={private.pk}&id=abc"
    assert client.get(asked).json() == {"sizes": {str(mine.pk): 2, str(shared.pk): 2}}


def test_sizes_are_counted_in_one_query_however_many(
    client, rep, other_rep, django_assert_max_num_queries
):
    mixed_population(rep, other_rep)
    segments = [
        saved_segment_create(owner=rep, name=f"S{i:02}", filters=filters)
        for i, filters in enumerate(["search=acme", "status=at_risk", ""] * 20)
    ]
    broken = SavedSegment.objects.create(owner=rep, name="Old", filters="status=lapsed")
    client.force_login(rep)
    with django_assert_max_num_queries(5) as one:
        client.get(f"{SIZES}?id={segments[0].pk}")
    ids = "&".join(f"id={s.pk}" for s in [*segments, broken])
    with django_assert_max_num_queries(5) as many:
        sizes = client.get(f"{SIZES}?{ids}").json()["sizes"]
    assert len(many.captured_queries) == len(one.captured_queries)
    assert [sizes[str(s.pk)] for s in segments[:3]] == [3, 2, 6]
    assert sizes[str(broken.pk)] is None
    too_many = "&".join(f"id={pk}" for pk in range(1, 102))
    answer = client.get(f"{SIZES}?{too_many}")
    assert (answer.status_code, list(answer.json())) == (400, ["id"])


@pytest.mark.parametrize("value", ["{private}", "abc", "99999999999999999999999"])
def test_a_segment_the_user_cannot_read_lists_nothing_and_says_so(client, rep, other_rep, value):
    mixed_population(rep, other_rep)
    private = saved_segment_create(owner=other_rep, name="Theirs private")
    client.force_login(rep)
    response = client.get(f"{CUSTOMERS}?segment={value.format(private=private.pk)}", follow=True)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert "not yours to read" in response.content.decode()


def test_a_segment_whose_filters_went_invalid_says_so(client, rep):
    broken = SavedSegment.objects.create(owner=rep, name="Old", filters="status=lapsed")
    client.force_login(rep)
    response = client.get(f"{CUSTOMERS}?segment={broken.pk}")
    assert response.status_code == 200
    assert "no longer apply" in response.content.decode()


def test_customer_list_with_segments_keeps_its_query_budget(
    client, rep, other_rep, django_assert_max_num_queries
):
    mixed_population(rep, other_rep)
    for i in range(30):
        saved_segment_create(owner=rep, name=f"S{i:02}", filters="status=at_risk", is_shared=True)
    client.force_login(rep)
    with django_assert_max_num_queries(15):
        assert client.get(CUSTOMERS).status_code == 200
    segment = SavedSegment.objects.first()
    with django_assert_max_num_queries(15):
        assert client.get(f"{CUSTOMERS}?segment={segment.pk}").status_code == 200


# --- The segments admin -------------------------------------------------------------------


def test_segment_list_keeps_its_query_count_whatever_the_page(
    client, rep, other_rep, django_assert_max_num_queries
):
    mixed_population(rep, other_rep)
    client.force_login(rep)
    saved_segment_create(owner=rep, name="S00", filters="search=acme")
    with django_assert_max_num_queries(12) as few:
        html = client.get(SEGMENTS).content.decode()
    assert "data-segment-id=" in html
    assert "segment_sizes.js" in html
    for i in range(1, 40):
        saved_segment_create(owner=rep, name=f"S{i:02}", filters="status=at_risk")
    with django_assert_max_num_queries(12) as many:
        assert client.get(SEGMENTS).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_others_shared_segments_are_read_only_their_private_ones_hidden(
    client, rep, other_rep, crm_admin
):
    shared = saved_segment_create(owner=other_rep, name="Shared", is_shared=True)
    private = saved_segment_create(owner=other_rep, name="Private")
    change = reverse("admin:engagement_savedsegment_change", args=[shared.pk])
    client.force_login(rep)
    assert client.get(change).status_code == 200  # readable
    refused = client.post(change, {"name": "Mine now", "filters": "", "is_shared": "on"})
    assert refused.status_code == 403
    hidden = reverse("admin:engagement_savedsegment_change", args=[private.pk])
    assert client.get(hidden).status_code == 302  # "does not exist": back to the list
    client.force_login(crm_admin)
    edited = client.post(hidden, {"name": "Renamed", "filters": "status=active"})
    assert edited.status_code == 302
    private.refresh_from_db()
    assert (private.name, private.filters) == ("Renamed", "status=active")


def test_the_segment_form_validates_filters(client, rep):
    client.force_login(rep)
    add = reverse("admin:engagement_savedsegment_add")
    response = client.post(add, {"name": "Bad", "filters": "colour=red"})
    assert response.status_code == 200
    assert "filters" in response.context["adminform"].form.errors
    client.post(add, {"name": "Good", "filters": "status=at_risk&type="})
    assert SavedSegment.objects.get(name="Good").filters == "status=at_risk"


# --- Start campaign -----------------------------------------------------------------------


@pytest.fixture
def segment(rep):
    for _ in range(8):
        classified("at_risk", owner=rep)
    return saved_segment_create(owner=rep, name="At risk", filters="status=at_risk", is_shared=True)


@pytest.fixture
def playbook():
    return Playbook.objects.get(name="Reactivation")


@pytest.mark.parametrize(("role", "allowed"), [("rep", False), ("cs", True), ("admin", True)])
def test_only_customer_success_and_admin_start_campaigns(
    client, rep, cs, crm_admin, segment, playbook, role, allowed
):
    client.force_login({"rep": rep, "cs": cs, "admin": crm_admin}[role])
    assert client.get(_start_url(segment)).status_code == (200 if allowed else 403)
    confirm = {"name": "C", "playbook": playbook.pk, "holdout_percent": 0}
    confirm.update({"outcome_window_days": 60, "confirm": "1"})
    assert client.post(_start_url(segment), confirm).status_code == (302 if allowed else 403)
    assert Campaign.objects.exists() == allowed
    assert ("Start campaign" in client.get(SEGMENTS).content.decode()) == allowed
    assert client.get(CAMPAIGNS).status_code == 200  # every role reads campaigns


def test_start_campaign_previews_then_confirms_then_shows_the_campaign(
    client, cs, segment, playbook, django_capture_on_commit_callbacks
):
    ActionPlan.objects.create(
        customer=segment_customers(segment).first(), playbook=playbook, started_on="2020-01-01"
    )
    client.force_login(cs)
    values = {"name": "Spring", "playbook": playbook.pk, "holdout_percent": 25}
    values["outcome_window_days"] = 30
    preview = client.post(_start_url(segment), {**values, "preview": "1"})
    assert preview.status_code == 200
    shown = preview.context["preview"]
    assert (shown.customers, shown.with_active_plan, shown.expected_control) == (8, 1, 2)
    assert not Campaign.objects.exists()  # a preview starts nothing
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(_start_url(segment), {**values, "confirm": "1"})
    campaign = Campaign.objects.get()
    assert started.url == reverse("admin:engagement_campaign_change", args=[campaign.pk])
    assert (campaign.holdout_percent, campaign.outcome_window_days) == (25, 30)
    page = client.get(started.url)
    report = page.context["report"]
    assert report.treatment + report.control == 8
    assert report.plans_started + report.already_active == report.treatment
    assert page.context["running"] is False
    html = page.content.decode()
    assert 'http-equiv="refresh"' not in html
    assert "8 of 8 members drawn" in html


def test_a_campaign_still_running_refreshes_its_page(client, cs, segment, playbook):
    client.force_login(cs)
    client.post(
        _start_url(segment),
        {"name": "C", "playbook": playbook.pk, "holdout_percent": 0, "outcome_window_days": 60}
        | {"confirm": "1"},
    )
    campaign = Campaign.objects.get()  # the run waits for the commit that never comes here
    html = client.get(reverse("admin:engagement_campaign_change", args=[campaign.pk])).content
    assert b'http-equiv="refresh"' in html
    assert b"0 of 8 members drawn: pending" in html


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"holdout_percent": 60}, "holdout_percent"),
        ({"outcome_window_days": 0}, "outcome_window_days"),
    ],
)
def test_bad_campaign_settings_are_shown_on_the_form(client, cs, segment, playbook, change, field):
    client.force_login(cs)
    values = {"name": "C", "playbook": playbook.pk, "holdout_percent": 0, "outcome_window_days": 60}
    response = client.post(_start_url(segment), {**values, **change, "confirm": "1"})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Campaign.objects.exists()


def test_campaign_list_has_no_query_per_row(
    client, cs, segment, playbook, django_assert_max_num_queries
):
    client.force_login(cs)
    values = {"playbook": playbook.pk, "holdout_percent": 50, "outcome_window_days": 60}
    for i in range(5):
        client.post(_start_url(segment), {**values, "name": f"C{i}", "confirm": "1"})
    with django_assert_max_num_queries(12):
        assert client.get(CAMPAIGNS).status_code == 200
