"""python manage.py loadtest --base-url URL [--clients 50] [--seconds 60] (--token T | --username U
--password P) [--freshness-p95-max 5] [--broker-url URL]

A load test of a running server over its public API (crm/loadtest.py): mixed reads and writes
from many clients, freshness probes, the broker's queue length, and a check that no
acknowledged write was lost. It writes to the server's database (interactions and probe
customers whose external ids start `lt-<run id>-`): point it at a staging copy, never at
production data. Prints one JSON line of figures, then a table; exits 1 on any 5xx, transport
error or refused request, a lost write, or freshness p95 over --freshness-p95-max.
"""

import argparse
import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm.loadtest import DEFAULT_MIX, LoadTest, Options, SetupError, table, verdict


class Command(BaseCommand):
    help = (
        "Load a running server through its API (mixed reads and writes), measure latency, "
        "requests/s, freshness (event to refreshed) and the broker queue, and check that no "
        "acknowledged write was lost. Exits 1 when the run fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000")
        parser.add_argument(
            "--token",
            default=os.environ.get("CRM_LOADTEST_TOKEN", ""),
            help="API token (or CRM_LOADTEST_TOKEN)",
        )
        parser.add_argument("--username", default="")
        parser.add_argument(
            "--password",
            default=os.environ.get("CRM_LOADTEST_PASSWORD", ""),
            help="(or CRM_LOADTEST_PASSWORD)",
        )
        parser.add_argument("--clients", type=int, default=50, help="client threads (50)")
        parser.add_argument("--seconds", type=float, default=60.0, help="load duration (60)")
        parser.add_argument("--bulk-size", type=int, default=20, help="rows per bulk request")
        parser.add_argument(
            "--probes", type=int, default=20, help="freshness probes spread over the load (20)"
        )
        parser.add_argument(
            "--freshness-timeout",
            type=float,
            default=60.0,
            help="seconds a probe waits for `active` before it counts as failed (60)",
        )
        parser.add_argument(
            "--freshness-p95-max",
            type=_seconds_or_off,
            default=os.environ.get("CRM_LOADTEST_FRESHNESS_P95_MAX", "5"),
            help="fail when event-to-refreshed p95 exceeds this many seconds; `off` measures "
            "without failing (default 5, or CRM_LOADTEST_FRESHNESS_P95_MAX)",
        )
        parser.add_argument(
            "--broker-url",
            default=None,
            help="broker whose queue length is sampled (default CELERY_BROKER_URL; '' skips)",
        )
        parser.add_argument("--queue", default="celery", help="queue to sample (celery)")
        parser.add_argument(
            "--pool", type=int, default=1000, help="customers the load picks from (1000)"
        )
        parser.add_argument("--http-timeout", type=float, default=60.0)
        parser.add_argument(
            "--mix",
            default="",
            help="operation weights, e.g. customer_list=25,interaction_bulk=10 (default: "
            + ",".join(f"{op}={weight}" for op, weight in DEFAULT_MIX.items())
            + ")",
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed of the mix")

    def handle(self, *args, **o):
        if o["clients"] < 1 or o["seconds"] <= 0 or o["bulk_size"] < 1 or o["probes"] < 0:
            raise CommandError("--clients, --seconds and --bulk-size must be positive.")
        broker = settings.CELERY_BROKER_URL if o["broker_url"] is None else o["broker_url"]
        options = Options(
            base_url=o["base_url"],
            token=o["token"],
            username=o["username"],
            password=o["password"],
            clients=o["clients"],
            seconds=o["seconds"],
            bulk_size=o["bulk_size"],
            probes=o["probes"],
            freshness_timeout=o["freshness_timeout"],
            freshness_p95_max=o["freshness_p95_max"],
            broker_url=broker,
            queue=o["queue"],
            pool=o["pool"],
            http_timeout=o["http_timeout"],
            mix=_mix(o["mix"]),
            seed=o["seed"],
            log=lambda line: self.stderr.write(line, style_func=str),
        )
        try:
            figures = LoadTest(options).run()
        except (SetupError, ValueError) as error:
            raise CommandError(str(error)) from None
        failures = verdict(figures)
        figures["failures"] = failures
        figures["ok"] = not failures
        self.stdout.write(json.dumps(figures, separators=(",", ":")))
        self.stdout.write(table(figures))
        if failures:
            raise CommandError("load test failed: " + "; ".join(failures))
        self.stdout.write("load test passed")


def _seconds_or_off(text: str) -> float | None:
    if text.strip().lower() == "off":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of seconds or 'off', not {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"a positive number of seconds or 'off', not {text!r}")
    return value


def _mix(text: str) -> dict:
    if not text.strip():
        return dict(DEFAULT_MIX)
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        name = name.strip()
        if name not in DEFAULT_MIX:
            raise CommandError(
                f"--mix: unknown operation {name!r}; known: {', '.join(DEFAULT_MIX)}"
            )
        try:
            mix[name] = float(weight)
        except ValueError:
            raise CommandError(f"--mix: {part!r} needs a number after '='") from None
    if not mix or min(mix.values()) < 0 or not sum(mix.values()):
        raise CommandError("--mix: give at least one operation a positive weight")
    return mix
