"""Lists out to CSV or XLSX, a row at a time, so a million rows never sit in memory.

The columns of each list are the import columns (so an export imports back as is),
plus read-only columns for people (engagement status and types of a customer), which
an import accepts and ignores. Text that a spreadsheet would run as a formula is written
as text (crm/spreadsheet.py).
"""

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.utils import timezone

from crm import spreadsheet

from .importing.specs import get_spec

ITERATOR_CHUNK = 2000
# A worksheet holds 1,048,576 rows, the header included.
XLSX_MAX_ROWS = 1_048_575

Column = tuple[str, Callable]


def _attr(name):
    return lambda obj: getattr(obj, name)


def _ref(relation, key):
    def get(obj):
        related = getattr(obj, relation)
        return getattr(related, key) if related is not None else None

    return get


def _engagement(customer):
    # The stored result (a reverse one-to-one joined by the selector); missing until
    # the first recompute.
    try:
        return customer.engagement
    except ObjectDoesNotExist:
        return None


def _engagement_value(name):
    def get(customer):
        result = _engagement(customer)
        return None if result is None else getattr(result, name)

    return get


def _engagement_types(customer):
    result = _engagement(customer)
    return ", ".join(result.types) if result is not None else None


def columns_for(model_name: str) -> list[Column]:
    spec = get_spec(model_name)
    columns: list[Column] = []
    for name in spec.columns:
        if name in spec.references:
            ref = spec.references[name]
            columns.append((name, _ref(name, ref.by)))
        else:
            columns.append((name, _attr(name)))
    if model_name == "customers":
        columns += [
            ("archived_at", _attr("archived_at")),
            ("engagement_status", _engagement_value("status")),
            ("engagement_types", _engagement_types),
            ("engagement_score", _engagement_value("score")),
            ("engagement_reactivated", _engagement_value("reactivated")),
            ("last_activity_on", _engagement_value("last_activity_on")),
        ]
    elif "customer" in spec.references:
        columns.append(("customer_name", _ref("customer", "name")))
    return columns


# The joins each list needs so a row costs no query of its own.
_RELATIONS = {
    "customers": ("owner", "engagement"),
    "contacts": ("customer",),
    "products": (),
    "subscriptions": ("customer", "product"),
    "interactions": ("customer", "contact", "created_by"),
}


def export_queryset(model_name: str, queryset: QuerySet) -> QuerySet:
    relations = _RELATIONS[model_name]
    return queryset.select_related(*relations) if relations else queryset


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, dt.date | Decimal):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    if isinstance(value, str):
        return spreadsheet.csv_text(value)
    return str(value)


def _cell(value):
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        # Excel has no time zones: write the CRM's local time (what an import assumes).
        return timezone.make_naive(value)
    return value


def rows(columns: list[Column], queryset: QuerySet) -> Iterator[list]:
    getters = [get for _, get in columns]
    for obj in queryset.iterator(chunk_size=ITERATOR_CHUNK):
        yield [get(obj) for get in getters]


class _Echo:
    def write(self, value):
        return value


def csv_stream(
    columns: list[Column], records: Iterable[list], *, batch: int = 500
) -> Iterator[str]:
    """CSV text in pieces: a BOM (so Excel reads UTF-8), the header, then the rows."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([name for name, _ in columns])
    pending = []
    for record in records:
        pending.append(writer.writerow([_text(v) for v in record]))
        if len(pending) >= batch:
            yield "".join(pending)
            pending = []
    if pending:
        yield "".join(pending)


def xlsx_file(columns: list[Column], records: Iterable[list], *, title: str = "Export"):
    """An XLSX workbook written row by row (openpyxl write-only) into a temporary file;
    answers the open file, positioned at its start. It is deleted when closed."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([name for name, _ in columns])
    for record in records:
        sheet.append([spreadsheet.xlsx_value(sheet, _cell(v)) for v in record])
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the response closes it)
    workbook.save(handle)
    handle.seek(0)
    return handle
