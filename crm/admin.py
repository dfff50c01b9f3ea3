"""Admin helpers both apps' admins share, and the admin site itself.

`CRMAdminSite` is the project's default admin site (crm.apps.CRMAdminConfig). Pages that
belong to no model (the engagement dashboard, the import and export pages) are mounted by
its `get_urls`, after django/contrib/auth/admin.py: every view wrapped in `admin_view`.
Every ModelAdmin it registers (third-party ones too) is made a `GuardedAdmin`: no query
string crashes a changelist or an add form, and the project's own lists are titled by what
they hold ("Customers").
"""

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR, IncorrectLookupParameters
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections, models, router
from django.db.models import F, QuerySet
from django.urls import include, path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from crm.params import parse_id


class _GuardedChangeList:
    """A changelist whose query string cannot crash it.

    Django builds the date-hierarchy range with `datetime(int(year), ...)`: a year of 9999
    or of twenty digits raises ValueError or OverflowError past its own guard (a 500). Any
    such error while the filters are read is a bad lookup instead, which the admin answers
    by showing the whole list with its "invalid lookup" flag (`?e=1`).
    """

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc


# Apps whose lists sales reps and CSMs work in: titled "Customers", not Django's "Select
# customer to change".
_PLAIN_TITLE_APPS = {"customers", "engagement"}


class GuardedAdmin:
    """ModelAdmin mixin: bad query parameters never crash its pages.

    The changelist is a guarded one (see _GuardedChangeList). The add form takes initial
    values from the query string (`?customer=12`); a related field given something that
    is no id (`?customer=abc`) would make its widget look the value up and fail, so such
    a value is left out.

    Being on every ModelAdmin, it also titles the project's own lists (changelist_view).
    """

    def changelist_view(self, request, extra_context=None):
        # A popup keeps "Select customer": there the user is picking one. A title the
        # ModelAdmin gives itself ("Interactions of ACME") wins.
        if self.opts.app_label in _PLAIN_TITLE_APPS and IS_POPUP_VAR not in request.GET:
            title = capfirst(self.opts.verbose_name_plural)
            extra_context = {"title": title, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if issubclass(changelist, _GuardedChangeList):
            return changelist
        return type(f"Guarded{changelist.__name__}", (_GuardedChangeList, changelist), {})

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        for name, value in list(initial.items()):
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if not field.is_relation or field.auto_created:
                continue
            if not isinstance(field.target_field, models.AutoField | models.IntegerField):
                continue
            values = value if isinstance(value, list) else [value]
            if any(parse_id(v) is None for v in values):
                del initial[name]
        return initial


def guarded(admin_class):
    """`admin_class` as a GuardedAdmin (itself if it is one already)."""
    if issubclass(admin_class, GuardedAdmin):
        return admin_class
    return type(f"Guarded{admin_class.__name__}", (GuardedAdmin, admin_class), {})


PRODUCT_NAME = "Engagement CRM"


class NullsLast(F):
    """A list column's `ordering` that sorts rows without a value last, in both directions
    (the admin asks an expression for .asc() or .desc()); PostgreSQL would put them first
    when descending, SQLite when ascending."""

    def asc(self, **kwargs):
        return super().asc(nulls_last=True)

    def desc(self, **kwargs):
        return super().desc(nulls_last=True)


class CRMAdminSite(admin.AdminSite):
    # The product's name in the header, every page's <title> and the login page.
    site_header = PRODUCT_NAME
    site_title = PRODUCT_NAME
    index_title = "Home"

    def __init__(self, name="admin"):
        super().__init__(name)
        self._pages = []

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every app registers through here (admin.site is this site), so every ModelAdmin,
        # Django's and third parties' included, gets the guarded changelist and add form.
        super().register(model_or_iterable, guarded(admin_class or admin.ModelAdmin), **options)

    def register_pages(self, prefix: str, pages) -> None:
        """Mount `pages(site)` (a list of URL patterns) under `prefix`, ahead of the model
        pages, whose "<app>/<model>/<id>/" patterns would otherwise take these paths."""
        self._pages.append((prefix, pages))

    def get_urls(self):
        return [
            *(path(prefix, include(pages(self))) for prefix, pages in self._pages),
            *super().get_urls(),
        ]


# Below this many rows an exact count is cheap enough on any database.
_ESTIMATE_ABOVE = 50_000


class EstimatedCountPaginator(Paginator):
    """Exact counts, except an unfiltered PostgreSQL table: the planner's estimate.

    COUNT(*) over millions of interactions scans the whole table on every page view;
    pg_class.reltuples answers at once and is close enough to number the pages.
    """

    @cached_property
    def count(self):
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            connection = connections[queryset.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                        [queryset.model._meta.db_table],
                    )
                    row = cursor.fetchone()
                if row and row[0] > _ESTIMATE_ABOVE:
                    return int(row[0])
        return super().count


class BigTableMixin:
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 100
    # Facet counts run one COUNT per filter choice over the whole table.
    show_facets = admin.ShowFacets.NEVER


# A filter lists at most this many values (countries, industries: far fewer).
_MAX_VALUES = 500


def indexed_distinct_values(model, field) -> list[str]:
    """The distinct non-blank values of an indexed column, in order.

    A recursive CTE hops from one value to the next through the column's index (one
    probe per distinct value); SELECT DISTINCT reads every row of the table instead.
    """
    connection = connections[router.db_for_read(model)]
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(field.column)
    sql = (
        f"WITH RECURSIVE v(value) AS ("
        f" SELECT MIN({column}) FROM {table} WHERE {column} > %s"
        f" UNION ALL"
        f" SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > v.value)"
        f" FROM v WHERE v.value IS NOT NULL"
        f") SELECT value FROM v WHERE value IS NOT NULL LIMIT {_MAX_VALUES}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [""])
        return [value for (value,) in cursor.fetchall()]


_BADGE = (
    '<span class="{}" style="display:inline-block;padding:1px 7px;border-radius:9px;'
    'white-space:nowrap;font-size:11px;color:#fff;background:{}">{}</span>'
)


def badge(colour: str, label, *, css_class: str = "crm-badge"):
    """A small coloured label (status and type columns, panels)."""
    return format_html(_BADGE, css_class, colour, label)


def badges(pairs, *, css_class: str = "crm-badge"):
    """Badges side by side, from (colour, label) pairs."""
    return format_html_join(" ", _BADGE, ((css_class, colour, label) for colour, label in pairs))


def customer_link(customer):
    """A link to the customer's page; `customer` must already be joined (no query)."""
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    return format_html('<a href="{}">{}</a>', url, customer.name)
