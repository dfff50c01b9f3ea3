"""python manage.py refresh_metrics [--as-of YYYY-MM-DD]: rebuild the dashboard's metric rollups.

The nightly recompute task (engagement.tasks.recompute_all) queues the same rebuild once it
has finished; run this by hand after loading data outside it. Until the rollups are of today,
the dashboard and the metrics API compute every figure live (correct, slower on a large base).
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from engagement.analytics.rollups import metrics_refresh


class Command(BaseCommand):
    help = "Rebuild the engagement metric rollups the dashboard reads."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, as_of=None, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise CommandError("--as-of: enter a date as YYYY-MM-DD") from None
        refresh = metrics_refresh(as_of=day)
        self.stdout.write(f"Metric rollups as of {refresh.as_of} rebuilt in {refresh.seconds:.1f}s")
