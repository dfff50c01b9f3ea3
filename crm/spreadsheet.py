"""Text that goes into a CSV or XLSX cell: never run as a formula, never refused.

A spreadsheet runs a cell starting with `=`, `+`, `-` or `@` as a formula (a tab or a
carriage return first hides one), so such text is written as text: in CSV behind a single
quote (the mark spreadsheets themselves use for "this is text"), in XLSX as a string cell
with the quote-prefix style. A plain number (`-5.00`, API money is text) runs nothing and
stays as it is. Control characters that XLSX cannot hold are dropped. Both exports (the
admin's, customers/exporting.py, and the API's, crm/api/renderers.py) write through here.
"""

import re

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def drop_illegal(text: str) -> str:
    """Text without the control characters a worksheet refuses (tab and newlines stay)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def runs_as_formula(text: str) -> bool:
    return text.startswith(FORMULA_SIGNS) and not _NUMBER.fullmatch(text)


def csv_text(text: str) -> str:
    """A text cell for CSV: cleaned, and marked as text when it would run as a formula."""
    text = drop_illegal(text)
    return TEXT_MARK + text if runs_as_formula(text) else text


def xlsx_value(sheet, value):
    """What to append to a write-only `sheet` for `value`: numbers, dates and plain text as
    they are; formula-like text as a string cell (openpyxl would write it as a formula)."""
    if not isinstance(value, str):
        return value
    value = drop_illegal(value)
    if not runs_as_formula(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def unmark(text: str) -> str:
    """An imported cell that an export marked as text reads back as the original text."""
    if text.startswith(TEXT_MARK) and runs_as_formula(text[1:]):
        return text[1:]
    return text
