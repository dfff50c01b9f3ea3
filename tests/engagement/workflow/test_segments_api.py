"""saved-segments/, campaigns/ and ?segment= on customers/: shapes, every role, bad input."""

import pytest

from engagement.models.segments import Campaign, CampaignMember, SavedSegment
from engagement.models.workflow import ActionPlan, Playbook, PlaybookStep
from engagement.workflow.segments import saved_segment_create, segment_customers

from .builders import classified, mixed_population

pytestmark = pytest.mark.django_db
SEGMENT_KEYS = {"id", "name", "filters", "owner", "is_shared", "size"}


def _ids(answer):
    assert answer.status_code == 200, answer.content
    return sorted(row["id"] for row in answer.json()["results"])


# --- saved-segments/ ----------------------------------------------------------------------


def test_a_saved_segment_answers_the_contract_shape_with_its_size(rep, other_rep, rep_api):
    mixed_population(rep, other_rep)
    made = rep_api.post(
        "/api/saved-segments/",
        {"name": "Risky", "filters": "type=&status=at_risk", "is_shared": True},
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert set(body) == SEGMENT_KEYS
    assert (body["filters"], body["owner"], body["size"]) == ("status=at_risk", rep.pk, 2)
    assert rep_api.get(f"/api/saved-segments/{body['id']}/").json() == body


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "S", "filters": "colour=red"}, "filters"),
        ({"name": "S", "filters": "status=lapsed"}, "filters"),
        ({"name": "S", "filters": "owner=x"}, "filters"),
        ({"name": "", "filters": ""}, "name"),
        ({"name": "S", "is_shared": "perhaps"}, "is_shared"),
    ],
)
def test_bad_segment_input_answers_400_naming_the_field(rep_api, payload, field):
    answer = rep_api.post("/api/saved-segments/", payload, format="json")
    assert answer.status_code == 400
    assert field in answer.json()


def test_a_second_segment_of_the_same_name_is_refused_on_name(rep_api):
    assert rep_api.post("/api/saved-segments/", {"name": "S"}, format="json").status_code == 201
    answer = rep_api.post("/api/saved-segments/", {"name": "S"}, format="json")
    assert answer.status_code == 400
    assert "name" in answer.json()


@pytest.mark.parametrize("role", ["rep", "cs", "admin"])
def test_every_role_saves_its_own_segments(api_for, role):
    answer = api_for(role).post("/api/saved-segments/", {"name": "Mine"}, format="json")
    assert answer.status_code == 201


def test_others_read_shared_segments_change_only_their_own(
    rep, other_rep, rep_api, other_rep_api, cs_api, admin_api
):
    shared = saved_segment_create(owner=other_rep, name="Shared", is_shared=True)
    private = saved_segment_create(owner=other_rep, name="Private")
    mine = saved_segment_create(owner=rep, name="Mine")
    assert {row["name"] for row in rep_api.get("/api/saved-segments/").json()["results"]} == {
        "Mine",
        "Shared",
    }
    assert rep_api.get(f"/api/saved-segments/{private.pk}/").status_code == 404
    assert rep_api.get(f"/api/saved-segments/{shared.pk}/").status_code == 200
    patch = {"name": "Taken over"}
    assert rep_api.patch(f"/api/saved-segments/{shared.pk}/", patch).status_code == 403
    assert rep_api.delete(f"/api/saved-segments/{shared.pk}/").status_code == 403
    assert cs_api.patch(f"/api/saved-segments/{shared.pk}/", patch).status_code == 403
    assert other_rep_api.patch(f"/api/saved-segments/{shared.pk}/", patch).status_code == 200
    assert rep_api.patch(f"/api/saved-segments/{mine.pk}/", {"is_shared": True}).status_code == 200
    renamed = admin_api.patch(f"/api/saved-segments/{private.pk}/", {"name": "Admin's"})
    assert renamed.status_code == 200
    assert admin_api.delete(f"/api/saved-segments/{private.pk}/").status_code == 204
    assert not SavedSegment.objects.filter(pk=private.pk).exists()


def test_segment_list_counts_sizes_in_one_query_whatever_the_page(
    rep, other_rep, rep_api, django_assert_max_num_queries
):
    mixed_population(rep, other_rep)
    for i in range(40):
        saved_segment_create(owner=rep, name=f"S{i:02}", filters="status=at_risk")
    # token, roles, count, page, the page's sizes: the same for 5 rows or 40.
    with django_assert_max_num_queries(6):
        few = rep_api.get("/api/saved-segments/?page_size=5").json()
    with django_assert_max_num_queries(6):
        many = rep_api.get("/api/saved-segments/?page_size=40").json()
    assert len(few["results"]) == 5
    assert len(many["results"]) == 40
    assert {row["size"] for row in many["results"]} == {2}


# --- ?segment= on customers/ --------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        "status=at_risk",
        "type=loyal&country=DE",
        "owner={rep}&status=at_risk",
        "kind=person",
        "search=acme",
        "search=acme&status=inactive",
        "archived=true",
        "",
    ],
)
def test_segment_on_the_customer_list_equals_the_lists_own_filters(
    rep, other_rep, rep_api, filters
):
    mixed_population(rep, other_rep)
    filters = filters.format(rep=rep.pk)
    segment = saved_segment_create(owner=rep, name="S", filters=filters)
    by_filters = _ids(rep_api.get(f"/api/customers/?{filters}&page_size=500"))
    by_segment = _ids(rep_api.get(f"/api/customers/?segment={segment.pk}&page_size=500"))
    assert by_segment == by_filters
    assert by_segment == sorted(segment_customers(segment).values_list("pk", flat=True))


