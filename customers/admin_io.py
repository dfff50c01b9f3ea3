"""Admin pages to bring records in from a spreadsheet and take a filtered list out.

Import (crm_admin only): upload -> preview of what would be created, updated or rejected
(a dry run) -> confirm, which imports the same file for real. Export (anyone who may view
the list): the changelist's own queryset, with its filters, search and ordering, streamed
as CSV or written row by row to an XLSX file.

Mounted under /admin/customers/ by the admin site's get_urls (see pages()); each changelist
links here through templates/admin/customers/<model>/change_list.html.
"""

from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from crm import permissions

from . import exporting
from .importing import ImportValidationError, check_import_size, get_spec, records_import, staging

# The admin's model name -> the import/export list name.
LISTS = {
    "customer": "customers",
    "contact": "contacts",
    "product": "products",
    "subscription": "subscriptions",
    "interaction": "interactions",
}
_SALT = "customers.admin_io.import"
# Preview to confirm: an upload waits this long (seconds).
_MAX_AGE = 3600
PREVIEW_ROWS = 50


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_(
            "The first row names the columns. CSV: comma or semicolon, UTF-8 (with or "
            "without BOM), Windows-1252 or Latin-1."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_import_size(upload.size)  # before the file is read into memory
        return upload


def _list_of(model_name):
    try:
        list_name = LISTS[model_name]
    except KeyError:
        raise Http404 from None
    spec = get_spec(list_name)
    try:
        model_admin = admin.site.get_model_admin(spec.model)
    except admin.sites.NotRegistered:
        raise Http404 from None
    return list_name, spec, model_admin


def _changelist_url(spec):
    opts = spec.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def _context(request, spec, title, **extra):
    return {
        **admin.site.each_context(request),
        "opts": spec.model._meta,
        "title": title,
        "spec": spec,
        "changelist_url": _changelist_url(spec),
        **extra,
    }


def _stash(data: bytes, *, filename: str, user, list_name: str) -> str:
    """Keep an upload between preview and confirm; answer a signed token naming it."""
    name = staging.stage(data, max_age=_MAX_AGE)
    return signing.dumps(
        {"file": name, "name": filename, "user": user.pk, "list": list_name}, salt=_SALT
    )


def _unstash(token: str, *, user, list_name: str) -> tuple[Path, str]:
    try:
        payload = signing.loads(token, salt=_SALT, max_age=_MAX_AGE)
    except signing.BadSignature:
        raise PermissionDenied from None
    if payload["user"] != user.pk or payload["list"] != list_name:
        raise PermissionDenied
    stored = staging.staged(payload["file"])
    if stored is None:
        raise Http404("This upload has expired; upload the file again.")
    return stored, payload["name"]


def _check_import(request):
    if not permissions.can_import(request.user):
        raise PermissionDenied


def import_view(request, model_name):
    list_name, spec, _model_admin = _list_of(model_name)
    _check_import(request)
    title = _("Import %(name)s") % {"name": spec.model._meta.verbose_name_plural}
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            report = records_import(
                model_name=list_name,
                data=data,
                filename=upload.name,
                dry_run=True,
                sample_size=PREVIEW_ROWS,
            )
        except ImportValidationError as exc:
            report = exc.report
        except ValidationError as exc:
            form.add_error("file", exc)
            report = None
        if report is not None:
            token = (
                _stash(data, filename=upload.name, user=request.user, list_name=list_name)
                if report.ok
                else None
            )
            return TemplateResponse(
                request,
                "admin/customers/import_preview.html",
                _context(
                    request,
                    spec,
                    _("Preview: import %(file)s") % {"file": upload.name},
                    report=report,
                    token=token,
                    preview_rows=PREVIEW_ROWS,
                    confirm_url=reverse("admin:crm_import_confirm", args=[model_name]),
                    import_url=reverse("admin:crm_import", args=[model_name]),
                ),
            )
    return TemplateResponse(
        request,
        "admin/customers/import_form.html",
        _context(request, spec, title, form=form, columns=spec.columns, read_only=spec.read_only),
    )


@require_POST
def import_confirm_view(request, model_name):
    list_name, spec, _model_admin = _list_of(model_name)
    _check_import(request)
    stored, filename = _unstash(
        request.POST.get("token", ""), user=request.user, list_name=list_name
    )
    try:
        report = records_import(
            model_name=list_name, data=stored.read_bytes(), filename=filename, user=request.user
        )
    except ImportValidationError as exc:
        # The data changed since the preview: show what is wrong now; nothing was written.
        return TemplateResponse(
            request,
            "admin/customers/import_preview.html",
            _context(
                request,
                spec,
                _("Import refused: %(file)s") % {"file": filename},
                report=exc.report,
                token=None,
                preview_rows=PREVIEW_ROWS,
                import_url=reverse("admin:crm_import", args=[model_name]),
            ),
        )
    finally:
        stored.unlink(missing_ok=True)
    messages.success(
        request,
        _("Imported %(file)s: %(summary)s.") % {"file": filename, "summary": report.summary()},
    )
    return HttpResponseRedirect(_changelist_url(spec))


def export_view(request, model_name, fmt):
    list_name, spec, model_admin = _list_of(model_name)
    if not (
        permissions.can_export(request.user) and model_admin.has_view_or_change_permission(request)
    ):
        raise PermissionDenied
    if fmt not in ("csv", "xlsx"):
        raise Http404
    try:
        # The changelist itself reads the query string: the export is the list as filtered,
        # searched and ordered on screen (archived customers only when the filter says so).
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        return redirect(f"{_changelist_url(spec)}?e=1")
    queryset = exporting.export_queryset(list_name, changelist.queryset)
    columns = exporting.columns_for(list_name)
    records = exporting.rows(columns, queryset)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"{list_name}-{stamp}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            exporting.csv_stream(columns, records), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    if changelist.result_count > exporting.XLSX_MAX_ROWS:
        messages.error(
            request,
            _("%(count)s rows are more than a worksheet holds; export CSV or narrow the list.")
            % {"count": f"{changelist.result_count:,}"},
        )
        query = request.GET.urlencode()
        return redirect(f"{_changelist_url(spec)}?{query}" if query else _changelist_url(spec))
    handle = exporting.xlsx_file(columns, records, title=list_name)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def pages(site) -> list:
    """The import and export pages, mounted under /admin/customers/ (customers/admin)."""
    return [
        path("<str:model_name>/import/", site.admin_view(import_view), name="crm_import"),
        path(
            "<str:model_name>/import/confirm/",
            site.admin_view(import_confirm_view),
            name="crm_import_confirm",
        ),
        path(
            "<str:model_name>/export/<str:fmt>/",
            site.admin_view(export_view),
            name="crm_export",
        ),
    ]
