"""python manage.py bench_predictions --customers N [--seed S]

Fills a scratch database (SQLite: /tmp/crm_bench_predictions.sqlite3; PostgreSQL: database
crm_bench_predictions on the DATABASE_URL server) with N customers whose purchases are drawn
from the buy-till-you-die process itself (BG/NBD purchase days, Gamma-Gamma amounts, two
years of history), then times one full `predictions_fit` (engagement.engine.prediction_service:
summary SQL, fit, predict, write) and prints one JSON line: summary_s, fit_s, predict_s,
write_s, total_s, peak_rss_mb, and the fitted parameters against the ones drawn from.

Three processes: this one makes the scratch database, a child fills it, another child fits,
so the peak memory is the fit's alone. The configured database is never touched.
"""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from crm.memory import resident_peak_mb

CHILD = "CRM_BENCH_PREDICTIONS_CHILD"
SQLITE_PATH = "/tmp/crm_bench_predictions.sqlite3"
SCRATCH_DB = "crm_bench_predictions"
HISTORY_DAYS = 730
# What the purchases are drawn from: BG/NBD (alpha in days) and Gamma-Gamma.
TRUE = {"r": 0.6, "alpha": 60.0, "a": 0.8, "b": 3.0, "p": 6.0, "q": 4.0, "gamma": 30.0}
CHUNK = 50_000  # customers drawn and written at a time: memory stays flat
MAX_PURCHASES = 80  # per customer: the fastest buyers are cut here


class Command(BaseCommand):
    help = "Benchmark the prediction fit on a scratch database (prints one JSON line)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, customers, seed, **options):
        if customers < 1:
            raise CommandError("--customers: at least one customer.")
        mode = os.environ.get(CHILD)
        if mode == "fill":
            call_command("migrate", verbosity=0)
            self.stdout.write(json.dumps(fill(customers, seed)))
            return
        if mode == "fit":
            self.stdout.write(json.dumps(fit()))
            return
        env = {**os.environ, "DATABASE_URL": self.scratch_url()}
        command = [
            sys.executable,
            str(Path(sys.argv[0]).resolve()),
            "bench_predictions",
            f"--customers={customers}",
            f"--seed={seed}",
        ]
        filled = self.child(command, {**env, CHILD: "fill"})
        fitted = self.child(command, {**env, CHILD: "fit"})
        self.stdout.write(json.dumps({**filled, **fitted}))

    def child(self, command, env) -> dict:
        done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    def scratch_url(self) -> str:
        if connection.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(SQLITE_PATH + suffix).unlink(missing_ok=True)
            return f"sqlite:///{SQLITE_PATH}"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
            cursor.execute(f"CREATE DATABASE {SCRATCH_DB}")
        url = urlsplit(os.environ["DATABASE_URL"])
        return urlunsplit(url._replace(path=f"/{SCRATCH_DB}"))


# --- in the children, on the scratch database -------------------------------------------------


def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Purchase days (days before today, 0 = today) and amounts of n customers: (customer
    index, days ago, amount) arrays. While alive a customer buys at rate lambda ~ Gamma(r,
    1/alpha) per day and drops out after each repeat purchase with probability
    p ~ Beta(a, b); a
    purchase's value ~ Gamma(p, nu), nu ~ Gamma(q, gamma) per customer."""
    t = TRUE
    rate = rng.gamma(t["r"], 1 / t["alpha"], n)
    drop = rng.beta(t["a"], t["b"], n)
    nu = rng.gamma(t["q"], 1 / t["gamma"], n)
    day = rng.integers(0, HISTORY_DAYS, n).astype(np.float64)  # first purchase, days ago
    who, when = [np.arange(n)], [np.floor(day)]
    alive = np.ones(n, dtype=bool)  # a drop-out follows a repeat purchase, never the first
    for _ in range(MAX_PURCHASES - 1):
        day = day - rng.exponential(1 / np.maximum(rate, 1e-9))
        alive &= day >= 0
        if not alive.any():
            break
        who.append(np.flatnonzero(alive))
        when.append(np.floor(day[alive]))
        alive &= rng.random(n) >= drop
    who, when = np.concatenate(who), np.concatenate(when)
    amount = np.maximum(rng.gamma(t["p"], 1 / nu[who]), 1.0)
    return who, when.astype(np.int64), np.round(amount, 2)


def fill(customers: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    pg = connection.vendor == "postgresql"
    now = timezone.now()
    stored_now = connection.ops.adapt_datetimefield_value(now)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    adapt = connection.ops.adapt_datetimefield_value
    started = time.perf_counter()
    purchases = 0
    with connection.cursor() as cursor:
        with transaction.atomic():
            if pg:
                cursor.execute(
                    """INSERT INTO customers_customer (id, name, kind, email, phone, country,
                       industry, customer_since, external_id, created_at, updated_at)
                       SELECT n, 'Bench ' || n, 'company', '', '', 'DE', 'Retail',
                       %s::date - 800, '', %s, %s FROM generate_series(1, %s) AS s(n)""",
                    [now.date(), stored_now, stored_now, customers],
                )
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), %s)",
                    [customers],
                )
            else:
                cursor.execute(
                    """WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq
                       WHERE n < %s)
                       INSERT INTO customers_customer (id, name, kind, email, phone, country,
                       industry, customer_since, external_id, created_at, updated_at)
                       SELECT n, 'Bench ' || n, 'company', '', '', 'DE', 'Retail',
                       date(%s, '-800 days'), '', %s, %s FROM seq""",
                    [customers, now.date().isoformat(), stored_now, stored_now],
                )
        columns = ("customer_id", "kind", "direction", "occurred_at", "amount", "subject")
        columns += ("notes", "external_id", "created_at")
        for start in range(0, customers, CHUNK):
            n = min(CHUNK, customers - start)
            who, days, amounts = draw(rng, n)
            # One timestamp per distinct day, in the form the database takes.
            stamps = {
                d: noon - dt.timedelta(days=d) if pg else adapt(noon - dt.timedelta(days=d))
                for d in np.unique(days).tolist()
            }
            rows = [
                (
                    start + 1 + int(w),
                    "purchase",
                    "inbound",
                    stamps[d],
                    a,
                    "",
                    "",
                    "",
                    stored_now,
                )
                for w, d, a in zip(who.tolist(), days.tolist(), amounts.tolist(), strict=True)
            ]
            with transaction.atomic():
                if pg:
                    with cursor.cursor.copy(
                        f"COPY customers_interaction ({', '.join(columns)}) FROM STDIN"
                    ) as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    cursor.executemany(
                        f"INSERT INTO customers_interaction ({', '.join(columns)}) "
                        f"VALUES ({', '.join(['%s'] * len(columns))})",
                        rows,
                    )
            purchases += len(rows)
        cursor.execute("ANALYZE")
    return {
        "database": connection.vendor,
        "customers": customers,
        "purchases": purchases,
        "fill_s": round(time.perf_counter() - started, 1),
    }


def fit() -> dict:
    from engagement.engine.prediction_service import predictions_fit

    fitted = predictions_fit(as_of=timezone.localdate())
    return {
        **fitted.timings,
        "peak_rss_mb": round(resident_peak_mb(), 1),
        "converged": fitted.converged,
        "repeaters": fitted.repeaters,
        "fitted": {
            name: round(getattr(fitted, name), 3) if fitted.fitted else None for name in TRUE
        },
        "drawn_from": TRUE,
    }