def test_segment_combines_with_other_filters(rep, other_rep, rep_api):
    mixed_population(rep, other_rep)
    segment = saved_segment_create(owner=rep, name="S", filters="status=at_risk")
    both = rep_api.get(f"/api/customers/?segment={segment.pk}&country=FR").json()
    assert both["count"] == 1


@pytest.mark.parametrize("value", ["abc", "0", "99999999999999999999999", "{private}"])
def test_a_bad_or_invisible_segment_answers_400_naming_it(rep_api, other_rep, value):
    private = saved_segment_create(owner=other_rep, name="Private")
    answer = rep_api.get(f"/api/customers/?segment={value.format(private=private.pk)}")
    assert answer.status_code == 400
    assert "segment" in answer.json()


def test_a_segment_whose_filters_went_invalid_answers_400(rep, rep_api):
    broken = SavedSegment.objects.create(owner=rep, name="Old", filters="status=lapsed")
    answer = rep_api.get(f"/api/customers/?segment={broken.pk}")
    assert answer.status_code == 400
    assert "segment" in answer.json()
    assert rep_api.get(f"/api/saved-segments/{broken.pk}/").json()["size"] is None


def test_non_boolean_customer_filters_answer_400(rep_api):
    answer = rep_api.get("/api/customers/?archived=maybe")
    assert answer.status_code == 400
    assert "archived" in answer.json()


# --- campaigns/ ---------------------------------------------------------------------------


@pytest.fixture
def segment(rep):
    for _ in range(6):
        classified("at_risk", owner=rep)
    classified("active", owner=rep)
    return saved_segment_create(owner=rep, name="At risk", filters="status=at_risk", is_shared=True)


@pytest.fixture
def playbook(db):
    # Made here, not the shipped ones: a transactional test flushes the migrations' rows.
    playbook = Playbook.objects.create(name="Win-back play", objective="Bring them back")
    for position, title in enumerate(["Call", "Offer"]):
        PlaybookStep.objects.create(
            playbook=playbook, position=position, title=title, offset_days=position * 7
        )
    return playbook


# Transactional: the run is queued on commit, and without a broker it runs before the answer.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("role", "allowed"), [("rep", False), ("cs", True), ("admin", True)])
def test_customer_success_and_admin_start_campaigns_reps_do_not(
    api_for, segment, playbook, role, allowed
):
    api = api_for(role)
    answer = api.post(
        "/api/campaigns/",
        {"name": "Win back", "segment": segment.pk, "playbook": playbook.pk, "holdout_percent": 50},
        format="json",
    )
    assert answer.status_code == (201 if allowed else 403)
    if not allowed:
        assert not Campaign.objects.exists()
        assert api.get("/api/campaigns/").status_code == 200  # reading is for every role
        return
    body = answer.json()
    campaign = Campaign.objects.get()
    members = CampaignMember.objects.filter(campaign=campaign)
    assert body["state"] == "done"  # no broker: the draw ran at once
    assert body["treatment"] == members.filter(arm="treatment").count()
    assert body["control"] == members.filter(arm="control").count()
    assert body["treatment"] + body["control"] == 6
    assert (body["holdout_percent"], body["outcome_window_days"]) == (50, 60)
    assert ActionPlan.objects.filter(playbook=playbook).count() == body["treatment"]
    assert api.get(f"/api/campaigns/{body['id']}/").json() == body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"holdout_percent": 51}, "holdout_percent"),
        ({"holdout_percent": -1}, "holdout_percent"),
        ({"outcome_window_days": 0}, "outcome_window_days"),
        ({"segment": 999999}, "segment"),
        ({"segment": "x"}, "segment"),
        ({"playbook": None}, "playbook"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_campaign_input_answers_400_naming_the_field(cs_api, segment, playbook, change, field):
    payload = {"name": "Win back", "segment": segment.pk, "playbook": playbook.pk, **change}
    answer = cs_api.post("/api/campaigns/", payload, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert not Campaign.objects.exists()


def test_an_inactive_playbook_or_someone_elses_private_segment_is_refused(
    cs_api, other_rep, playbook
):
    private = saved_segment_create(owner=other_rep, name="Private")
    answer = cs_api.post(
        "/api/campaigns/",
        {"name": "C", "segment": private.pk, "playbook": playbook.pk},
        format="json",
    )
    assert (answer.status_code, list(answer.json())) == (400, ["segment"])
    Playbook.objects.filter(pk=playbook.pk).update(is_active=False)
    shared = saved_segment_create(owner=other_rep, name="Shared", is_shared=True)
    answer = cs_api.post(
        "/api/campaigns/",
        {"name": "C", "segment": shared.pk, "playbook": playbook.pk},
        format="json",
    )
    assert (answer.status_code, list(answer.json())) == (400, ["playbook"])


def test_campaign_list_has_no_query_per_row(
    cs_api, segment, playbook, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for i in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            cs_api.post(
                "/api/campaigns/",
                {"name": f"C{i}", "segment": segment.pk, "playbook": playbook.pk},
                format="json",
            )
        ActionPlan.objects.all().delete()
    with django_assert_max_num_queries(5):
        body = cs_api.get("/api/campaigns/").json()
    assert body["count"] == 3
    assert all(row["treatment"] == 6 and row["control"] == 0 for row in body["results"])
    assert cs_api.get("/api/campaigns/?state=bogus").status_code == 400
    assert cs_api.get(f"/api/campaigns/?segment={segment.pk}").json()["count"] == 3
