import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.roles import CRM_ADMIN, CUSTOMER_SUCCESS, SALES_REP
from customers.demo import DEMO_USERS
from customers.demo.archetypes import ARCHETYPES, DemoGenerator
from customers.models import Customer, Interaction, Product, Subscription
from engagement.models.results import EngagementResult, Status
from engagement.models.workflow import ActionPlan, ActionStep, Alert
from engagement.workflow.defaults import ALERT_RULES
from engagement.workflow.plans import default_success_user
from engagement.workflow.selectors import my_work
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SMALL = 160


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *map(str, args), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_small_seed_lands_in_every_status_type_kind_and_subscription_status():
    output = seed("--customers", SMALL, "--seed", 42)

    results = EngagementResult.objects.all()
    assert results.count() == Customer.objects.count() == SMALL
    assert set(results.values_list("status", flat=True)) == set(Status.values)
    assert results.filter(status=Status.ACTIVE, reactivated=True).exists()
    for code, column in EngagementResult.TYPE_FIELDS.items():
        assert results.filter(**{column: True}).exists(), code
    assert set(Subscription.objects.values_list("status", flat=True)) == set(
        Subscription.Status.values
    )
    assert set(Interaction.objects.values_list("kind", flat=True)) == set(Interaction.Kind.values)
    for kind in ("email", "call", "social", "meeting"):
        directions = set(Interaction.objects.filter(kind=kind).values_list("direction", flat=True))
        assert directions == {"inbound", "outbound"}, kind
    assert set(Customer.objects.values_list("kind", flat=True)) == set(Customer.Kind.values)
    assert set(Product.objects.values_list("kind", flat=True)) == set(Product.Kind.values)
    assert Customer.objects.archived().exists()
    assert Customer.objects.filter(owner__isnull=True).exists()
    assert set(
        Customer.objects.filter(owner__isnull=False).values_list("owner__username", flat=True)
    ) == {"rep", "rep2"}
    assert "Customers by status:" in output
    assert "success  / demo-success" in output


def test_demo_rows_satisfy_the_domain_rules():
    seed("--customers", SMALL)
    now, today = timezone.now(), timezone.localdate()

    interactions = Interaction.objects.all()
    money = interactions.filter(kind__in=["purchase", "refund"])
    assert not money.filter(amount__isnull=True).exists()
    assert not money.filter(amount__lte=0).exists()
    assert (
        not interactions.exclude(kind__in=["purchase", "refund"])
        .exclude(amount__isnull=True)
        .exists()
    )
    assert (
        not interactions.filter(contact__isnull=False)
        .exclude(contact__customer=F("customer"))
        .exists()
    )
    assert not interactions.filter(occurred_at__gt=now).exists()
    oldest = interactions.order_by("occurred_at").first().occurred_at
    assert timezone.is_aware(oldest)
    assert today - timezone.localdate(oldest) <= dt.timedelta(days=541)
    assert not interactions.filter(direction="").exists()
    ended = Subscription.objects.filter(status__in=Subscription.ENDED_STATUSES)
    assert not ended.filter(ended_at__isnull=True).exists()
    assert not Subscription.objects.filter(ended_at__lt=F("started_at")).exists()
    sinces = Customer.objects.order_by("customer_since").values_list("customer_since", flat=True)
    assert (today - sinces.first()).days > 2 * 365
    assert sinces.last() <= today
    # created_at tells the customer's history, and auto_now is back once loading is done
    assert Customer.objects.filter(created_at__lt=now - dt.timedelta(days=365)).exists()
    assert Customer._meta.get_field("created_at").auto_now_add
    assert Subscription._meta.get_field("updated_at").auto_now


