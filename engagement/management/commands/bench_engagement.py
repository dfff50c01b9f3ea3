"""python manage.py bench_engagement --customers N [--interactions-per-customer K]
[--repeat R] [--scratch S] [--workers 1,2 --broker redis://... --chunk-ids M]

Fills a scratch database (SQLite: /tmp/crm_bench.sqlite3; PostgreSQL: database crm_bench on
the DATABASE_URL server; --scratch names another file or database, so two checkouts can
bench at once), migrates it, generates histories with set-based SQL, then times (a) the
first full recompute, (b) the floor: one raw SQL aggregate reading the same per-customer
figures, and (c) a rerun of the recompute (same day: nothing moves); (b) and (c)
alternate R times, medians reported, wall and CPU seconds; then (d) the nightly case, the
recompute a day later (every day count moves, some statuses and scores too). Prints one
JSON line. The scratch run is a child process pointed at the scratch database, so the
configured database is never touched.

`--workers 1,2`: then the same full recompute fanned out (engagement.tasks.recompute_all with
a broker) over that many `celery worker` processes on a queue of the bench's own, each from
empty results like (a); reports the whole run, its chunk phase, its finish (RFM, alert
rules) and every chunk's time and worker.
"""

import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from crm.memory import PrivatePeak, resident_peak_mb

CHILD = "CRM_BENCH_CHILD"
SQLITE_PATH = "/tmp/crm_bench.sqlite3"
# The scratch database when --scratch is not given (CRM_BENCH_DB, else crm_bench).
SCRATCH_DB = os.environ.get("CRM_BENCH_DB", "crm_bench")
KINDS = [
    ("login", "inbound"),
    ("feature_use", "inbound"),
    ("purchase", "inbound"),
    ("support", "inbound"),
    ("email", "outbound"),
    ("email", "inbound"),
    ("login", "inbound"),
    ("meeting", "outbound"),
    ("note", "outbound"),
    ("webinar", "inbound"),
    ("refund", "inbound"),
    ("call", "inbound"),
    ("visit", "inbound"),
]


