"""The live path (per-customer fold in Python, classified by classification.classify) and the
stored recompute (set-based SQL figures, classified in SQL) agree.

Random histories around D (tests/engagement/engine/histories.py) in four time zones, random
rules. Run it on SQLite and, with DATABASE_URL pointing at PostgreSQL, on PostgreSQL.
"""

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement.engine.live import engagement_evaluate
from engagement.engine.recompute import FIGURE_FIELDS, engagement_recompute
from engagement.engine.rule_sets import rule_set_update
from engagement.models import EngagementResult
from tests.engagement.engine.histories import ZONES, D, build, histories, rule_values

# Property-based: many generated histories per run.
pytestmark = pytest.mark.slow


@pytest.mark.django_db
@pytest.mark.parametrize("tz", ZONES)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=histories, rules=rule_values(), days_later=st.integers(-2, 3))
def test_live_equals_stored(settings, tz, generated, rules, days_later):
    settings.TIME_ZONE = tz
    timezone.activate(tz)
    try:
        rule_set_update(**rules)
        made = build(generated)
        as_of = D + dt.timedelta(days=days_later)
        engagement_recompute(as_of=as_of)
        for c in made:
            result = EngagementResult.objects.get(customer=c)
            live = engagement_evaluate(customer_id=c.pk, as_of=as_of)
            assert (result.status, result.types, result.reactivated, result.score) == (
                live.status,
                sorted(live.types, key=list(EngagementResult.TYPE_FIELDS).index),
                live.reactivated,
                live.score,
            )
            assert result.days_since_activity == live.days_since_activity
            for name in FIGURE_FIELDS:
                assert getattr(result, name) == live.metrics[name], name
    finally:
        timezone.deactivate()
