"""Reading a spreadsheet export (CSV or XLSX) into a header and numbered rows.

Row numbers are the ones a spreadsheet shows: the header is row 1, the first record row 2.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError

# Excel writes UTF-8 (with a BOM when asked), or the Windows code page; Latin-1 decodes
# any byte, so it is the last resort for the few bytes cp1252 leaves undefined.
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
DELIMITERS = (",", ";", "\t")
XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list]]  # (row number, cells), blank rows skipped
    estimated_rows: int | None
    encoding: str | None = None
    delimiter: str | None = None


def normalise_column(name) -> str:
    """'External ID' and 'external-id' both mean `external_id`."""
    return "_".join(str(name or "").strip().lower().replace("-", " ").split())


def decode(data: bytes) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte string")  # pragma: no cover


def sniff_delimiter(first_line: str) -> str:
    """The delimiter is the candidate the header line holds most of (comma on a tie).

    csv.Sniffer guesses from letter frequencies and misreads short headers; a header of
    field names never contains a delimiter of its own, so counting is exact.
    """
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_csv(data: bytes) -> Table:
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError("The file is empty.") from None
    except csv.Error as exc:
        raise ValidationError(f"The file is not a readable CSV file: {exc}") from None

    def rows():
        number = 1
        try:
            for cells in reader:
                number += 1
                if not _blank(cells):
                    yield number, cells
        except csv.Error as exc:
            raise ValidationError(f"Row {number + 1} is not readable CSV: {exc}") from None

    return Table(
        header=header,
        rows=rows(),
        estimated_rows=max(text.count("\n") - 1, 0) or None,
        encoding=encoding,
        delimiter=delimiter,
    )


def read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        # read_only streams the sheet instead of building every cell object at once.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise ValidationError(f"The file is not a readable XLSX workbook: {exc}") from None
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = list(next(iterator))
    except StopIteration:
        workbook.close()
        raise ValidationError("The file is empty.") from None
    while header and header[-1] is None:
        header.pop()

    def rows():
        try:
            for number, cells in enumerate(iterator, start=2):
                cells = list(cells)
                if not _blank(cells):
                    yield number, cells
        finally:
            workbook.close()

    total = sheet.max_row
    return Table(header=header, rows=rows(), estimated_rows=(total - 1) if total else None)


def read_table(data: bytes, filename: str) -> Table:
    """A Table from the file's bytes; the name's suffix (or a zip signature) says XLSX."""
    if Path(filename).suffix.lower() in XLSX_SUFFIXES or data[:4] == b"PK\x03\x04":
        return read_xlsx(data)
    return read_csv(data)
