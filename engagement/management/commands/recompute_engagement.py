"""python manage.py recompute_engagement [--as-of YYYY-MM-DD]: recompute every customer, then
evaluate the alert rules as of the same day (engagement.workflow.runs.engagement_run)."""

from django.core.management.base import BaseCommand

from engagement.management.options import add_as_of
from engagement.workflow.runs import engagement_run


class Command(BaseCommand):
    help = (
        "Recompute every customer's engagement as of a day, evaluate the alert rules as of "
        "that day, and print what changed and the alerts fired."
    )

    def add_arguments(self, parser):
        add_as_of(parser)

    def handle(self, *args, as_of=None, **options):
        def progress(done, total):
            self.stderr.write(f"\r{done:,} / {total:,} customers", ending="")
            self.stderr.flush()

        summary = engagement_run(as_of=as_of, progress=progress)
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
        out(f"Alerts fired as of {summary.as_of}: {summary.alerts:,}")
        for rule, n in sorted(summary.alerts_by_rule.items(), key=lambda kv: (-kv[1], kv[0])):
            out(f"  {rule:<40} {n:>10,}")
