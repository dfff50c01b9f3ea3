"""{% dataio_links %}: Import / Export CSV / Export XLSX links on a changelist."""

from django import template
from django.urls import reverse

from crm import permissions
from customers.admin_io import LISTS

register = template.Library()

# Changelist parameters that are about the page, not about which rows are listed.
_PAGE_PARAMS = ("p", "all", "_popup", "_to_field")


@register.inclusion_tag("admin/customers/includes/dataio_links.html", takes_context=True)
def dataio_links(context):
    request = context["request"]
    model_name = context["opts"].model_name
    if model_name not in LISTS:
        return {}
    query = request.GET.copy()
    for name in _PAGE_PARAMS:
        query.pop(name, None)
    suffix = f"?{query.urlencode()}" if query else ""
    links = {}
    if permissions.can_import(request.user):
        links["import_url"] = reverse("admin:crm_import", args=[model_name])
    if permissions.can_export(request.user):
        links["csv_url"] = reverse("admin:crm_export", args=[model_name, "csv"]) + suffix
        links["xlsx_url"] = reverse("admin:crm_export", args=[model_name, "xlsx"]) + suffix
    return links
