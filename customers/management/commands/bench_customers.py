"""python manage.py bench_customers [--customers 100000] [--batches 20] [--keep]

Figures (not a test) for two promises of docs/definitions.md ("Performance"):

- the admin customer list (page of 100, engagement columns) under common filters and a
  search: median server time and query count, as a sales rep and as a crm_admin;
- bulk interaction ingest (customers.services.interactions_bulk_record, the service behind
  the API's bulk endpoint) in 1,000-row batches: rows per second.

It fills the database up to --customers (each with a contact and a stored engagement
result) and removes what it made unless --keep. Run it on a scratch database:
DATABASE_URL=sqlite:////tmp/bench.sqlite3 python manage.py migrate && ... bench_customers
"""

import random
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from crm.roles import CRM_ADMIN, SALES_REP, sync_groups
from customers.models import Contact, Customer, Interaction
from customers.services import interactions_bulk_record
from engagement.models.results import EngagementResult, Status
from engagement.models.rules import RuleSet

PREFIX = "BENCHC-"
REPS = 10
LIST_CASES = [
    ("default list", {}),
    ("my accounts", {"owner": "me"}),
    ("status + type", {"status": "at_risk", "type": "loyal"}),
    ("country + industry", {"country": "FR", "industry": "Tech"}),
    # Search terms are picked at run time from the bench contacts ("Ann Smith<id>"): one
    # contact's full last name (a few matches) and "Smith" (every customer matches).
    ("search a contact name", {"q": "name"}),
    ("search common word", {"q": "common"}),
    ("with archived", {"archived": "all"}),
]


class Command(BaseCommand):
    help = "Time the admin customer list and bulk interaction ingest (figures, not a test)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--batches", type=int, default=20)
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--keep", action="store_true")

    def handle(self, *args, customers, batches, repeat, keep, **options):
        rng = random.Random(11)
        sync_groups()
        reps, admin = self._users()
        made = self._fill(customers, reps, rng)
        self.stdout.write(
            f"{Customer.objects.count():,} customers ({made:,} made for this run), "
            f"database: {connection.vendor}"
        )
        try:
            self._bench_list(reps[0], admin, repeat)
            self._bench_bulk(batches, rng)
        finally:
            if not keep:
                self._clean_up()

    def _users(self):
        from django.contrib.auth.models import Group

        User = get_user_model()
        users = []
        for name, role in [(f"bench_rep{i}", SALES_REP) for i in range(REPS)] + [
            ("bench_admin", CRM_ADMIN)
        ]:
            user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": True})
            user.groups.add(Group.objects.get(name=role))
            users.append(user)
        return users[:-1], users[-1]

    def _fill(self, target, reps, rng) -> int:
        missing = max(0, target - Customer.objects.count())
        if not missing:
            return 0
        start = time.perf_counter()
        rule_set = RuleSet.objects.order_by("-version").first() or RuleSet.objects.create(version=1)
        today, now = timezone.localdate(), timezone.now()
        step = 5_000
        for offset in range(0, missing, step):
            batch = [
                Customer(
                    name=f"Bench {offset + i:06d}",
                    external_id=f"{PREFIX}{offset + i}",
                    country=rng.choice(["DE", "FR", "US", "UK", "ES", "IT", "NL"]),
                    industry=rng.choice(["Retail", "Energy", "Tech", "Health", "Finance"]),
                    owner=rng.choice(reps),
                    email=f"bench{offset + i}@example.com",
                )
                for i in range(min(step, missing - offset))
            ]
            Customer.objects.bulk_create(batch, batch_size=1_000)
            ids = list(
                Customer.objects.filter(external_id__in=[c.external_id for c in batch]).values_list(
                    "pk", flat=True
                )
            )
            Contact.objects.bulk_create(
                [Contact(customer_id=pk, first_name="Ann", last_name=f"Smith{pk}") for pk in ids],
                batch_size=1_000,
            )
            EngagementResult.objects.bulk_create(
                [
                    EngagementResult(
                        customer_id=pk,
                        status=rng.choice(Status.values),
                        score=rng.randint(0, 100),
                        type_loyal=rng.random() < 0.2,
                        rule_set=rule_set,
                        as_of=today,
                        computed_at=now,
                        last_activity_on=today,
                    )
                    for pk in ids
                ],
                batch_size=1_000,
            )
        if connection.vendor in ("sqlite", "postgresql"):
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # fresh planner statistics, as in production
        self.stderr.write(f"made {missing:,} customers in {time.perf_counter() - start:.1f} s")
        return missing

    def _bench_list(self, rep, admin, repeat):
        setup_test_environment()  # lets the test client see the response context
        client = Client()
        contacts = Contact.objects.filter(last_name__startswith="Smith").order_by("-pk")
        name = contacts.values_list("last_name", flat=True).first() or "Smith"
        terms = {"name": name, "common": "Smith"}
        cases = [
            (label, {**params, "q": terms[params["q"]]} if "q" in params else params)
            for label, params in LIST_CASES
        ]
        self.stdout.write(f"\nadmin customer list, page of 100 (median of {repeat})")
        for user in (rep, admin):
            client.force_login(user)
            for label, params in cases:
                client.get("/admin/customers/customer/", params)  # warm
                times = []
                for _ in range(repeat):
                    with CaptureQueriesContext(connection) as queries:
                        start = time.perf_counter()
                        response = client.get("/admin/customers/customer/", params)
                        times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.status_code
                rows = len(response.context["cl"].result_list)
                self.stdout.write(
                    f"  {user.username:<12} {label:<22} {statistics.median(times):7.1f} ms"
                    f"  {len(queries):2d} queries  {rows:3d} rows"
                )

    def _bench_bulk(self, batches, rng):
        ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:5_000])
        kinds = ["login", "support", "call", "email", "note", "purchase"]
        rates = []
        for batch in range(batches):
            rows = []
            for i in range(1_000):
                kind = rng.choice(kinds)
                rows.append(
                    {
                        "customer": rng.choice(ids),
                        "kind": kind,
                        "occurred_at": "2025-03-01T10:00:00Z",
                        "amount": "19.90" if kind == "purchase" else None,
                        "subject": "bench",
                        "external_id": f"{PREFIX}{batch}-{i}",
                    }
                )
            start = time.perf_counter()
            interactions_bulk_record(rows=rows)
            rates.append(1_000 / (time.perf_counter() - start))
        median = statistics.median(rates)
        self.stdout.write(
            f"\nbulk ingest, {batches} batches of 1,000 rows: median {median:,.0f} rows/s"
            f" (min {min(rates):,.0f}, max {max(rates):,.0f}); includes what the"
            " interactions_recorded subscribers do in-process (no broker)"
        )

    def _clean_up(self):
        Interaction.objects.filter(external_id__startswith=PREFIX).delete()
        Customer.objects.filter(external_id__startswith=PREFIX).delete()
        get_user_model().objects.filter(username__startswith="bench_").delete()
