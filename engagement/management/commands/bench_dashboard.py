"""python manage.py bench_dashboard [--customers N] [--interactions N] [--runs 3] [--keep]

Times the engagement dashboard on PostgreSQL at the size README.md ("Dashboard") promises (< 1 s
at 100,000 customers and 2,000,000 interactions) and prints JSON: render time per run and the
number of queries. It builds a scratch database `crm_bench_dash` next to the configured
one (generated with set-based SQL: customers over three years, interactions with a skew
towards some customers, subscriptions, stored results, a year of status history and type
changes), renders the dashboard through the admin as a crm_admin for each period, and
drops the database unless --keep (then a second run reuses it).
Figures, not a test; the machine is shared, so they are pessimistic.
"""

import json
import statistics
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from engagement.models.results import Status

SCRATCH = "crm_bench_dash"
COUNTRIES = ["DE", "FR", "NL", "ES", "IT", "GB", "US", "PL", "SE", "AT"]
INDUSTRIES = [
    "Retail",
    "Software",
    "Finance",
    "Health",
    "Education",
    "Logistics",
    "Media",
    "Energy",
]
STATUSES = list(Status.values)


class Command(BaseCommand):
    help = "Time the engagement dashboard on a large PostgreSQL scratch database (prints JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--interactions", type=int, default=2_000_000)
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")

    def handle(self, *args, customers, interactions, runs, keep, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_dashboard needs PostgreSQL: set DATABASE_URL=postgres://...")
        created = self._use_scratch_database()
        try:
            timings = {}
            if created or not self._has_data(customers, interactions):
                started = time.perf_counter()
                self._generate(customers, interactions)
                timings["generate_s"] = round(time.perf_counter() - started, 1)
            from engagement.models import MetricRefresh

            MetricRefresh.objects.all().delete()
            live_pages = self._measure(1, label="live (no rollup refresh today)")
            from engagement.analytics.rollups import metrics_refresh

            refresh = metrics_refresh()
            report = {
                "database": SCRATCH,
                "customers": self._count("customers_customer"),
                "interactions": self._count("customers_interaction"),
                "status_history_rows": self._count("engagement_statushistory"),
                **timings,
                "refresh_metrics_s": refresh.seconds,
                "pages": self._measure(runs, label="from the rollups (refreshed today)"),
                "pages_live": live_pages,
                "note": "2 shared cores; other work ran at the same time: pessimistic figures",
            }
            self.stdout.write(json.dumps(report, indent=2))
        finally:
            self._leave_scratch_database(drop=not keep)

    # --- the scratch database -----------------------------------------------------------------

    def _use_scratch_database(self) -> bool:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [SCRATCH])
            exists = cursor.fetchone() is not None
            if not exists:
                cursor.execute(f'CREATE DATABASE "{SCRATCH}"')
        self._original_name = connection.settings_dict["NAME"]
        connection.close()
        connection.settings_dict["NAME"] = SCRATCH
        call_command("migrate", verbosity=0, interactive=False)
        return not exists

    def _leave_scratch_database(self, *, drop: bool):
        connection.close()
        connection.settings_dict["NAME"] = self._original_name
        if drop:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}"')
        connections.close_all()

    def _count(self, table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # fixed table names
            return cursor.fetchone()[0]

    def _has_data(self, customers: int, interactions: int) -> bool:
        return (
            self._count("customers_customer") >= customers
            and self._count("customers_interaction") >= interactions
        )

    # --- data -----------------------------------------------------------------------------------

    def _generate(self, customers: int, interactions: int):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from crm.roles import SALES_REP
        from customers.models import Product
        from engagement.engine.rule_sets import rule_set_ensure

        User = get_user_model()
        rep_group = Group.objects.get(name=SALES_REP)
        reps = []
        for i in range(10):
            rep, _ = User.objects.get_or_create(
                username=f"bench_rep{i}", defaults={"is_staff": True}
            )
            rep.groups.add(rep_group)
            reps.append(rep.pk)
        User.objects.get_or_create(
            username="bench_admin", defaults={"is_staff": True, "is_superuser": True}
        )
        products = [
            Product.objects.get_or_create(
                sku=f"BENCH-{i}",
                defaults={"name": f"Plan {i}", "kind": "service" if i % 2 else "product"},
            )[0].pk
            for i in range(5)
        ]
        rule_set_id = rule_set_ensure().pk
        steps = [
            (
                "customers",
                """
                INSERT INTO customers_customer (name, kind, email, phone, country, industry,
                    owner_id, customer_since, external_id, created_at, updated_at, archived_at)
                SELECT 'Customer ' || g, CASE WHEN g % 5 = 0 THEN 'person' ELSE 'company' END,
                    'c' || g || '@example.com', '', (%s::text[])[1 + g % 10],
                    (%s::text[])[1 + (g / 10) % 8], (%s::int[])[1 + (g / 3) % 10],
                    CURRENT_DATE - (random() * 1095)::int, '', now(), now(), NULL
                FROM generate_series(1, %s) g
                """,
                [COUNTRIES, INDUSTRIES, reps, customers],
            ),
            (
                "interactions",
                """
                INSERT INTO customers_interaction (customer_id, contact_id, kind, direction,
                    occurred_at, amount, subject, notes, external_id, created_by_id, created_at)
                SELECT c.id, NULL, k.kind,
                    CASE WHEN k.kind = 'note' THEN 'outbound'
                         WHEN k.kind IN ('email', 'call', 'chat') AND r.r2 < 0.5 THEN 'outbound'
                         ELSE 'inbound' END,
                    GREATEST(c.customer_since::timestamptz, now() - interval '1100 days')
                        + r.r3 * (now() - GREATEST(c.customer_since::timestamptz,
                                                   now() - interval '1100 days')),
                    CASE WHEN k.kind IN ('purchase', 'refund')
                         THEN round((1 + r.r2 * 400)::numeric, 2) END,
                    '', '', '', NULL, now()
                FROM (
                    SELECT g, (SELECT min(id) FROM customers_customer)
                               + floor(%s * power(random(), 1.4))::int AS cid,
                           random() AS r1, random() AS r2, random() AS r3
                    FROM generate_series(1, %s) g
                ) r
                JOIN customers_customer c ON c.id = r.cid
                CROSS JOIN LATERAL (SELECT CASE
                    WHEN r.r1 < 0.35 THEN 'login' WHEN r.r1 < 0.50 THEN 'feature_use'
                    WHEN r.r1 < 0.60 THEN 'email' WHEN r.r1 < 0.68 THEN 'support'
                    WHEN r.r1 < 0.78 THEN 'purchase' WHEN r.r1 < 0.80 THEN 'refund'
                    WHEN r.r1 < 0.86 THEN 'call' WHEN r.r1 < 0.90 THEN 'meeting'
                    WHEN r.r1 < 0.93 THEN 'webinar' WHEN r.r1 < 0.96 THEN 'chat'
                    WHEN r.r1 < 0.98 THEN 'note' ELSE 'visit' END AS kind) k
                """,
                [customers, interactions],
            ),
            (
                "subscriptions",
                """
                INSERT INTO customers_subscription (customer_id, product_id, status, started_at,
                    ended_at, amount, interval, external_id, created_at, updated_at)
                SELECT s.customer_id, s.product_id, s.status, s.started_at,
                    CASE WHEN s.status IN ('cancelled', 'expired')
                         THEN s.started_at + (30 + random() * 300)::int END,
                    (ARRAY[19, 49, 99, 490, 990])[1 + s.g % 5],
                    CASE WHEN s.g % 5 >= 3 THEN 'year' ELSE 'month' END, '', now(), now()
                FROM (
                    SELECT g,
                        (SELECT min(id) FROM customers_customer) + (g * 7) % %s AS customer_id,
                        (%s::int[])[1 + g % 5] AS product_id,
                        (ARRAY['active', 'active', 'active', 'cancelled', 'trial', 'past_due',
                               'paused', 'expired'])[1 + g % 8] AS status,
                        CURRENT_DATE - (random() * 900)::int AS started_at
                    FROM generate_series(1, %s) g
                ) s
                """,
                [customers, products, customers * 3 // 10],
            ),
            (
                "results",
                """
                INSERT INTO engagement_engagementresult (customer_id, status, reactivated,
                    type_recent_buyer, type_loyal, type_support, type_product_subscriber,
                    type_service_subscriber, type_contact, score, r_score, f_score, m_score,
                    loyal_purchases, support_interactions, contact_interactions, activity_365,
                    channels_90, revenue_365, live_product_subscriptions,
                    live_service_subscriptions, mrr, rule_set_id, as_of, computed_at)
                SELECT id, (%s::text[])[1 + (id * 7) % 6], id % 17 = 0, id % 3 = 0, id % 5 = 0,
                    id % 7 = 0, id % 4 = 0, id % 6 = 0, id % 2 = 0, (id * 37) % 101,
                    1 + id % 5, 1 + (id / 5) % 5, 1 + (id / 25) % 5, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                    %s, CURRENT_DATE, now()
                FROM customers_customer
                """,
                [STATUSES, rule_set_id],
            ),
            (
                "status history",
                """
                INSERT INTO engagement_statushistory (customer_id, from_status, to_status, as_of,
                    changed_at, rule_set_id)
                SELECT c.id, CASE WHEN n = 1 THEN '' ELSE (%s::text[])[1 + (c.id + n - 1) % 6] END,
                    (%s::text[])[1 + (c.id + n) % 6], CURRENT_DATE - (400 - n * 120), now(), %s
                FROM customers_customer c CROSS JOIN generate_series(1, 3) n
                """,
                [STATUSES, STATUSES, rule_set_id],
            ),
            (
                "type changes",
                """
                INSERT INTO engagement_typechange (customer_id, customer_type, gained, as_of,
                    changed_at, rule_set_id)
                SELECT c.id, (ARRAY['recent_buyer', 'loyal', 'support', 'product_subscriber',
                    'service_subscriber', 'contact'])[1 + c.id % 6], n = 1,
                    CURRENT_DATE - (380 - n * 150), now(), %s
                FROM customers_customer c CROSS JOIN generate_series(1, 2) n
                """,
                [rule_set_id],
            ),
        ]
        with connection.cursor() as cursor:
            for step, sql, params in steps:
                started = time.perf_counter()
                # Literal % of SQL (modulo) doubled for the driver's placeholders.
                cursor.execute(sql.replace("%", "%%").replace("%%s", "%s"), params)
                self.stderr.write(f"{step}: {time.perf_counter() - started:.1f}s")
            cursor.execute("ANALYZE")

    # --- measuring ------------------------------------------------------------------------------

    def _measure(self, runs: int, *, label: str) -> list[dict]:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get(username="bench_admin")
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        pages = []
        for page, query in (
            ("month, 12 months (default)", {}),
            ("ISO week, 12 weeks", {"period": "week"}),
            ("day, 30 days", {"period": "day"}),
            ("month, one country", {"country": "FR"}),
        ):
            times, queries = [], 0
            for _ in range(runs):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get("/admin/engagement/dashboard/", query)
                    times.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise CommandError(f"dashboard answered {response.status_code}")
                queries = len(captured.captured_queries)
            slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
            pages.append(
                {
                    "source": label,
                    "page": page,
                    "runs_ms": [round(t * 1000) for t in times],
                    "median_ms": round(statistics.median(times) * 1000),
                    "queries": queries,
                    "slowest_query_ms": round(float(slowest["time"]) * 1000),
                    "slowest_query": slowest["sql"][:120],
                }
            )
        return pages
