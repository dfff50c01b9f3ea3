"""python manage.py import_crm MODEL FILE [--dry-run] [--user USERNAME]"""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from customers.importing import (
    MODEL_NAMES,
    ImportValidationError,
    check_import_size,
    records_import,
)


class Progress:
    """A one-line progress bar on stderr: redrawn in place on a terminal, otherwise a line
    every two seconds and one at the end (logs stay short)."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not self.tty and not final and now - self.last < 2:
            return
        self.last = now
        if total:
            share = min(done / total, 1)
            bar = "#" * int(share * self.WIDTH)
            line = f"[{bar:<{self.WIDTH}}] {done:,}/{total:,} rows ({share:.0%})"
        else:
            line = f"{done:,} rows"
        self.stream.write(("\r" if self.tty else "") + line, ending="" if self.tty else "\n")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("")


class Command(BaseCommand):
    help = (
        "Import customers, contacts, products, subscriptions or interactions from a CSV or "
        "XLSX file. Any bad row: every bad row is listed, nothing is written, exit status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("model", choices=MODEL_NAMES)
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and write nothing."
        )
        parser.add_argument("--user", help="Username recorded as the author of the history rows.")

    def handle(self, *args, model, file, dry_run, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            check_import_size(path.stat().st_size)  # before reading it into memory
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        author = None
        if user:
            try:
                author = get_user_model()._default_manager.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user {user!r}.") from None
        progress = Progress(self.stderr) if options["verbosity"] > 0 else None
        started = time.monotonic()
        try:
            report = records_import(
                model_name=model,
                data=path.read_bytes(),
                filename=path.name,
                user=author,
                dry_run=dry_run,
                progress=progress,
            )
        except ImportValidationError as exc:
            report = exc.report
            if progress:
                progress.close()
            self.stderr.write(
                f"{len(report.bad_rows)} bad rows in {path.name}; nothing was written."
            )
            for error in report.errors:
                self.stderr.write(f"  {error}")
            # CommandError exits with status 1 (and prints only its message).
            raise CommandError(f"Import refused: {len(report.errors)} problems.") from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if progress:
            progress.close()
        elapsed = time.monotonic() - started
        verb = "Checked (dry run, nothing written)" if dry_run else "Imported"
        self.stdout.write(f"{verb} {path.name}: {report.summary()} in {elapsed:.1f}s.")
        if report.ignored_columns:
            self.stdout.write(f"Ignored read-only columns: {', '.join(report.ignored_columns)}.")
