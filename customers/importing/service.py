"""Import customers, contacts, products, subscriptions or interactions from a file.

`records_import()` is all or nothing: every row is checked with the models' own rules
(`clean_fields()`, `clean()`, Meta.constraints) and any bad row means nothing is written.
Rows are matched on the spec's key: a known key updates that record when a value differs,
an identical row changes nothing (and writes no history row), a new key creates a record.

Rows are handled in chunks: references and existing records are looked up with one query
per chunk, and a chunk is written with bulk_create/bulk_update (with history rows for the
models that keep history) as soon as it is checked, inside one transaction that is rolled
back if any later row turns out to be bad. Memory stays bounded by the chunk size.
"""

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q, UniqueConstraint
from django.utils import timezone
from simple_history.exceptions import NotHistoricalModelError
from simple_history.utils import (
    bulk_create_with_history,
    bulk_update_with_history,
    get_history_manager_for_model,
)

from crm.db import IN_LIST_MAX, chunks
from customers import events
from customers.models import Contact, Customer, Interaction, Subscription
from customers.search import contact_search_text_refresh, refresh_search_text

from .constraints import check_constraints, holds, referenced_fields
from .files import normalise_column, read_table
from .specs import Spec, get_spec

CHUNK_SIZE = 2000

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's row number; 1 is the header
    column: str  # "" when the whole row is at fault
    message: str

    def __str__(self):
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class RowOutcome:
    row: int
    action: str
    key: str
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)


@dataclass
class ImportReport:
    model_name: str
    filename: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    samples: dict[str, list[RowOutcome]] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    def summary(self) -> str:
        if self.written:
            text = f"{self.rows} rows: {self.created} created, {self.updated} updated"
        else:
            text = f"{self.rows} rows: {self.created} to create, {self.updated} to update"
        text += f", {self.unchanged} unchanged"
        if self.errors:
            text += f", {len(self.bad_rows)} rejected"
        return text


class ImportValidationError(ValidationError):
    """Some rows are bad; nothing was written. `report.errors` lists every one."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__([str(error) for error in report.errors])


def _history_manager(model):
    try:
        return get_history_manager_for_model(model)
    except NotHistoricalModelError:
        return None


# Cells -------------------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "t", "x", "ja", "oui", "wahr", "vrai"}
_FALSE = {"false", "no", "n", "0", "f", "nein", "non", "falsch", "faux"}
_EMPTY = object()


def _cell(value):
    if value is None:
        return _EMPTY
    if isinstance(value, str):
        value = value.strip()
        return value if value else _EMPTY
    if isinstance(value, float) and value.is_integer():
        # XLSX stores 1001 as 1001.0; an id column means "1001".
        return int(value)
    return value


def _decimal_text(text: str) -> str:
    """'1.234,50' and '1,234.50' are both 1234.50: the last separator is the decimal one."""
    text = text.replace(" ", "").replace("\u00a0", "")
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            return text.replace(".", "").replace(",", ".")
        return text.replace(",", "")
    if "," in text and re.fullmatch(r"-?\d+,\d+", text):
        return text.replace(",", ".")
    return text


@functools.cache
def _choice_codes(model_field) -> dict[str, str]:
    """Lower-cased codes and labels of a field's choices, to its codes."""
    codes = {}
    for code, label in model_field.flatchoices:
        codes.setdefault(str(label).lower(), code)
        codes[str(code).lower()] = code
    return codes


def _choice(model_field, value):
    """A choice by code or label, any case; anything else is left for clean_fields() to name."""
    if not isinstance(value, str) or not model_field.choices:
        return value
    return _choice_codes(model_field).get(value.lower(), value)


