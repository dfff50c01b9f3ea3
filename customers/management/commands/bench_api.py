"""python manage.py bench_api [--customers 100000] [--batches 20] [--requests 200] [--keep]
                              [--bulk-only]

Figures (not a test) for two API promises (README.md, "REST API": "Speed"), measured
against a real server:
gunicorn on loopback, serving this project with the database this command is configured
with (DATABASE_URL), over HTTP with token authentication.

- bulk ingest: POST /api/interactions/bulk/ in --batch-size rows (1,000), one after the
  other, for customers drawn from the whole base, into the interactions table seed_demo
  filled (about 1.5 million rows at 100,000 customers; the report says how many):
  interactions written per second (rows / wall time of the requests), measured twice:
  as shipped with no broker (each batch's engagement refresh runs in the request) and with
  a broker (the refresh queued for a worker, as in production; an in-memory queue here);
  --bulk-only measures the second alone (the promise) and skips the list latency;
- list latency: a filtered page of 50 of GET /api/customers/ at --customers customers,
  rotating over several filters: median and p95 in milliseconds.

It fills the database up to --customers (each with a stored engagement result) with
`seed_demo --customers N` when that command exists, else a quick bulk insert, and removes
what it made unless --keep. The seeded base is kept either way, so a second run on the same
database starts at once (the seed takes minutes); each run removes only its own rows. Prints
one JSON document. Run it on a scratch database:

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python manage.py migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python manage.py bench_api
"""

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from crm.roles import CRM_ADMIN, SALES_REP, sync_groups
from customers.models import Customer, Interaction
from engagement.models.results import EngagementResult, Status
from engagement.models.rules import RuleSet

