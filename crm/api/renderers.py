"""`?format=csv` on the API: a CSV renderer, and a list mixin that streams.

The renderer alone turns whatever a view answers (a page, one record, an error) into CSV.
A list view that also mixes in `StreamingCSVListMixin` answers `?format=csv` with the
whole filtered queryset instead of one page, read with `iterator(chunk_size=...)` and
written as it is read, so a million rows never sit in memory:

    class CustomerViewSet(StreamingCSVListMixin, viewsets.ModelViewSet): ...

Nested objects become dotted columns (`engagement.status`); lists are joined with ", ".
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer

from crm import spreadsheet


def flatten(record, prefix: str = "") -> dict:
    flat = {}
    for name, value in record.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{key}."))
        elif isinstance(value, list | tuple):
            if any(isinstance(item, dict | list) for item in value):
                flat[key] = json.dumps(value, default=str)
            else:
                flat[key] = ", ".join("" if item is None else str(item) for item in value)
        else:
            flat[key] = value
    return flat


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # Never a live formula in the reader's spreadsheet (crm/spreadsheet.py).
        return spreadsheet.csv_text(value)
    return str(value)


def _pick(record: dict, flat: dict, name: str) -> str:
    if name in flat:
        return _text(flat[name])
    value = record.get(name)  # a dict the serializer did not declare as nested (a method field)
    return _text(json.dumps(value, default=str)) if isinstance(value, dict) else _text(value)


def _records(data) -> list:
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"]
    if isinstance(data, list):
        return data
    return [] if data is None else [data]


class CSVRenderer(BaseRenderer):
    """Any response as CSV (the streaming list path does not come through here)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = [flatten(r) if isinstance(r, dict) else {"value": r} for r in _records(data)]
        header: list[str] = []
        for row in rows:
            header.extend(k for k in row if k not in header)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_text(row.get(name)) for name in header])
        return ("\ufeff" + buffer.getvalue()).encode(self.charset)


class _Echo:
    def write(self, value):
        return value


def serializer_columns(serializer, prefix: str = "") -> list[str]:
    """The flattened column names of a serializer's output, nested serializers dotted,
    known before any row is read (a first row with `engagement: null` cannot tell)."""
    columns = []
    for name, field in serializer.fields.items():
        if getattr(field, "write_only", False):
            continue
        if isinstance(field, serializers.Serializer):
            columns.extend(serializer_columns(field, f"{prefix}{name}."))
        else:
            columns.append(f"{prefix}{name}")
    return columns


def csv_lines(
    records: Iterable[dict], *, header: list[str] | None = None, batch: int = 500
) -> Iterator[str]:
    """CSV text for dict records, in batches of lines. Without a header, the first
    record's keys are the columns."""
    writer = csv.writer(_Echo())
    pending = ["\ufeff"]
    if header is not None:
        pending.append(writer.writerow(header))
    for record in records:
        flat = flatten(record)
        if header is None:
            header = list(flat)
            pending.append(writer.writerow(header))
        pending.append(writer.writerow([_pick(record, flat, name) for name in header]))
        if len(pending) >= batch:
            yield "".join(pending)
            pending = []
    if header is None:
        pending.append("\n")
    if pending:
        yield "".join(pending)


class StreamingCSVListMixin:
    """`?format=csv` on a list answers every row of the filtered queryset, streamed.

    Filters, search and ordering apply as for the JSON list; pagination does not.
    One serializer instance writes every row (its fields are built once), and the
    queryset is read in chunks, so memory stays flat whatever the row count.
    """

    csv_chunk_size = 2000

    def list(self, request, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if getattr(renderer, "format", None) != CSVRenderer.format:
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        serializer = self.get_serializer()
        records = (
            serializer.to_representation(obj)
            for obj in queryset.iterator(chunk_size=self.csv_chunk_size)
        )
        response = StreamingHttpResponse(
            csv_lines(records, header=serializer_columns(serializer)),
            content_type="text/csv; charset=utf-8",
        )
        name = getattr(queryset.model._meta, "model_name", "export")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{name}s-{stamp}.csv"'
        return response
