import pytest
from django.core.exceptions import ValidationError

from engagement.engine.rule_sets import (
    current_rules,
    rule_set_current,
    rule_set_ensure,
    rule_set_update,
)
from engagement.engine.rules import Rules, rule_errors, validate_rules
from engagement.models import RuleSet


def test_defaults_are_the_product_table():
    r = Rules()
    assert (r.active_days, r.at_risk_days, r.inactive_days, r.onboarding_days) == (30, 60, 90, 30)
    assert (r.loyal_min_purchases, r.loyal_window_days, r.loyal_min_tenure_days) == (3, 365, 180)
    assert r.count_trials_as_subscribers is False


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"recent_buyer_days": -1}, {"recent_buyer_days"}),
        ({"active_days": 60}, {"active_days", "at_risk_days"}),
        ({"at_risk_days": 90}, {"at_risk_days", "inactive_days"}),
        ({"loyal_min_purchases": 0}, {"loyal_min_purchases"}),
        ({"support_min_interactions": 0}, {"support_min_interactions"}),
        ({"contact_min_interactions": 0}, {"contact_min_interactions"}),
    ],
)
def test_nonsense_is_refused_with_a_message_per_field(changes, fields):
    assert set(rule_errors(changes)) == fields
    with pytest.raises(ValidationError) as error:
        validate_rules(Rules().replace(**changes))
    assert set(error.value.message_dict) == fields


def test_sensible_rules_pass():
    assert rule_errors(Rules(active_days=10, at_risk_days=11, inactive_days=12)) == {}


@pytest.mark.django_db
def test_first_use_creates_version_one_with_the_defaults():
    assert RuleSet.objects.count() == 0
    rs = rule_set_ensure()
    assert (rs.version, rs.active_days) == (1, 30)
    assert rule_set_ensure().pk == rs.pk


@pytest.mark.django_db
def test_reading_the_current_rules_writes_nothing():
    assert rule_set_current() is None
    assert current_rules() == Rules()
    assert not RuleSet.objects.exists()
    stored = rule_set_update(active_days=20)
    assert rule_set_current() == stored
    assert current_rules().active_days == 20


@pytest.mark.django_db
def test_an_update_makes_a_new_version_and_keeps_the_old(crm_admin):
    v1 = rule_set_ensure()
    v2 = rule_set_update(user=crm_admin, active_days=45)
    assert (v2.version, v2.active_days, v2.at_risk_days, v2.created_by) == (2, 45, 60, crm_admin)
    assert RuleSet.objects.get(pk=v1.pk).active_days == 30
    assert rule_set_ensure().pk == v2.pk
    assert Rules.from_rule_set(v2).version == 2


@pytest.mark.django_db
def test_a_refused_update_saves_nothing():
    rule_set_ensure()
    with pytest.raises(ValidationError) as error:
        rule_set_update(inactive_days=50)
    assert "inactive_days" in error.value.message_dict
    with pytest.raises(ValidationError):
        rule_set_update(nonsense=3)
    assert RuleSet.objects.count() == 1