def _parse(model_field, value):
    """A cell to the field's Python value; raises ValidationError with the field's message."""
    if isinstance(model_field, models.BooleanField):
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValidationError(f"“{value}” is not true or false (use true/false, yes/no, 1/0).")
    if model_field.choices:
        return _choice(model_field, value if isinstance(value, str) else str(value))
    if isinstance(model_field, models.DecimalField):
        if isinstance(value, float):
            value = repr(value)
        elif isinstance(value, str):
            value = _decimal_text(value)
        try:
            Decimal(str(value))
        except InvalidOperation:
            raise ValidationError(f"“{value}” is not a number.") from None
        return model_field.to_python(value)
    if isinstance(model_field, models.DateTimeField):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        parsed = model_field.to_python(value if isinstance(value, dt.datetime) else str(value))
        if parsed is not None and timezone.is_naive(parsed):
            # A spreadsheet has no time zone: its times are the CRM's local time.
            parsed = timezone.make_aware(parsed)
        return parsed
    if isinstance(model_field, models.DateField):
        if isinstance(value, dt.datetime):
            return value.date()
        return model_field.to_python(value if isinstance(value, dt.date) else str(value))
    if isinstance(model_field, models.CharField | models.TextField):
        return str(value)
    return model_field.to_python(value)


def _empty_value(model_field, creating: bool):
    """What an empty cell means: the default on create; on update, cleared when the field
    is optional, otherwise the stored value stays. `_EMPTY` means "leave it"."""
    if creating:
        if model_field.has_default():
            return _EMPTY
        return None if model_field.null else ""
    if model_field.null:
        return None
    if model_field.blank and not isinstance(model_field, models.BooleanField):
        return ""
    return _EMPTY


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            name: [str(m) for m in ValidationError(errs).messages]
            for name, errs in exc.error_dict.items()
        }
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


# The import ---------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    values: dict  # field name -> parsed value or _EMPTY
    refs: dict  # column -> key text
    instance: models.Model | None = None
    action: str = ""
    changes: dict = field(default_factory=dict)
    failed_columns: set = field(default_factory=set)

    @property
    def failed(self) -> bool:
        return bool(self.failed_columns)