def median(pairs):
    """The median (wall, CPU) pair by wall time."""
    pairs = sorted(pairs)
    return pairs[len(pairs) // 2]


class Command(BaseCommand):
    help = "Benchmark the engagement recompute against one SQL aggregate (scratch database)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, required=True)
        parser.add_argument("--interactions-per-customer", type=int, default=20)
        parser.add_argument(
            "--repeat",
            type=int,
            default=1,
            help="Floor runs and reruns of the recompute, alternating; medians reported.",
        )
        parser.add_argument(
            "--scratch",
            default="",
            help="The scratch SQLite file or PostgreSQL database (dropped and made anew).",
        )
        parser.add_argument(
            "--workers",
            default="",
            help="fan out over N worker processes, for each N of a comma list (e.g. 1,2)",
        )
        parser.add_argument(
            "--broker",
            default=os.environ.get("CELERY_BROKER_URL", ""),
            help="the broker of the fan-out (default CELERY_BROKER_URL)",
        )
        parser.add_argument("--chunk-ids", type=int, default=None, help="ids per chunk")

    def handle(self, *args, customers, interactions_per_customer, scratch, repeat, **options):
        workers = [int(n) for n in options["workers"].split(",") if n.strip()]
        if workers and not options["broker"]:
            raise CommandError("--workers needs a broker: --broker or CELERY_BROKER_URL")
        if os.environ.get(CHILD):
            report = self.run(customers, interactions_per_customer, repeat)
            for n in workers:
                report.setdefault("fan_out", []).append(
                    self.fan_out(n, options["broker"], options["chunk_ids"])
                )
            self.stdout.write(json.dumps(report))
            return
        env = {**os.environ, CHILD: "1", "DATABASE_URL": self.scratch_url(scratch)}
        command = [
            sys.executable,
            str(Path(sys.argv[0]).resolve()),
            "bench_engagement",
            f"--customers={customers}",
            f"--interactions-per-customer={interactions_per_customer}",
            f"--repeat={repeat}",
            f"--workers={options['workers']}",
            f"--broker={options['broker']}",
        ]
        if options["chunk_ids"]:
            command.append(f"--chunk-ids={options['chunk_ids']}")
        subprocess.run(command, env=env, check=True)

    def scratch_url(self, scratch: str) -> str:
        if connection.vendor == "sqlite":
            path = str(Path(scratch or SQLITE_PATH).resolve())
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
            return f"sqlite:///{path}"
        name = scratch or SCRATCH_DB
        if not name.replace("_", "").isalnum():
            raise CommandError("--scratch: a PostgreSQL database name is letters, digits and _.")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            cursor.execute(f"CREATE DATABASE {name}")
        url = urlsplit(os.environ["DATABASE_URL"])
        return urlunsplit(url._replace(path=f"/{name}"))

    # --- in the child, on the scratch database -------------------------------------------

    def timed(self, work) -> tuple[float, float]:
        """(wall seconds, CPU seconds) of `work`."""
        wall, cpu = time.perf_counter(), self.cpu()
        work()
        return time.perf_counter() - wall, self.cpu() - cpu

    def cpu(self) -> float:
        """CPU seconds of this process, plus its PostgreSQL backend's when that runs here."""
        seconds = time.process_time()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a server on another machine
                return seconds
            seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return seconds

    def run(self, customers: int, per_customer: int, repeat: int) -> dict:
        call_command("migrate", verbosity=0)
        self.fill(customers, per_customer)
        from engagement.engine.figures import (
            Bounds,
            interaction_aggregate_sql,
            subscription_aggregate_sql,
        )
        from engagement.engine.live import engagement_evaluate
        from engagement.engine.recompute import engagement_recompute
        from engagement.engine.rule_sets import current_rules

        rules = current_rules()
        today = timezone.localdate()
        params = Bounds.of(rules, today).params()

        def floor():
            with connection.cursor() as cursor:
                for sql in (
                    interaction_aggregate_sql("1 = 1"),
                    subscription_aggregate_sql("1 = 1", rules),
                ):
                    cursor.execute(sql, params)
                    while cursor.fetchmany(10_000):
                        pass

        # The first recompute classifies everyone (every row new, a history row each); the
        # reruns are the same day (nothing moves). Floor and reruns alternate, so a busy
        # neighbour slows both alike; medians.
        memory = PrivatePeak().start()
        recompute_s, recompute_cpu = self.timed(lambda: engagement_recompute(as_of=today))
        recompute_memory_mb = memory.stop()
        floors, reruns = [], []
        for _ in range(repeat):
            floors.append(self.timed(floor))
            reruns.append(self.timed(lambda: engagement_recompute(as_of=today)))
        floor_s, floor_cpu = median(floors)
        rerun_s, rerun_cpu = median(reruns)
        # The real nightly case: a day later, every day count moves and some statuses do.
        next_s, next_cpu = self.timed(
            lambda: engagement_recompute(as_of=today + dt.timedelta(days=1))
        )

        ids = random.Random(1).sample(range(1, customers + 1), min(50, customers))
        timings = []
        for pk in ids:
            t = time.perf_counter()
            engagement_evaluate(customer_id=pk, as_of=today)
            timings.append((time.perf_counter() - t) * 1000)
        timings.sort()
        return {
            "database": connection.vendor,
            "customers": customers,
            "interactions": customers * per_customer,
            "recompute_s": round(recompute_s, 2),
            "floor_s": round(floor_s, 2),
            "ratio": round(recompute_s / floor_s, 2) if floor_s else None,
            "rerun_s": round(rerun_s, 2),
            "rerun_ratio": round(rerun_s / floor_s, 2) if floor_s else None,
            "next_day_s": round(next_s, 2),
            "next_day_ratio": round(next_s / floor_s, 2) if floor_s else None,
            # CPU seconds of this process and its database server process (PostgreSQL's
            # parallel workers not counted): steadier than wall time on a shared machine.
            "cpu_s": {
                "recompute": round(recompute_cpu, 2),
                "rerun": round(rerun_cpu, 2),
                "next_day": round(next_cpu, 2),
                "floor": round(floor_cpu, 2),
            },
            "cpu_ratio": round(recompute_cpu / floor_cpu, 2) if floor_cpu else None,
            # The first recompute's own memory; the resident peak also counts the mapped
            # database file (SQLite) and the floor's fetched rows (crm/memory.py).
            "recompute_private_peak_mb": recompute_memory_mb,
            "peak_rss_mb": round(resident_peak_mb(), 1),
            "single_customer_ms": round(timings[len(timings) // 2], 2),
        }

    def fill(self, customers: int, per_customer: int) -> None:
        pg = connection.vendor == "postgresql"
        now = timezone.now()
        stored_now = connection.ops.adapt_datetimefield_value(now)
        cases = " ".join(f"WHEN {i} THEN '{k}'" for i, (k, _) in enumerate(KINDS))
        dirs = " ".join(f"WHEN {i} THEN '{d}'" for i, (_, d) in enumerate(KINDS))
        n = len(KINDS)
        with transaction.atomic(), connection.cursor() as cursor:
            if pg:
                seq = "generate_series(1, %s) AS s(n)"
                since = "(%s::date - ((n * 37) %% 900))"
                cursor.execute(
                    f"""INSERT INTO customers_customer (id, name, kind, email, phone, country,
                        industry, customer_since, external_id, created_at, updated_at)
                        SELECT n, 'Bench ' || n, 'company', '', '', 'DE', 'Retail', {since},
                        '', %s, %s FROM {seq}""",
                    [now.date(), stored_now, stored_now, customers],
                )
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), %s)",
                    [customers],
                )
                kind_expr = f"(s.n * 7 + k.k * 5) %% {n}"
                cursor.execute(
                    f"""INSERT INTO customers_interaction (customer_id, kind, direction,
                        occurred_at, amount, subject, notes, external_id, created_at)
                        SELECT s.n, CASE {kind_expr} {cases} END, CASE {kind_expr} {dirs} END,
                        %s - (((s.n * 31 + k.k * 17) %% 400) * interval '1 day')
                           - (((s.n + k.k) %% 86400) * interval '1 second'),
                        CASE WHEN {kind_expr} IN (2, 10) THEN 10 + (s.n %% 90) END,
                        '', '', '', %s
                        FROM generate_series(1, %s) AS s(n),
                             generate_series(1, %s) AS k(k)""",
                    [now, stored_now, customers, per_customer],
                )
            else:
                cursor.execute(
                    """WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq
                       WHERE n < %s)
                       INSERT INTO customers_customer (id, name, kind, email, phone, country,
                       industry, customer_since, external_id, created_at, updated_at)
                       SELECT n, 'Bench ' || n, 'company', '', '', 'DE', 'Retail',
                       date(%s, '-' || ((n * 37) %% 900) || ' days'), '', %s, %s FROM seq""",
                    [customers, now.date().isoformat(), stored_now, stored_now],
                )
                kind_expr = f"((s.n * 7 + k.k * 5) %% {n})"
                stamp = "%Y-%m-%d %H:%M:%S"
                sql_stamp = stamp.replace("%", "%%")
                cursor.execute(
                    f"""WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq
                        WHERE n < %s),
                        ks(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM ks WHERE k < %s)
                        INSERT INTO customers_interaction (customer_id, kind, direction,
                        occurred_at, amount, subject, notes, external_id, created_at)
                        SELECT s.n, CASE {kind_expr} {cases} END, CASE {kind_expr} {dirs} END,
                        strftime('{sql_stamp}', %s,
                                 '-' || ((s.n * 31 + k.k * 17) %% 400) || ' days',
                                 '-' || ((s.n + k.k) %% 86400) || ' seconds'),
                        CASE WHEN {kind_expr} IN (2, 10) THEN 10 + (s.n %% 90) END,
                        '', '', '', %s FROM seq s, ks k""",
                    [customers, per_customer, now.strftime(stamp), stored_now],
                )
            # Subscriptions for every fifth customer, half of them to a service.
            cursor.execute(
                """INSERT INTO customers_product (name, sku, kind, price, currency, is_active)
                   VALUES ('Bench product', 'BENCH-P', 'product', 49, 'EUR', %s),
                          ('Bench service', 'BENCH-S', 'service', 99, 'EUR', %s)""",
                [True, True],
            )
            cursor.execute("SELECT id, kind FROM customers_product WHERE sku LIKE 'BENCH-%%'")
            product_ids = dict((kind, pk) for pk, kind in cursor.fetchall())
            cursor.execute(
                """INSERT INTO customers_subscription (customer_id, product_id, status, started_at,
                   amount, "interval", external_id, created_at, updated_at)
                   SELECT id, CASE WHEN id %% 10 = 0 THEN %s ELSE %s END, 'active',
                   customer_since, 49, 'month', '', %s, %s
                   FROM customers_customer WHERE id %% 5 = 0""",
                [product_ids["service"], product_ids["product"], stored_now, stored_now],
            )
        with connection.cursor() as cursor:
            # PostgreSQL: VACUUM too, as autovacuum would on a live table: hint bits and the
            # visibility map set, so neither timed side pays for the fill's first read.
            cursor.execute("VACUUM ANALYZE" if pg else "ANALYZE")

    def fan_out(self, workers: int, broker: str, chunk_ids: int | None) -> dict:
        """The full recompute on `workers` worker processes, from empty results."""
        from crm.celery import app
        from engagement.models import EngagementResult, RecomputeRun, StatusHistory, TypeChange

        tables = [m._meta.db_table for m in (EngagementResult, StatusHistory, TypeChange)]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {', '.join(tables)}")
            else:
                for table in tables:
                    cursor.execute(f"DELETE FROM {table}")
        app.conf.update(broker_url=broker, result_backend=broker, task_always_eager=False)
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": broker,
            "DATABASE_URL": os.environ["DATABASE_URL"],
        }
        env.pop(CHILD, None)
        host = socket.gethostname()
        names = [f"bench{i}-{queue}@{host}" for i in range(workers)]
        celery = str(Path(sys.executable).with_name("celery"))
        processes = [
            subprocess.Popen(
                [
                    celery,
                    "-A",
                    "crm",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    queue,
                    "-n",
                    name,
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=warning",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name in names
        ]
        try:
            deadline = time.monotonic() + 120
            while len(app.control.ping(destination=names, timeout=1)) < workers:
                if time.monotonic() > deadline:
                    raise CommandError("the bench's workers did not start")
            kwargs = {"chunk_ids": chunk_ids} if chunk_ids else {}
            started = time.perf_counter()
            answer = app.send_task(
                "engagement.tasks.recompute_all", kwargs=kwargs, queue=queue
            ).get(timeout=600)
            while True:
                run = RecomputeRun.objects.get(pk=answer["run"])
                if run.state in (RecomputeRun.State.DONE, RecomputeRun.State.FAILED):
                    break
                time.sleep(0.2)
            total = time.perf_counter() - started
        finally:
            for process in processes:
                process.kill()  # the rollups queued after the run are not the bench's
                process.wait()
            with app.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)
        if run.state != RecomputeRun.State.DONE:
            return {"workers": workers, "state": run.state, "error": run.error}
        chunks = list(
            run.chunks.order_by("index").values(
                "index", "customers", "seconds", "worker", "started_at", "finished_at"
            )
        )
        first = min(c["started_at"] for c in chunks)
        last = max(c["finished_at"] for c in chunks)
        seconds = [c["seconds"] for c in chunks]
        return {
            "workers": workers,
            "state": run.state,
            "total_s": round(total, 2),
            "chunks": len(chunks),
            "chunk_phase_s": round((last - first).total_seconds(), 2),
            "finish_s": round((run.finished_at - last).total_seconds(), 2),
            "chunk_s_sum": round(sum(seconds), 2),
            "chunk_s_median": round(sorted(seconds)[len(seconds) // 2], 2),
            "chunk_s_max": round(max(seconds), 2),
            "per_chunk": [
                {"index": c["index"], "s": c["seconds"], "worker": c["worker"].split("@")[0]}
                for c in chunks
            ],
        }
