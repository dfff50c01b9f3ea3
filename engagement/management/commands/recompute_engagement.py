"""python manage.py recompute_engagement [--as-of YYYY-MM-DD]: recompute every customer."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from engagement.engine.recompute import engagement_recompute


class Command(BaseCommand):
    help = "Recompute every customer's engagement and print what changed."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, as_of=None, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise CommandError("--as-of: enter a date as YYYY-MM-DD") from None

        def progress(done, total):
            self.stderr.write(f"\r{done:,} / {total:,} customers", ending="")
            self.stderr.flush()

        summary = engagement_recompute(as_of=day, progress=progress)
        self.stderr.write("")
        out = self.stdout.write
        out(
            f"Recomputed {summary.customers:,} customers as of {summary.as_of} with rules "
            f"v{summary.rule_version} in {summary.seconds:.1f}s; {summary.changed:,} changed."
        )
        out("By status:")
        for status, n in sorted(summary.by_status.items(), key=lambda kv: -kv[1]):
            out(f"  {status:<20} {n:>10,}")
        out("By type:")
        for code, n in sorted(summary.by_type.items(), key=lambda kv: -kv[1]):
            out(f"  {code:<20} {n:>10,}")
        out("Moves between statuses:")
        if not summary.moves:
            out("  none")
        for move, n in sorted(summary.moves.items(), key=lambda kv: -kv[1]):
            before, after = move.split("->")
            out(f"  {before or '(none)':>10} -> {after:<10} {n:>10,}")
        if summary.type_moves:
            out("Types gained (+) and lost (-):")
            for move, n in sorted(summary.type_moves.items()):
                out(f"  {move:<20} {n:>10,}")
