"""python manage.py bench_import [--rows 100000] [--customers 5000] [--keep]

Writes a CSV of interactions (the shape a spreadsheet export has), imports it with the
same service as import_crm, imports it again (the idempotent pass: nothing changes), and
prints the figures. Its customers and interactions are removed afterwards unless --keep.
Run it on a scratch database: DATABASE_URL=sqlite:////tmp/bench.sqlite3.
"""

import csv
import random
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand

from customers.importing import records_import
from customers.models import Customer

KINDS = ("login", "support", "email", "call", "purchase", "meeting", "note", "feature_use")
PREFIX = "BENCH-"


class Command(BaseCommand):
    help = "Time the import of many interactions from a CSV file (figures, not a test)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--customers", type=int, default=5_000)
        parser.add_argument("--keep", action="store_true")

    def handle(self, *args, rows, customers, keep, **options):
        rng = random.Random(7)  # deterministic files, comparable runs
        Customer.objects.bulk_create(
            [Customer(name=f"Bench {i}", external_id=f"{PREFIX}C{i}") for i in range(customers)],
            batch_size=1000,
            ignore_conflicts=True,
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "interactions.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(
                    [
                        "external_id",
                        "customer",
                        "kind",
                        "direction",
                        "occurred_at",
                        "amount",
                        "subject",
                    ]
                )
                for i in range(rows):
                    kind = rng.choice(KINDS)
                    writer.writerow(
                        [
                            f"{PREFIX}I{i}",
                            f"{PREFIX}C{rng.randrange(customers)}",
                            kind,
                            "",
                            f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                            f"{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}",
                            f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}"
                            if kind == "purchase"
                            else "",
                            f"Interaction {i}",
                        ]
                    )
            data = path.read_bytes()
        try:
            for label in ("first import", "same file again"):
                started = time.perf_counter()
                report = records_import(model_name="interactions", data=data, filename=path.name)
                elapsed = time.perf_counter() - started
                self.stdout.write(
                    f"{label}: {report.summary()} in {elapsed:.1f}s "
                    f"({report.rows / elapsed:,.0f} rows/s)"
                )
        finally:
            if not keep:
                # Deleting the customers cascades to their interactions.
                Customer.objects.filter(external_id__startswith=PREFIX).delete()
