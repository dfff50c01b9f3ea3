"""Pages of a big list that cost about the same on page 1 and page 50, whatever the filter.

Three things make a deep page or a broad search slow on 100,000 rows: counting every
match to number the pages, an OFFSET that builds (joins, reads whole rows) every row it
skips, and reading the same matches twice (once to count, once for the page).
CappedCountPaginator reads, in one query, the ids from the page's first row up to the
count cap ("more than 500 customers" on page 1): their number is the count, the first
of them are the page, and the rows skipped by the OFFSET are index entries, not joined
rows. The page's rows are then read by id, with their joins.

A list sorted by a column of a related row (engagement score, P(alive): a LEFT JOIN) is
read as the rows that have a value, in the column's index order, then the rows without
one (no related row, or an empty column) in the tie-break order: NULLs come last either
way. As one ORDER BY over the LEFT JOIN, the database joins and sorts every customer.
"""

from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import F, OrderBy
from django.db.models.constants import LOOKUP_SEP
from django.utils.functional import cached_property

# A page counts the rows up to this many pages past its own first row ("more than 500
# customers" on page 1 of 100): enough to number the pages around it, and a count that
# stops early (a LIMITed subquery) costs about what reading those pages would.
PAGES_AHEAD = 5
# Past any real list, and small enough that its OFFSET fits a bigint: a larger `p` would
# overflow the query (a 500) instead of being the page that does not exist (`?e=1`).
MAX_PAGE = 10**9


def page_number(request) -> int:
    """The list page asked for (the admin's `p`); the admin itself answers a bad one."""
    try:
        return min(max(int(request.GET.get(PAGE_VAR, 1)), 1), MAX_PAGE)
    except ValueError:
        return 1


def _related_sort(queryset) -> tuple[str, bool] | None:
    """(path, descending) when the first sort key is a column across a relation."""
    order_by = queryset.query.order_by
    if not order_by:
        return None
    first = order_by[0]
    if isinstance(first, str):
        path, descending = first.removeprefix("-"), first.startswith("-")
    elif isinstance(first, OrderBy) and isinstance(first.expression, F):
        path, descending = first.expression.name, first.descending
    else:
        return None
    return (path, descending) if LOOKUP_SEP in path else None


def ordered_ids(queryset, start: int, stop: int) -> list:
    """The ids of queryset[start:stop], in its order, in one query."""
    ids = queryset.values_list("pk", flat=True)
    sort = _related_sort(queryset)
    if sort is None:
        return list(ids[start:stop])
    path, descending = sort
    rest = list(queryset.query.order_by[1:])
    if rest == ["-pk"]:
        # Django's tie-break, taken in the sort's direction: one index (column, id) then
        # serves both directions without sorting the tied rows.
        rest = ["-pk" if descending else "pk"]
    # Without NULLs the plain order is the same and matches the column's index.
    valued = ids.filter(**{f"{path}__isnull": False}).order_by(
        OrderBy(F(path), descending=descending), *rest
    )
    valueless = ids.filter(**{f"{path}__isnull": True}).order_by(*rest)
    return _concatenated(valued[:stop], valueless[:stop], start, stop)


def _concatenated(first, second, start: int, stop: int) -> list:
    """Rows start to stop of `first` then `second`, as a UNION ALL without an ORDER BY: both
    databases return its parts in turn and read the second only when the first runs out
    before `stop`. Each part has its own LIMIT, which keeps PostgreSQL from running them
    side by side (a Parallel Append needs a part it can split, and a LIMIT cannot be)."""
    parts, params = [], []
    for part in (first, second):
        try:
            sql, part_params = part.query.get_compiler(using=part.db).as_sql()
        except EmptyResultSet:
            continue
        parts.append(f"SELECT * FROM ({sql}) AS part{len(parts)}")
        params.extend(part_params)
    if not parts:
        return []
    sql = f"{' UNION ALL '.join(parts)} LIMIT {int(stop - start)} OFFSET {int(start)}"
    with connections[first.db].cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


class CappedCountPaginator(Paginator):
    """`count` is exact up to `cap`; beyond, `capped` is true and count is cap + 1.

    `page` is the page the request asks for: the cap is PAGES_AHEAD pages past its first
    row. `fetch(ids)` reads the rows of a page with what the list shows of them; without
    it, the list's own query filtered by id.
    """

    def __init__(self, object_list, per_page, *, page=1, fetch=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.asked = page
        self.cap = (page - 1 + PAGES_AHEAD) * int(per_page)
        self.fetch = fetch
        self._window = None  # the ids from the asked page's first row on

    @cached_property
    def count(self):
        queryset = self.object_list
        if isinstance(queryset, list):
            return len(queryset)
        bottom = (self.asked - 1) * self.per_page
        self._window = ordered_ids(queryset, bottom, self.cap + 1)
        if self._window or not bottom:
            return bottom + len(self._window)
        # Past the last row: the real count, so the admin can say the page does not exist.
        return queryset.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if isinstance(self.object_list, list):
            return self._get_page(self.object_list[bottom:top], number, self)
        if number == self.asked and self._window is not None:
            ids = self._window[: top - bottom]
        else:
            ids = ordered_ids(self.object_list, bottom, top)
        rows = self.fetch(ids) if self.fetch else self.object_list.filter(pk__in=ids)
        by_id = {row.pk: row for row in rows}
        return self._get_page([by_id[pk] for pk in ids if pk in by_id], number, self)

    def get_elided_page_range(self, number=1, *, on_each_side=3, on_ends=2):
        """When capped there is no last page to show: the range ends with the pages after
        the current one and an ellipsis."""
        if not self.capped:
            yield from super().get_elided_page_range(
                number, on_each_side=on_each_side, on_ends=on_ends
            )
            return
        number = self.validate_number(number)
        last = min(number + on_each_side, self.num_pages - 1)
        if number > 1 + on_each_side + on_ends + 1:
            yield from range(1, on_ends + 1)
            yield self.ELLIPSIS
            yield from range(number - on_each_side, last + 1)
        else:
            yield from range(1, last + 1)
        yield self.ELLIPSIS


class CappedChangeList(ChangeList):
    """A list that fits one page is read through the paginator too (the ids it already
    has), not by running the whole filtered query a second time."""

    def get_results(self, request):
        super().get_results(request)
        if not self.multi_page and not (self.show_all and self.can_show_all):
            self.result_list = self.paginator.page(1).object_list
