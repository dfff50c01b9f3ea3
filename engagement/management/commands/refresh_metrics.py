"""python manage.py refresh_metrics [--as-of YYYY-MM-DD]: rebuild the dashboard's metric rollups.

The nightly recompute task (engagement.tasks.recompute_all) queues the same rebuild once it
has finished; run this by hand after loading data outside it. Until the rollups are of today,
the dashboard and the metrics API compute every figure live (correct, slower on a large base).
"""

from django.core.management.base import BaseCommand

from engagement.analytics.rollups import metrics_refresh
from engagement.management.options import add_as_of


class Command(BaseCommand):
    help = "Rebuild the engagement metric rollups the dashboard reads."

    def add_arguments(self, parser):
        add_as_of(parser)

    def handle(self, *args, as_of=None, **options):
        refresh = metrics_refresh(as_of=as_of)
        self.stdout.write(f"Metric rollups as of {refresh.as_of} rebuilt in {refresh.seconds:.1f}s")
