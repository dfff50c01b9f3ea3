"""Cells that a spreadsheet would run as a formula are written as text; control characters
a spreadsheet refuses are dropped."""

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from crm import spreadsheet


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\r=cmd", "'\r=cmd"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        # A plain number is no formula: it stays as it is (money is text in the API).
        ("-5.00", "-5.00"),
        ("+12", "+12"),
        ("-1e3", "-1e3"),
        # Characters a spreadsheet refuses are dropped.
        ("Bell\x07 & NUL\x00 Ltd", "Bell & NUL Ltd"),
        ("\x01=cmd", "'=cmd"),
        ("line\nbreak", "line\nbreak"),
    ],
)
def test_csv_text(value, written):
    assert spreadsheet.csv_text(value) == written


def _roundtrip(values):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("t")
    sheet.append([spreadsheet.xlsx_value(sheet, value) for value in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return next(load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0].iter_rows())


def test_xlsx_text_starting_with_a_formula_sign_is_a_text_cell():
    cells = _roundtrip(["=1+2", "@SUM(A1)", "+49 30", "-2+3", "plain"])
    assert [c.value for c in cells] == ["=1+2", "@SUM(A1)", "+49 30", "-2+3", "plain"]
    assert all(c.data_type == "s" for c in cells)
    assert cells[0].quotePrefix


def test_xlsx_drops_control_characters_instead_of_failing():
    (cell,) = _roundtrip(["Acme\x07\x1b Ltd"])
    assert cell.value == "Acme Ltd"


def test_xlsx_numbers_stay_numbers_negative_ones_too():
    cells = _roundtrip([Decimal("-5.50"), -3, 2.5])
    assert [c.value for c in cells] == [-5.5, -3, 2.5]
    assert all(c.data_type == "n" for c in cells)
