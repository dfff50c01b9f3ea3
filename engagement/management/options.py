"""What the engagement commands' arguments share."""

import argparse
import datetime as dt


def iso_date(value: str) -> dt.date:
    """An argparse type: a YYYY-MM-DD date (a bad one is the command's usage error)."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("enter a date as YYYY-MM-DD") from None


def add_as_of(parser) -> None:
    parser.add_argument("--as-of", dest="as_of", type=iso_date, help="YYYY-MM-DD (default: today)")
