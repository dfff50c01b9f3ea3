"""Saved segments: filters validated and normalised, applied live, sizes counted in bulk."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm import permissions
from engagement.models.segments import SavedSegment
from engagement.workflow.segments import (
    saved_segment_create,
    saved_segment_list,
    saved_segment_update,
    segment_customers,
    segment_filters_clean,
    segment_sizes,
)
from tests.factories import ContactFactory, CustomerFactory

from .builders import classified, mixed_population

pytestmark = pytest.mark.django_db


def _names(queryset):
    return sorted(queryset.values_list("name", flat=True))


def test_filters_are_normalised_in_a_fixed_order_without_blanks():
    assert (
        segment_filters_clean("search=+acme+&country=&status=at_risk&type=loyal")
        == "type=loyal&status=at_risk&search=acme"
    )
    assert segment_filters_clean("") == ""


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ("colour=red", "colour"),
        ("status=bogus", "status"),
        ("owner=abc", "owner"),
        ("owner=99999999999999999999999", "owner"),
        ("archived=maybe", "archived"),
        ("status=active&status=churned", "status"),
        ("segment=3", "segment"),
    ],
)
def test_bad_filters_are_refused_naming_the_parameter(filters, named):
    with pytest.raises(ValidationError) as refused:
        segment_filters_clean(filters)
    assert list(refused.value.message_dict) == ["filters"]
    assert named in " ".join(refused.value.message_dict["filters"])


def test_a_segment_is_a_live_list_of_the_lists_filters(rep, other_rep):
    mixed_population(rep, other_rep)
    segment = saved_segment_create(owner=rep, name="Risky", filters="status=at_risk")
    # The archived at-risk customer is left out, as on the list.
    assert segment_customers(segment).count() == 2
    classified("at_risk", owner=rep)
    assert segment_customers(segment).count() == 3


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ("type=loyal&owner={rep}", 2),
        ("country=de", 5),  # any case, as the API's country filter
        ("country=FR", 1),
        ("status=none", 1),
        ("has_owner=false", 1),
        ("reactivated=true", 1),
        ("kind=person", 1),
        ("archived=true", 1),
        ("search=acme", 3),
        ("search=acme&status=inactive", 1),
        ("industry=food", 1),
    ],
)
def test_each_filter_narrows_as_the_list_does(rep, other_rep, filters, expected):
    mixed_population(rep, other_rep)
    segment = saved_segment_create(owner=rep, name="S", filters=filters.format(rep=rep.pk))
    assert segment_customers(segment).count() == expected


def test_search_matches_contacts_too(rep):
    customer = CustomerFactory(name="Plain")
    ContactFactory(customer=customer, last_name="Zappa")
    segment = saved_segment_create(owner=rep, name="Z", filters="search=zappa")
    assert _names(segment_customers(segment)) == ["Plain"]


def test_stored_filters_gone_invalid_raise_a_validation_error_on_segment(rep):
    segment = SavedSegment.objects.create(owner=rep, name="Old", filters="status=lapsed")
    with pytest.raises(ValidationError) as refused:
        segment_customers(segment)
    assert "segment" in refused.value.message_dict


def test_sizes_of_many_segments_take_one_query(rep, other_rep, django_assert_num_queries):
    mixed_population(rep, other_rep)
    segments = [
        saved_segment_create(owner=rep, name=f"S{i}", filters=filters)
        for i, filters in enumerate(["status=at_risk", "", "search=acme", "type=loyal"] * 30)
    ]
    broken = SavedSegment.objects.create(owner=rep, name="Broken", filters="status=lapsed")
    with django_assert_num_queries(2):  # 121 segments: a UNION of 100 and one of 20
        sizes = segment_sizes([*segments, broken])
    assert [sizes[s.pk] for s in segments[:4]] == [2, 6, 3, 2]
    assert sizes[broken.pk] is None
    assert sizes[segments[0].pk] == segment_customers(segments[0]).count()


def test_names_are_unique_per_owner(rep, other_rep):
    saved_segment_create(owner=rep, name="Mine")
    saved_segment_create(owner=other_rep, name="Mine")
    with pytest.raises(ValidationError) as refused:
        saved_segment_create(owner=rep, name="Mine")
    assert list(refused.value.message_dict) == ["name"]


def test_update_validates_filters_and_refuses_other_fields(rep, other_rep):
    segment = saved_segment_create(owner=rep, name="S")
    saved_segment_update(segment=segment, filters="type=loyal&status=active", is_shared=True)
    segment.refresh_from_db()
    assert (segment.filters, segment.is_shared) == ("type=loyal&status=active", True)
    with pytest.raises(ValidationError) as refused:
        saved_segment_update(segment=segment, filters="nope=1")
    assert list(refused.value.message_dict) == ["filters"]
    with pytest.raises(ValidationError) as refused:
        saved_segment_update(segment=segment, owner=other_rep)
    assert list(refused.value.message_dict) == ["owner"]


def test_visibility_own_and_shared_admin_all(rep, other_rep, cs, crm_admin):
    mine = saved_segment_create(owner=rep, name="Mine")
    shared = saved_segment_create(owner=other_rep, name="Shared", is_shared=True)
    private = saved_segment_create(owner=other_rep, name="Private")
    assert list(saved_segment_list(user=rep)) == [mine, shared]
    assert list(saved_segment_list(user=cs)) == [shared]
    assert set(saved_segment_list(user=crm_admin)) == {mine, shared, private}
    assert permissions.can_edit_segment(rep, mine)
    assert not permissions.can_edit_segment(rep, shared)
    assert permissions.can_edit_segment(crm_admin, private)


def test_archived_customers_need_the_archived_filter(rep):
    CustomerFactory(name="Gone", archived_at=timezone.now())
    CustomerFactory(name="Here")
    everyone = saved_segment_create(owner=rep, name="All")
    archived = saved_segment_create(owner=rep, name="Archived", filters="archived=true")
    assert _names(segment_customers(everyone)) == ["Here"]
    assert _names(segment_customers(archived)) == ["Gone"]