class _Importer:
    def __init__(self, spec: Spec, report: ImportReport, *, user, dry_run, reason, sample_size):
        self.spec = spec
        self.model = spec.model
        self.report = report
        self.user = user
        self.dry_run = dry_run
        self.reason = reason
        self.sample_size = sample_size
        self.opts = self.model._meta
        self.columns: list[str | None] = []
        self.seen_keys: dict[tuple, int] = {}
        self.history = _history_manager(self.model)
        self.touched_pks: set = set()
        self.extra_uniques = [
            c
            for c in self.opts.constraints
            if isinstance(c, UniqueConstraint) and c.fields and set(c.fields) != set(spec.key)
        ]
        self.claimed: dict[str, dict[tuple, int]] = {c.name: {} for c in self.extra_uniques}
        self.changed_customer_ids: set[int] = set()
        self.cancelled_customer_ids: set[int] = set()
        self.now = timezone.now()

    # Reporting

    def fail(self, row: _Row | int, column: str, message) -> None:
        number = row if isinstance(row, int) else row.number
        column = "" if column == NON_FIELD_ERRORS else column
        if not isinstance(row, int):
            row.failed_columns.add(column)
        self.report.errors.append(RowError(number, column, str(message)))

    def sample(self, row: _Row) -> None:
        bucket = self.report.samples.setdefault(row.action, [])
        if len(bucket) < self.sample_size:
            bucket.append(RowOutcome(row.number, row.action, self._key_text(row), row.changes))

    def _key_text(self, row: _Row) -> str:
        return " / ".join(str(row.refs.get(k) or row.values.get(k) or "") for k in self.spec.key)

    # Header

    def read_header(self, header) -> None:
        allowed = set(self.spec.columns)
        seen = set()
        for raw in header:
            name = normalise_column(raw)
            if not name:
                self.columns.append(None)  # an unnamed (spreadsheet padding) column
                continue
            if name in seen:
                self.fail(1, name, "This column appears twice.")
            seen.add(name)
            if name in self.spec.read_only:
                self.report.ignored_columns.append(name)
                self.columns.append(None)
            elif name not in allowed:
                self.fail(1, name, f"Unknown column. Expected: {', '.join(self.spec.columns)}.")
                self.columns.append(None)
            else:
                self.columns.append(name)
        for name in self.spec.required_columns:
            if name not in seen:
                self.fail(1, name, "This column is required.")

    # Rows

    def parse_row(self, number: int, cells: list) -> _Row:
        row = _Row(number, {}, {})
        if len(cells) > len(self.columns) and any(
            _cell(c) is not _EMPTY for c in cells[len(self.columns) :]
        ):
            self.fail(row, "", "This row has more cells than the header has columns.")
        for index, name in enumerate(self.columns):
            if name is None:
                continue
            value = _cell(cells[index]) if index < len(cells) else _EMPTY
            if name in self.spec.references:
                row.refs[name] = "" if value is _EMPTY else str(value)
                continue
            model_field = self.opts.get_field(name)
            if value is _EMPTY:
                row.values[name] = _EMPTY
                continue
            try:
                row.values[name] = _parse(model_field, value)
            except ValidationError as exc:
                for message in exc.messages:
                    self.fail(row, name, message)
        return row

    def resolve(self, rows: list[_Row]) -> dict[str, dict[str, models.Model]]:
        """Every referenced record of the chunk, with one query per reference column."""
        resolved = {}
        for column, ref in self.spec.references.items():
            keys = {r.refs[column] for r in rows if r.refs.get(column)}
            found = {}
            for chunk in chunks(keys):
                for values in ref.model._default_manager.filter(**{f"{ref.by}__in": chunk}).values(
                    "pk", ref.by, *ref.extra
                ):
                    found[str(values[ref.by])] = ref.model(**values)
            resolved[column] = found
        return resolved

    def existing(self, rows: list[_Row], resolved) -> dict[tuple, models.Model]:
        """The stored records the chunk's keys match, with one query per chunk."""
        keyed = [(r, self.key_of(r, resolved)) for r in rows]
        keyed = [(r, k) for r, k in keyed if k is not None]
        found = {}
        manager = self.model._default_manager
        for chunk in chunks(keyed, IN_LIST_MAX // 2):
            lookup = {}
            for position, name in enumerate(self.spec.key):
                attname = self.opts.get_field(name).attname
                lookup[f"{attname}__in"] = {k[position] for _, k in chunk}
            for instance in manager.filter(**lookup):
                key = tuple(
                    getattr(instance, self.opts.get_field(n).attname) for n in self.spec.key
                )
                found[key] = instance
        return found

    def key_of(self, row: _Row, resolved) -> tuple | None:
        """The row's key as stored values, or None when the row cannot match (no key)."""
        parts = []
        for name in self.spec.key:
            if name in self.spec.references:
                stub = resolved[name].get(row.refs.get(name, ""))
                if stub is None:
                    return None
                parts.append(stub.pk)
            else:
                value = row.values.get(name, _EMPTY)
                if value is _EMPTY or value in ("", None):
                    return None
                parts.append(value)
        return tuple(parts)

    def build(self, row: _Row, resolved, stored: dict[tuple, models.Model]) -> None:
        key = self.key_of(row, resolved)
        if key is not None:
            first = self.seen_keys.get(key)
            if first is not None:
                column = self.spec.key[-1]
                self.fail(
                    row, column, f"The same {column} as row {first}: each record once per file."
                )
                return
            self.seen_keys[key] = row.number
        instance = stored.get(key) if key is not None else None
        creating = instance is None
        if creating:
            instance = self.model()
            if self.model is Interaction:
                instance.created_by = self.user
            before = {}
        else:
            before = {f.attname: getattr(instance, f.attname) for f in self.opts.concrete_fields}
        given = []
        for name, value in row.values.items():
            if value is _EMPTY:
                value = _empty_value(self.opts.get_field(name), creating)
                if value is _EMPTY:
                    continue
            setattr(instance, name, value)
            given.append(name)
        for column, ref in self.spec.references.items():
            if column not in row.refs:
                continue
            model_field = self.opts.get_field(column)
            text = row.refs[column]
            if not text:
                if model_field.null:
                    setattr(instance, model_field.attname, None)
                    given.append(column)
                continue
            stub = resolved[column].get(text)
            if stub is None:
                self.fail(row, column, f"No {ref.label()} with {ref.by} “{text}”.")
                continue
            setattr(instance, column, stub)
            given.append(column)
        if creating:
            for model_field in self.opts.concrete_fields:
                if (
                    model_field.is_relation
                    and not model_field.null
                    and getattr(instance, model_field.attname) is None
                    and model_field.name not in row.failed_columns
                ):
                    self.fail(row, model_field.name, "This field is required.")
        row.instance = instance
        self.validate(row, given, creating)
        if row.failed:
            return
        if creating:
            row.action = CREATE
        else:
            changed = {
                f.name: (before[f.attname], getattr(instance, f.attname))
                for f in self.opts.concrete_fields
                if before[f.attname] != getattr(instance, f.attname)
            }
            row.changes = changed
            row.action = UPDATE if changed else UNCHANGED
            self.touched_pks.add(instance.pk)
        self.sample(row)

    def validate(self, row: _Row, given: list[str], creating: bool) -> None:
        instance = row.instance
        relations = {f.name for f in self.opts.concrete_fields if f.is_relation}
        # Relations were checked set-based (Field.validate() would query once per row).
        exclude = relations | row.failed_columns
        if not creating:
            exclude |= {f.name for f in self.opts.concrete_fields if f.name not in given}
        try:
            instance.clean_fields(exclude=exclude)
        except ValidationError as exc:
            for name, messages in _messages(exc).items():
                for message in messages:
                    self.fail(row, name, message)
        if row.failed:
            # Cross-field rules on values already known to be wrong only add noise.
            return
        try:
            instance.clean()  # the model's cross-field rules
        except ValidationError as exc:
            for name, messages in _messages(exc).items():
                for message in messages:
                    self.fail(row, name, message)
        if row.failed:
            return
        for name, messages in check_constraints(instance).items():
            for message in messages:
                self.fail(row, name, message)
        if not row.failed:
            self.check_uniques(row)

    def check_uniques(self, row: _Row) -> None:
        """Unique constraints other than the key (one primary contact per customer), against
        the stored records as the file leaves them so far."""
        instance = row.instance
        for constraint in self.extra_uniques:
            if (
                constraint.condition is not None
                and holds(constraint.condition, instance) is not True
            ):
                continue
            key = tuple(
                getattr(instance, self.opts.get_field(n).attname) for n in constraint.fields
            )
            condition_fields = (
                referenced_fields(constraint.condition) if constraint.condition else []
            )
            column = (condition_fields or list(constraint.fields))[-1]
            message = str(constraint.get_violation_error_message())
            claimed = self.claimed[constraint.name]
            if key in claimed:
                self.fail(row, column, f"{message} (row {claimed[key]})")
                continue
            query = Q(**{n: v for n, v in zip(constraint.fields, key, strict=True)})
            if constraint.condition is not None:
                query &= constraint.condition
            holders = self.model._default_manager.filter(query).exclude(pk=instance.pk)
            clash = [
                pk for pk in holders.values_list("pk", flat=True)[:5] if pk not in self.touched_pks
            ]
            if clash:
                self.fail(row, column, message)
                continue
            claimed[key] = row.number

    # Writing

    def write(self, rows: list[_Row]) -> None:
        creates = [r.instance for r in rows if r.action == CREATE]
        updates = [r for r in rows if r.action == UPDATE]
        if updates:
            names = sorted({name for r in updates for name in r.changes})
            if any(f.name == "updated_at" for f in self.opts.concrete_fields):
                for r in updates:
                    r.instance.updated_at = self.now
                names.append("updated_at")
            objs = [r.instance for r in updates]
            # bulk_update() skips the fields' pre_save(): the search text is refreshed here.
            names = refresh_search_text(objs, names)
            if self.history is not None:
                bulk_update_with_history(
                    objs,
                    self.model,
                    names,
                    batch_size=500,
                    default_user=self.user,
                    default_change_reason=self.reason,
                )
            else:
                self.model._default_manager.bulk_update(objs, names, batch_size=500)
        if creates:
            if self.history is not None:
                bulk_create_with_history(
                    creates,
                    self.model,
                    batch_size=500,
                    default_user=self.user,
                    default_change_reason=self.reason,
                )
            else:
                self.model._default_manager.bulk_create(creates, batch_size=500)
        if self.model is Contact:
            # A customer is found by its contacts' names (customers.search); a contact moved
            # to another customer leaves the first one too.
            contact_search_text_refresh(
                customer_ids=[r.instance.customer_id for r in rows if r.action in (CREATE, UPDATE)]
                + [r.changes["customer"][0] for r in updates if "customer" in r.changes]
            )
        for r in rows:
            if r.action not in (CREATE, UPDATE):
                continue
            instance = r.instance
            if isinstance(instance, Customer):
                self.changed_customer_ids.add(instance.pk)
            elif hasattr(instance, "customer_id"):
                self.changed_customer_ids.add(instance.customer_id)
            if (
                isinstance(instance, Subscription)
                and instance.status == Subscription.Status.CANCELLED
            ):
                old = r.changes.get("status", (None,))[0] if r.action == UPDATE else None
                if r.action == CREATE or (old is not None and old != instance.status):
                    self.cancelled_customer_ids.add(instance.customer_id)

    def send_events(self) -> None:
        ids = self.changed_customer_ids
        if not ids:
            return
        if self.model is Customer:
            events.send_on_commit(events.customers_changed, Customer, customer_ids=ids)
        elif self.model is Subscription:
            events.send_on_commit(
                events.subscriptions_changed,
                Subscription,
                customer_ids=ids,
                cancelled_customer_ids=self.cancelled_customer_ids,
            )
        elif self.model is Interaction:
            events.send_on_commit(events.interactions_recorded, Interaction, customer_ids=ids)


def records_import(
    *,
    model_name: str,
    data: bytes,
    filename: str,
    user=None,
    dry_run: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    sample_size: int = 50,
) -> ImportReport:
    """Import `data` (CSV or XLSX bytes) as `model_name` records; answer the report.

    Raises ImportValidationError (its `report` lists every bad row) when any row is bad;
    then nothing is written. `dry_run` checks everything and writes nothing.
    History rows name `user` and the file.
    """
    spec = get_spec(model_name)
    report = ImportReport(model_name=model_name, filename=filename, dry_run=dry_run)
    table = read_table(data, filename)
    report.encoding, report.delimiter = table.encoding, table.delimiter
    importer = _Importer(
        spec,
        report,
        user=user,
        dry_run=dry_run,
        reason=f"Imported from {filename}"[:100],
        sample_size=sample_size,
    )
    importer.read_header(table.header)

    def run():
        done = 0
        chunk: list[_Row] = []

        def flush():
            nonlocal done
            resolved = importer.resolve(chunk)
            stored = importer.existing(chunk, resolved)
            for row in chunk:
                importer.build(row, resolved, stored)
                if row.action == CREATE:
                    report.created += 1
                elif row.action == UPDATE:
                    report.updated += 1
                elif row.action == UNCHANGED:
                    report.unchanged += 1
            if not dry_run and not report.errors:
                try:
                    with transaction.atomic():
                        importer.write(chunk)
                except IntegrityError as exc:
                    importer.fail(
                        chunk[0].number, "", f"The database refused this chunk of rows: {exc}"
                    )
            done += len(chunk)
            if progress:
                progress(done, table.estimated_rows)
            chunk.clear()

        for number, cells in table.rows:
            report.rows += 1
            chunk.append(importer.parse_row(number, cells))
            if len(chunk) >= CHUNK_SIZE:
                flush()
        if chunk:
            flush()

    if dry_run:
        run()
    else:
        with transaction.atomic():
            run()
            if report.errors:
                report.errors.sort(key=lambda e: e.row)
                # Rolls back every chunk written so far.
                raise ImportValidationError(report)
            importer.send_events()
            report.written = True
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        raise ImportValidationError(report)
    return report
