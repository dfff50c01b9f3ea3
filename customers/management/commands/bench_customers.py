"""python manage.py bench_customers [--customers 100000] [--repeat 5] [--batches 20] [--keep]

Figures (not a test) for two promises of the README's performance table:

- the admin customer list (page of 100, engagement columns): the default list, each filter,
  a deep page and searches (one name, a word every customer matches, a word nobody
  matches), as a sales rep and as a crm_admin: median server time and query count;
- bulk interaction ingest (customers.services.interactions_bulk_record, the service behind
  the API's bulk endpoint) in 1,000-row batches: rows per second.

The base is what users see: `seed_demo` customers (contacts, subscriptions, about 15
interactions each, engagement computed). Missing customers up to --customers are added
with `seed_demo --append --seed 1015` and kept, so a second run reuses them; the ingested
interactions are removed unless --keep. The list is timed as the demo users `rep` and
`admin`. Run it on a scratch database:
DATABASE_URL=sqlite:////tmp/bench.sqlite3 python manage.py migrate && ... bench_customers
"""

import io
import random
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment

from customers.models import Contact, Customer, Interaction
from customers.services import interactions_bulk_record

PREFIX = "BENCHC-"
SEED = 1015
CHANGELIST = "/admin/customers/customer/"
# Search words are picked from the base at run time: see _search_terms().
LIST_CASES = [
    ("default list", {}),
    ("page 50", {"p": "50"}),
    ("my accounts", {"owner": "me"}),
    ("no owner", {"owner": "none"}),
    ("status at risk", {"status": "at_risk"}),
    ("status not computed", {"status": "none"}),
    ("type loyal", {"type": "loyal"}),
    ("reactivated", {"reactivated": "yes"}),
    ("kind person", {"kind": "person"}),
    ("country PL", {"country": "PL"}),
    ("industry Energy", {"industry": "Energy"}),
    ("archived", {"archived": "yes"}),
    ("with archived", {"archived": "all"}),
    ("P(alive) below 0.25", {"p_alive": "lt25"}),
    ("no prediction", {"p_alive": "none"}),
    ("status + type + owner", {"status": "active", "type": "loyal", "owner": "me"}),
    ("status + P(alive)", {"status": "at_risk", "p_alive": "gte75"}),
    ("status, page 50", {"status": "active", "p": "50"}),
    # Sorts name their column; `o` is its place in the user's list_display: see _sort().
    ("sort by name desc", {"o": "-name"}),
    ("sort by score", {"o": "-engagement_score"}),
    ("sort by last activity", {"o": "-last_activity"}),
    ("sort by P(alive)", {"o": "p_alive"}),
    ("sort by CLV", {"o": "-predicted_clv"}),
    ("sort + filter", {"o": "-engagement_score", "status": "at_risk"}),
    ("search one name", {"q": "name"}),
    ("search one contact", {"q": "contact"}),
    ("search every customer", {"q": "everyone"}),
    ("search no match", {"q": "nobody"}),
    ("search + filter", {"q": "everyone", "status": "active"}),
]


class Command(BaseCommand):
    help = "Time the admin customer list and bulk interaction ingest (figures, not a test)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--batches", type=int, default=20)
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--keep", action="store_true")
        parser.add_argument("--list-only", action="store_true", help="skip the ingest figures")

    def handle(self, *args, customers, batches, repeat, keep, list_only, **options):
        rng = random.Random(11)
        made = self._fill(customers)
        self.stdout.write(
            f"{Customer.objects.count():,} customers, {Contact.objects.count():,} contacts, "
            f"{Interaction.objects.count():,} interactions ({made:,} customers made for this "
            f"run), database: {connection.vendor}"
        )
        try:
            self._bench_list(*self._users(), repeat)
            if not list_only:
                self._bench_bulk(batches, rng)
        finally:
            if not keep:
                self._clean_up()

    def _users(self):
        """The demo's rep (owns part of the base) and admin, made by seed_demo."""
        User = get_user_model()
        return User.objects.get(username="rep"), User.objects.get(username="admin")

    def _fill(self, target) -> int:
        missing = max(0, target - Customer.objects.count())
        if not missing:
            return 0
        start = time.perf_counter()
        call_command(
            "seed_demo",
            customers=missing,
            seed=SEED,
            append=True,
            stdout=io.StringIO(),
            stderr=self.stderr,
        )
        with connection.cursor() as cursor:
            # Fresh planner statistics, and on PostgreSQL the dead rows of the recompute
            # cleared and the visibility map set (index-only scans), as autovacuum would.
            if connection.vendor == "postgresql":
                cursor.execute("VACUUM ANALYZE")
            elif connection.vendor == "sqlite":
                cursor.execute("ANALYZE")
        self.stderr.write(f"made {missing:,} customers in {time.perf_counter() - start:.1f} s")
        return missing

    def _search_terms(self) -> dict[str, str]:
        """A person customer's full name (a few matches), a contact's full name, a word every
        demo customer matches (their external ids start with DEMO) and one nobody does."""
        person = (
            Customer.objects.filter(kind=Customer.Kind.PERSON).order_by("-pk").values("name")
        ).first()
        contact = Contact.objects.order_by("-pk").values("first_name", "last_name").first()
        return {
            "name": person["name"] if person else "Anna",
            "contact": f"{contact['first_name']} {contact['last_name']}" if contact else "Anna",
            "everyone": "demo",
            "nobody": "qqzzqq",
        }

    def _bench_list(self, rep, admin, repeat):
        setup_test_environment()  # lets the test client see the response context
        client = Client()
        terms = self._search_terms()
        cases = [
            (label, {**params, "q": terms[params["q"]]} if "q" in params else params)
            for label, params in LIST_CASES
        ]
        self.stdout.write(
            f"\nadmin customer list, page of 100: median of {repeat} (min; median CPU time of"
            " this process, which includes SQLite's work but not PostgreSQL's); searches: "
            + ", ".join(f"{key}={value!r}" for key, value in terms.items())
        )
        for user in (rep, admin):
            client.force_login(user)
            columns = client.get(CHANGELIST).context["cl"].list_display
            for label, params in cases:
                params = _sort(params, columns)
                client.get(CHANGELIST, params)  # warm
                times, cpu = [], []
                for _ in range(repeat):
                    with CaptureQueriesContext(connection) as queries:
                        start, start_cpu = time.perf_counter(), time.process_time()
                        response = client.get(CHANGELIST, params)
                        times.append((time.perf_counter() - start) * 1000)
                        cpu.append((time.process_time() - start_cpu) * 1000)
                assert response.status_code == 200, (label, response.status_code)
                rows = len(response.context["cl"].result_list)
                self.stdout.write(
                    f"  {user.username:<6} {label:<22} {statistics.median(times):7.1f} ms"
                    f" (min {min(times):6.1f}, cpu {statistics.median(cpu):6.1f})"
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


def _sort(params: dict, columns: list) -> dict:
    """`o` given as a column name ("-engagement_score") made the admin's column number, which
    depends on the user (the action checkbox comes first only for users with actions)."""
    if "o" not in params:
        return params
    sign, name = ("-", params["o"][1:]) if params["o"].startswith("-") else ("", params["o"])
    return {**params, "o": f"{sign}{columns.index(name)}"}
