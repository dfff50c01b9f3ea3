"""The rows of a big admin list, rendered in one pass over columns worked out once.

Django's result_list looks every column up again for every row (lookup_field, a
format_html per cell, a form widget template per checkbox): most of the time of a
100-row customer page. `fast_results(cl)` works out once per page what each column is
(model field, relation, admin method, link, CSS classes) and then renders each row as one
string of Django's own markup, which admin/change_list_results.html prints as it is.
Lists with editable columns or opened as a popup keep Django's rendering.
"""

import datetime

from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _coerce_field_name,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
)
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

_PK_MARK = "__pk__"


def _per_value(display):
    """display(value) computed once per distinct value on a page: a status, a country, a
    date or a score repeats down the rows, and each formatting asks the active language
    and its formats again. Values that cannot be keys are formatted every time."""
    seen = {}

    def cached(value):
        try:
            key = (type(value), value)
            html = seen.get(key)
        except TypeError:
            return display(value)
        if html is None:
            html = seen[key] = display(value)
        return html

    return cached


def _column(cl, index, name):
    """(CSS classes, render) of one column; render(obj) answers (escaped HTML, nowrap):
    Django adds `nowrap` to date and relation columns, and to cells showing a date."""
    admin = cl.model_admin
    # Resolved once: a lazy translation costs on every comparison and escape.
    empty = mark_safe(str(admin.get_empty_value_display()))
    classes = f"field-{_coerce_field_name(name, index)}"
    if name == "action_checkbox":
        return "action-checkbox", lambda obj: (admin.action_checkbox(obj), False)
    field = None
    if isinstance(name, str):
        try:
            field = _get_non_gfk_field(cl.model._meta, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            field = None
    if field is not None and not field.auto_created:
        nowrap = isinstance(field, (models.DateField, models.TimeField, models.ForeignKey))
        if isinstance(field.remote_field, models.ManyToOneRel):

            def render(obj):
                related = getattr(obj, name)
                return conditional_escape(empty if related is None else related), nowrap

            return classes, render

        display = _per_value(
            lambda value: conditional_escape(display_for_field(value, field, empty))
        )

        def render(obj):
            value = getattr(obj, name)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            return display(value), nowrap

        return classes, render
    if callable(name):
        attr = name
    elif hasattr(admin, name) and name != "__str__":
        attr = getattr(admin, name)
    else:
        attr = None
    column_empty = mark_safe(str(getattr(attr, "empty_value_display", empty)))
    boolean = getattr(attr, "boolean", False)
    display = _per_value(
        lambda value: conditional_escape(display_for_value(value, column_empty, boolean))
    )

    def render(obj):
        try:
            value = attr(obj) if attr is not None else getattr(obj, name)
            if attr is None and callable(value):
                value = value()
        except ObjectDoesNotExist:
            return conditional_escape(column_empty), False
        if isinstance(value, SafeString) and value and not boolean:
            return value, False  # markup made by the column itself (badges, links)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        return display(value), isinstance(value, (datetime.date, datetime.time))

    return classes, render


def _change_url(cl):
    """The change URL with a marker for the pk, filters preserved (one reverse per page)."""
    opts = cl.opts
    try:
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=[_PK_MARK],
            current_app=cl.model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return None
    return add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": opts}, url)


def fast_results(cl) -> list:
    if cl.formset or cl.is_popup or cl.to_field:
        return list(results(cl))
    url = _change_url(cl)
    links = cl.list_display_links or ()
    columns = []
    first_link = True
    for index, name in enumerate(cl.list_display):
        classes, render = _column(cl, index, name)
        link = name in links and url is not None
        tag = "td"
        if link and first_link:
            tag, first_link = "th", False
        columns.append((classes, render, link, tag))
    rows = []
    for obj in cl.result_list:
        cells = []
        for classes, render, link, tag in columns:
            html, nowrap = render(obj)
            if link:
                href = conditional_escape(url.replace(_PK_MARK, str(obj.pk), 1))
                html = f'<a href="{href}">{html}</a>'
            css = f"{classes} nowrap" if nowrap else classes
            cells.append(f'<{tag} class="{css}">{html}</{tag}>')
        rows.append(ResultList(None, [mark_safe("".join(cells))]))
    return rows


def result_list_context(cl) -> dict:
    """What Django's result_list tag gives admin/change_list_results.html, rows fast."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": fast_results(cl),
    }
