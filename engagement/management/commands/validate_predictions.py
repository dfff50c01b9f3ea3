"""python manage.py validate_predictions --calibration-end D --holdout-days N [--file PATH]

Fits the purchase model on the purchases up to D and prints, by calibration frequency
(0..6, 7+), the mean predicted against the mean actual purchase days in (D, D + N].
From the database (every non-archived customer with a purchase on or before D, local days
in the site time zone), or with --file from a CDNOW-format transaction file (the test data
tests/data/CDNOW_sample.txt reproduces Fader, Hardie and Lee 2005, figure 4).
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from engagement.engine.prediction import summarize_purchases
from engagement.engine.prediction_sql import purchase_summary
from engagement.engine.prediction_validation import format_validation, read_cdnow, validate
from engagement.management.options import iso_date


class Command(BaseCommand):
    help = "Hold the purchase model against a holdout period (prints a table)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--calibration-end", required=True, type=iso_date, help="D, YYYY-MM-DD"
        )
        parser.add_argument("--holdout-days", required=True, type=int, help="N, days after D")
        parser.add_argument(
            "--file", help="a CDNOW-format transaction file instead of the database"
        )

    def handle(self, *args, calibration_end, holdout_days, file, **options):
        end = calibration_end
        if holdout_days < 1:
            raise CommandError("--holdout-days: must be 1 or more")
        later_day = end + dt.timedelta(days=holdout_days)
        if file:
            try:
                rows = read_cdnow(file)
            except OSError as error:
                raise CommandError(f"--file: cannot read {file}: {error.strerror}") from error
            except ValueError as error:
                raise CommandError(f"--file: {error}") from error
            calibration = summarize_purchases(rows, end)
            later = summarize_purchases(rows, later_day)
        else:
            calibration = purchase_summary(end)
            later = purchase_summary(later_day)
        self.stdout.write(format_validation(validate(calibration, later, end, holdout_days)))