PREFIX = "BENCHAPI-"
REPS = 10
LIST_QUERIES = [
    "status=at_risk",
    "type=loyal",
    "country=FR&industry=Tech",
    "owner={owner}",
    "kind=company&ordering=-engagement__score",
    "status=active&type=loyal&country=DE",
    "search=Bench 0123",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Bulk ingest rate and customer list latency through gunicorn (prints JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--batches", type=int, default=20)
        parser.add_argument("--batch-size", type=int, default=1_000)
        parser.add_argument("--requests", type=int, default=210)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--keep", action="store_true")
        parser.add_argument(
            "--bulk-only",
            action="store_true",
            help="only the bulk ingest with the refresh queued (no in-request refresh, no list)",
        )

    def handle(self, *args, **options):
        if connection.vendor == "sqlite" and Path(str(connection.settings_dict["NAME"])) == Path(
            settings.BASE_DIR / "db.sqlite3"
        ):
            raise CommandError("Run on a scratch database: set DATABASE_URL (see --help).")
        rng = random.Random(7)
        sync_groups()
        reps, admin = self._users()
        made = self._fill(options["customers"], reps, rng)
        token = Token.objects.get_or_create(user=admin)[0].key
        total_customers = Customer.objects.count()
        interactions_before = Interaction.objects.count()
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        bulk = {}
        latency = None
        try:
            # Twice: as shipped without a broker (each batch's engagement refresh runs in the
            # request, after the write commits), and with a broker (the refresh is queued for
            # a worker; an in-memory queue stands in for Redis here, nothing consumes it).
            modes = [("refresh_in_process", False), ("refresh_queued", True)]
            for mode, broker in modes[1:] if options["bulk_only"] else modes:
                server, base_url = self._start_server(options["workers"], queue=broker)
                try:
                    bulk[mode] = self._bench_bulk(
                        session, base_url, options["batches"], options["batch_size"], rng
                    )
                    if broker and not options["bulk_only"]:
                        latency = self._bench_list(
                            session, base_url, options["requests"], reps[0].pk
                        )
                finally:
                    server.terminate()
                    try:
                        server.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        server.kill()
        finally:
            if not options["keep"]:
                self._clean_up()
        report = {
            "database": connection.vendor,
            "server": f"gunicorn, {options['workers']} sync workers, loopback",
            "customers": total_customers,
            "customers_made_for_run": made,
            "interactions_in_table_before": interactions_before,
            "bulk_ingest": bulk,
            "list_latency": latency,
            "note": "2-core machine shared with other work: figures are pessimistic.",
        }
        self.stdout.write(json.dumps(report, indent=2))

    # Data -------------------------------------------------------------------------------

    def _users(self):
        User = get_user_model()
        users = []
        for name, role in [(f"benchapi_rep{i}", SALES_REP) for i in range(REPS)] + [
            ("benchapi_admin", CRM_ADMIN)
        ]:
            user, _ = User.objects.get_or_create(username=name)
            user.groups.add(Group.objects.get(name=role))
            users.append(user)
        return users[:-1], users[-1]

    def _fill(self, target, reps, rng) -> int:
        missing = max(0, target - Customer.objects.count())
        if not missing:
            return 0
        start = time.perf_counter()
        if "seed_demo" in get_commands():
            from django.core.management import call_command

            existing = Customer.objects.count()
            # seed_demo refuses a non-empty database unless told to append (with a seed of
            # its own: each seed's customers are loaded once).
            extra = {"append": True, "seed": 4200 + existing} if existing else {}
            call_command("seed_demo", customers=missing, stdout=self.stderr, **extra)
            self.stderr.write(
                f"seed_demo filled to {target:,} in {time.perf_counter() - start:.0f} s"
            )
            return 0
        rule_set = RuleSet.objects.order_by("-version").first() or RuleSet.objects.create(version=1)
        today, now = timezone.localdate(), timezone.now()
        step = 5_000
        for offset in range(0, missing, step):
            batch = [
                Customer(
                    name=f"Bench {offset + i:06d}",
                    kind=rng.choice(["company", "company", "person"]),
                    external_id=f"{PREFIX}{offset + i}",
                    country=rng.choice(["DE", "FR", "US", "UK", "ES", "IT", "NL"]),
                    industry=rng.choice(["Retail", "Energy", "Tech", "Health", "Finance"]),
                    owner=rng.choice(reps),
                    email=f"benchapi{offset + i}@example.com",
                )
                for i in range(min(step, missing - offset))
            ]
            Customer.objects.bulk_create(batch, batch_size=1_000)
            ids = Customer.objects.filter(
                external_id__in=[c.external_id for c in batch]
            ).values_list("pk", flat=True)
            EngagementResult.objects.bulk_create(
                [
                    EngagementResult(
                        customer_id=pk,
                        status=rng.choice(Status.values),
                        score=rng.randint(0, 100),
                        type_loyal=rng.random() < 0.2,
                        type_recent_buyer=rng.random() < 0.3,
                        rule_set=rule_set,
                        as_of=today,
                        computed_at=now,
                        last_activity_on=today,
                    )
                    for pk in ids
                ],
                batch_size=1_000,
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh planner statistics, as in production
        self.stderr.write(f"made {missing:,} customers in {time.perf_counter() - start:.1f} s")
        return missing

    def _clean_up(self):
        Interaction.objects.filter(external_id__startswith=PREFIX).delete()
        Customer.objects.filter(external_id__startswith=PREFIX).delete()
        get_user_model().objects.filter(username__startswith="benchapi_").delete()

    # Server -----------------------------------------------------------------------------

    def _start_server(self, workers, *, queue: bool):
        port = _free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "crm.settings.local"
            ),
            "DJANGO_DEBUG": "0",
            # The benchmark is one client going as fast as it can: lift the user throttle.
            "API_THROTTLE_USER": "1000000/min",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        if queue:
            env["CELERY_BROKER_URL"] = "memory://"
            env["CELERY_RESULT_BACKEND"] = "cache+memory://"
        db = connection.settings_dict
        if connection.vendor == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        server = subprocess.Popen(
            [
                str(gunicorn),
                "crm.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
        )
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                # The first schema is slow to build on a busy machine: wait for it, also
                # so that it is not built inside the timed requests.
                requests.get(f"{base_url}/api/schema/", timeout=60)
                return server, base_url
            except requests.RequestException:
                time.sleep(0.2)
        server.kill()
        raise CommandError("gunicorn did not start")

    # Figures ----------------------------------------------------------------------------

    def _bench_bulk(self, session, base_url, batches, size, rng):
        # Any customer of the base: rows land all over the table's indexes, as real feeds do.
        ids = list(Customer.objects.values_list("pk", flat=True))
        kinds = ["login", "support", "call", "email", "note", "purchase", "feature_use"]
        run = int(time.time())  # fresh external ids each run (a kept database has old ones)
        payloads = []
        for batch in range(batches):
            rows = []
            for i in range(size):
                kind = rng.choice(kinds)
                rows.append(
                    {
                        "customer": rng.choice(ids),
                        "kind": kind,
                        "occurred_at": f"2025-03-{1 + i % 28:02d}T10:00:00Z",
                        "amount": "19.90" if kind == "purchase" else None,
                        "subject": "bench",
                        "external_id": f"{PREFIX}{run}-{batch}-{i}",
                    }
                )
            payloads.append(json.dumps(rows))
        headers = {"Content-Type": "application/json"}
        times = []
        created = 0
        for payload in payloads:
            start = time.perf_counter()
            response = session.post(
                f"{base_url}/api/interactions/bulk/", data=payload, headers=headers
            )
            times.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise CommandError(f"bulk answered {response.status_code}: {response.text[:300]}")
            created += response.json()["created"]
        # The same batches again: every row a duplicate (a client retrying).
        start = time.perf_counter()
        duplicates = sum(
            session.post(f"{base_url}/api/interactions/bulk/", data=p, headers=headers).json()[
                "duplicates"
            ]
            for p in payloads[:5]
        )
        retry_seconds = time.perf_counter() - start
        total = sum(times)
        return {
            "batch_size": size,
            "batches": batches,
            "created": created,
            "interactions_per_second": round(created / total),
            "median_batch_ms": round(statistics.median(times) * 1000, 1),
            "retry_duplicates_per_second": round(duplicates / retry_seconds),
            "target_interactions_per_second": 10_000,
        }

    def _bench_list(self, session, base_url, count, owner):
        queries = [q.format(owner=owner) for q in LIST_QUERIES]
        for query in queries:  # warm each worker's caches and the database pages
            for _ in range(2):
                session.get(f"{base_url}/api/customers/?{query}&page_size=50")
        per_query = {q: [] for q in queries}
        for i in range(count):
            query = queries[i % len(queries)]
            start = time.perf_counter()
            response = session.get(f"{base_url}/api/customers/?{query}&page_size=50")
            per_query[query].append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise CommandError(f"list answered {response.status_code}: {response.text[:300]}")
        every = [t for times in per_query.values() for t in times]
        return {
            "page_size": 50,
            "requests": len(every),
            "median_ms": round(statistics.median(every), 1),
            "p95_ms": round(_percentile(every, 0.95), 1),
            "target_p95_ms": 100,
            "per_filter": {
                q: {
                    "median_ms": round(statistics.median(t), 1),
                    "p95_ms": round(_percentile(t, 0.95), 1),
                }
                for q, t in per_query.items()
            },
        }
