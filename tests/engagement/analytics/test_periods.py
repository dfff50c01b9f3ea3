"""Periods parsed from query parameters: bad values name the field."""

import pytest
from django.core.exceptions import ValidationError

from engagement.analytics.periods import Period
from tests.engagement.analytics.histories import D

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "year"}, "period"),
        ({"start": "2026-13-01"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "start"),
        ({"period": "day", "start": "2020-01-01", "end": "2026-01-01"}, "start"),
    ],
)
def test_bad_period_parameters_name_the_field(params, field):
    with pytest.raises(ValidationError) as info:
        Period.parse(**params)
    assert field in info.value.message_dict


def test_default_period_is_twelve_months_to_today():
    period = Period.parse(today=D(2026, 11, 23))
    assert period.buckets[0] == D(2025, 12, 1)
    assert period.buckets[-1] == D(2026, 11, 1)
    assert len(period.buckets) == 12