def test_demo_users_one_per_role_and_success_takes_unowned_work():
    seed("--customers", SMALL)
    User = get_user_model()
    roles = {
        username: set(User.objects.get(username=username).groups.values_list("name", flat=True))
        for username, *_ in DEMO_USERS
    }
    assert roles == {
        "admin": {CRM_ADMIN},
        "rep": {SALES_REP},
        "rep2": {SALES_REP},
        "success": {CUSTOMER_SUCCESS},
    }
    for username, _, password, _ in DEMO_USERS:
        user = User.objects.get(username=username)
        assert user.is_staff
        assert user.check_password(password)
    success = User.objects.get(username="success")
    assert default_success_user() == success

    # Every default alert rule has fired for some customer (the showcase customers).
    assert set(Alert.objects.values_list("rule__name", flat=True)) == {
        rule["name"] for rule in ALERT_RULES
    }
    assert Alert.objects.filter(customer__owner__isnull=True, assignee=success).exists()
    assert not Alert.objects.filter(customer__archived_at__isnull=False).exists()
    assert ActionPlan.objects.filter(status="active", owner=success).exists()
    assert ActionStep.objects.filter(assignee=success, status="open").exists()
    alerts, steps = my_work(user=success, today=timezone.localdate())
    assert alerts
    assert steps


def test_same_seed_same_data_other_seed_other_data():
    def snapshot(number):
        with transaction.atomic():
            seed("--customers", 60, "--seed", number)
            data = (
                list(Customer.objects.order_by("external_id").values_list("name", "kind")),
                sorted(Interaction.objects.values_list("customer__external_id", "kind", "amount")),
                sorted(Subscription.objects.values_list("external_id", "status", "started_at")),
                sorted(EngagementResult.objects.values_list("customer__external_id", "status")),
            )
            transaction.set_rollback(True)
        return data

    first = snapshot(7)
    assert snapshot(7) == first
    assert snapshot(8)[0] != first[0]


def test_drafts_do_not_depend_on_how_many_are_asked_for():
    def names(count):
        generator = DemoGenerator(seed=3, owners=2)
        return [generator.draft(n).name for n in range(1, count + 1)]

    assert names(40)[:25] == names(25)
    showcases = DemoGenerator(seed=3, owners=2)
    assert [showcases.draft(n).archetype for n in range(1, len(ARCHETYPES) + 1)] == [
        function.__name__ for function, _ in ARCHETYPES
    ]


def test_if_empty_leaves_a_database_with_customers_alone():
    CustomerFactory(name="Already here")
    UserFactory(username="rep", role=SALES_REP)  # password pw-secret-123

    output = seed("--if-empty", "--customers", 50)

    assert list(Customer.objects.values_list("name", flat=True)) == ["Already here"]
    assert not Interaction.objects.exists()
    User = get_user_model()
    assert set(User.objects.values_list("username", flat=True)) >= {u[0] for u in DEMO_USERS}
    assert User.objects.get(username="rep").check_password("pw-secret-123")
    assert "no demo data loaded" in output
    assert "admin    / demo-admin" in output


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ([], "http://127.0.0.1:8000/admin/"),
        (["--host", "127.0.0.1:8031"], "http://127.0.0.1:8031/admin/"),
        (["--host", "8032"], "http://127.0.0.1:8032/admin/"),
    ],
)
def test_logins_name_the_address_the_server_listens_on(host, url):
    CustomerFactory()  # --if-empty on a base: only the logins are printed
    output = seed("--if-empty", *host)
    assert f"Demo logins ({url}):" in output
    assert output.count("http://") == 1


def test_if_empty_seeds_an_empty_database():
    seed("--if-empty", "--customers", 30)
    assert Customer.objects.count() == 30


def test_refuses_a_database_with_customers_unless_appending():
    CustomerFactory(name="Already here")
    with pytest.raises(CommandError, match="already has 1 customers"):
        seed("--customers", 20)
    assert Customer.objects.count() == 1

    seed("--append", "--customers", 20, "--seed", 5)
    assert Customer.objects.count() == 21
    with pytest.raises(CommandError, match="seed 5 are already loaded"):
        seed("--append", "--customers", 20, "--seed", 5)
    assert Customer.objects.count() == 21


def test_statuses_land_in_a_time_zone_far_from_utc(settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: local dates differ from UTC ones
    seed("--customers", 40, "--seed", 11)
    assert set(EngagementResult.objects.values_list("status", flat=True)) == set(Status.values)
