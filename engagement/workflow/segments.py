"""Saved segments: a named query string of the customer list's filters, applied live.

Writes (`saved_segment_*`) are atomic, validate with full_clean() and raise ValidationError
naming the field; reads hand back querysets. Who may do what is crm.permissions' business
(can_edit_segment, visible_segments); the faces ask it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, QuerySet, Value
from django.http import QueryDict

from crm.permissions import visible_segments
from customers import selectors as customer_selectors
from customers.models import Customer
from engagement.models.segments import SavedSegment

from .customer_filters import SegmentFilter

# The parameters a segment may hold, in the order its normalised query string lists them.
SEGMENT_PARAMETERS = tuple(SegmentFilter.base_filters)
# Sizes are counted by UNION ALL queries of at most this many segments each (SQLite caps a
# compound SELECT at 500 terms).
_SIZES_PER_QUERY = 100


def segment_filters_clean(filters: str) -> str:
    """The normalised query string of `filters`, or ValidationError on `filters` saying why.

    Normalised: known parameters only (an unknown one is refused, not dropped), each at most
    once, blank ones left out, in a fixed order, so equal filters store equal strings.
    """
    params = QueryDict(filters or "")
    problems = []
    for key in params:
        if key not in SEGMENT_PARAMETERS:
            problems.append(
                f"Unknown filter “{key}”; a segment holds {', '.join(SEGMENT_PARAMETERS)}."
            )
        elif len(params.getlist(key)) > 1:
            problems.append(f"“{key}” is given more than once.")
    if not problems:
        filterset = SegmentFilter(params, queryset=Customer.objects.none())
        if not filterset.is_valid():
            for key, messages in filterset.errors.items():
                problems.extend(f"{key}: {message}" for message in messages)
    if problems:
        raise ValidationError({"filters": problems})
    normalised = urlencode(
        [(key, params[key].strip()) for key in SEGMENT_PARAMETERS if params.get(key, "").strip()]
    )
    if len(normalised) > SavedSegment._meta.get_field("filters").max_length:
        raise ValidationError({"filters": "These filters are too long to save."})
    return normalised


def segment_apply(customers: QuerySet[Customer], segment: SavedSegment) -> QuerySet[Customer]:
    """Narrow `customers` to the segment's, through the customer list's own filters.

    Archived customers are left out unless the segment's `archived` asks for them. Filters
    stored before a change that made them invalid raise ValidationError on `segment`.
    """
    filterset = SegmentFilter(QueryDict(segment.filters), queryset=customers)
    if not filterset.is_valid():
        problems = "; ".join(
            f"{key}: {' '.join(messages)}" for key, messages in filterset.errors.items()
        )
        raise ValidationError(
            {"segment": f"The filters of segment “{segment.name}” no longer apply ({problems})."}
        )
    return filterset.qs


def segment_customers(segment: SavedSegment) -> QuerySet[Customer]:
    """The segment's customers today, with the joins of the customer list."""
    return segment_apply(customer_selectors.customer_list(include_archived=True), segment)


def segment_sizes(segments) -> dict[int, int | None]:
    """How many customers each segment holds now, by segment id (None: filters invalid).

    One query per 100 segments (a UNION ALL of one COUNT each), so a page of segments is
    counted in one round trip whatever its length.
    """
    sizes: dict[int, int | None] = {}
    counts = []
    for segment in segments:
        try:
            customers = segment_apply(Customer.objects.all(), segment)
        except ValidationError:
            sizes[segment.pk] = None
            continue
        counts.append(
            customers.order_by()
            .annotate(segment_id=Value(segment.pk, output_field=IntegerField()))
            .values("segment_id")
            .annotate(n=Count("pk"))
            .values_list("segment_id", "n")
        )
    for start in range(0, len(counts), _SIZES_PER_QUERY):
        first, *rest = counts[start : start + _SIZES_PER_QUERY]
        sizes.update(first.union(*rest, all=True) if rest else first)
    return sizes


def saved_segment_list(*, user) -> QuerySet[SavedSegment]:
    """The segments `user` reads (own, shared; crm_admin: all), owner joined."""
    return visible_segments(user, SavedSegment.objects.select_related("owner")).order_by(
        "name", "pk"
    )


@transaction.atomic
def saved_segment_create(
    *, owner, name: str, filters: str = "", is_shared: bool = False
) -> SavedSegment:
    segment = SavedSegment(
        owner=owner, name=name, filters=segment_filters_clean(filters), is_shared=is_shared
    )
    return _save(segment)


@transaction.atomic
def saved_segment_update(*, segment: SavedSegment, **fields) -> SavedSegment:
    """Change `name`, `filters` or `is_shared` (anything else is refused, naming it)."""
    for name, value in fields.items():
        if name not in ("name", "filters", "is_shared"):
            raise ValidationError({name: "This field cannot be changed."})
        if name == "filters":
            value = segment_filters_clean(value)
        setattr(segment, name, value)
    return _save(segment)


@transaction.atomic
def saved_segment_delete(*, segment: SavedSegment) -> None:
    """Delete a segment; its campaigns keep their members and lose only the link."""
    segment.delete()


def _save(segment: SavedSegment) -> SavedSegment:
    segment.full_clean(validate_constraints=False)
    taken = SavedSegment.objects.filter(owner=segment.owner_id, name=segment.name)
    if taken.exclude(pk=segment.pk).exists():
        raise ValidationError({"name": "You already have a segment of this name."})
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as error:  # a concurrent save of the same name won
        raise ValidationError({"name": "You already have a segment of this name."}) from error
    return segment
