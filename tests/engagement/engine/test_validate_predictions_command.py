"""`validate_predictions`: the holdout table from a CDNOW file or from the database."""

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from customers.models import Interaction
from tests.factories import CustomerFactory

CDNOW = str(Path(__file__).parents[2] / "data" / "CDNOW_sample.txt")


def run(*args):
    out = StringIO()
    call_command("validate_predictions", *args, stdout=out)
    return out.getvalue()


def test_cdnow_file_prints_the_papers_fit_and_the_table_by_frequency():
    out = run("--calibration-end", "1997-09-30", "--holdout-days", "273", "--file", CDNOW)
    lines = out.splitlines()
    assert lines[0] == "calibration up to 1997-09-30, holdout 273 days (1997-10-01..1998-06-30)"
    assert lines[1] == "customers 2357, repeaters 946"
    assert lines[2].startswith("BG/NBD r=0.2426 alpha=30.89")
    assert lines[3].startswith("Gamma-Gamma p=6.24")
    assert lines[4].split() == ["x", "customers", "predicted", "actual"]
    groups = [line.split()[0] for line in lines[5:]]
    assert groups == ["0", "1", "2", "3", "4", "5", "6", "7+", "all"]
    assert lines[5].split()[1] == "1411"  # customers without a repeat in calibration


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--calibration-end", "30.09.1997", "--holdout-days", "273"], "--calibration-end"),
        (["--calibration-end", "1997-09-30", "--holdout-days", "0"], "--holdout-days"),
        (
            ["--calibration-end", "1997-09-30", "--holdout-days", "9", "--file", "/nonexistent"],
            "--file",
        ),
    ],
)
def test_bad_arguments_name_the_option(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_file_that_is_not_cdnow_is_refused(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("00004 0001 19970101 2 29.33\nhello\n")
    with pytest.raises(CommandError, match="line 2"):
        run("--calibration-end", "1997-09-30", "--holdout-days", "9", "--file", str(bad))


@pytest.mark.django_db
def test_database_mode_says_why_there_is_no_fit():
    day = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)
    for _ in range(5):
        customer = CustomerFactory()
        Interaction.objects.create(
            customer=customer, kind="purchase", occurred_at=day, amount=Decimal(9)
        )
    out = run("--calibration-end", "2025-01-31", "--holdout-days", "30")
    assert "customers 5, repeaters 0" in out
    assert "not fitted: 5 customers with a purchase, at least 100 needed" in out


@pytest.mark.django_db
def test_database_mode_prints_what_the_same_history_in_a_file_prints(tmp_path):
    """150 customers with repeat purchases in the database and in a CDNOW-format file."""
    rng = np.random.default_rng(11)
    start = dt.date(2024, 1, 1)
    interactions, lines = [], []
    for _ in range(150):
        customer = CustomerFactory()
        day = start + dt.timedelta(days=int(rng.integers(0, 60)))
        gap = int(rng.integers(5, 120))
        while day <= dt.date(2024, 12, 31):
            amount = Decimal(int(rng.integers(100, 9000))) / 100
            at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
            interactions.append(
                Interaction(customer=customer, kind="purchase", occurred_at=at, amount=amount)
            )
            lines.append(f"{customer.pk} 0 {day:%Y%m%d} 1 {amount}")
            if rng.random() < 0.3:  # drops out
                break
            day += dt.timedelta(days=int(rng.exponential(gap)) + 1)
    Interaction.objects.bulk_create(interactions)
    history = tmp_path / "history.txt"
    history.write_text("\n".join(lines) + "\n")
    args = ["--calibration-end", "2024-06-30", "--holdout-days", "184"]
    from_database = run(*args)
    assert "customers 150" in from_database
    assert "BG/NBD r=" in from_database
    assert from_database == run(*args, "--file", str(history))
