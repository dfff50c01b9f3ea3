"""A date hierarchy for big tables.

Django's own drill-down lists the years (months, days) that have rows with
SELECT DISTINCT over every matching row: seconds on millions of interactions.
This one reads only the first and last date (two index probes) and offers every
year, month or day between them; a period without rows simply lists nothing.
"""

import calendar
import datetime as dt

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from customers.admin.rows import result_list_context

register = template.Library()


def _bounds(queryset, field_name):
    dates = queryset.exclude(**{f"{field_name}__isnull": True}).values_list(field_name, flat=True)
    first = dates.order_by(field_name).first()
    last = dates.order_by(f"-{field_name}").first()
    if first is None or last is None:
        return None, None
    if isinstance(first, dt.datetime):
        first, last = (timezone.localtime(v) if timezone.is_aware(v) else v for v in (first, last))
    return first, last


def bounded_date_hierarchy(cl):
    field_name = cl.date_hierarchy
    year_field, month_field, day_field = (f"{field_name}__{p}" for p in ("year", "month", "day"))
    year, month, day = (cl.params.get(f) for f in (year_field, month_field, day_field))

    def link(filters):
        return cl.get_query_string(filters, [f"{field_name}__"])

    # cl.queryset is already narrowed to the chosen year/month by the drill-down params.
    first, last = _bounds(cl.queryset, field_name)
    if first is not None and not (year or month or day) and first.year == last.year:
        year = first.year
        if first.month == last.month:
            month = first.month

    if year and month and day:
        chosen = dt.date(int(year), int(month), int(day))
        return {
            "show": True,
            "back": {
                "link": link({year_field: year, month_field: month}),
                "title": capfirst(formats.date_format(chosen, "YEAR_MONTH_FORMAT")),
            },
            "choices": [{"title": capfirst(formats.date_format(chosen, "MONTH_DAY_FORMAT"))}],
        }
    if year and month:
        year, month = int(year), int(month)
        low, high = (first.day, last.day) if first else (1, calendar.monthrange(year, month)[1])
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: d}),
                    "title": capfirst(
                        formats.date_format(dt.date(year, month, d), "MONTH_DAY_FORMAT")
                    ),
                }
                for d in range(low, high + 1)
            ],
        }
    if year:
        year = int(year)
        low, high = (first.month, last.month) if first else (1, 12)
        return {
            "show": True,
            "back": {"link": link({}), "title": _("All dates")},
            "choices": [
                {
                    "link": link({year_field: year, month_field: m}),
                    "title": capfirst(
                        formats.date_format(dt.date(year, m, 1), "YEAR_MONTH_FORMAT")
                    ),
                }
                for m in range(low, high + 1)
            ],
        }
    years = range(first.year, last.year + 1) if first else ()
    return {
        "show": True,
        "back": None,
        "choices": [{"link": link({year_field: str(y)}), "title": str(y)} for y in years],
    }


@register.tag(name="bounded_date_hierarchy")
def bounded_date_hierarchy_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=bounded_date_hierarchy,
        template_name="date_hierarchy.html",
        takes_context=False,
    )


@register.tag(name="fast_result_list")
def fast_result_list_tag(parser, token):
    """Django's result_list with the rows rendered by customers.admin.rows (big lists)."""
    return InclusionAdminNode(
        parser,
        token,
        func=result_list_context,
        template_name="change_list_results.html",
        takes_context=False,
    )
