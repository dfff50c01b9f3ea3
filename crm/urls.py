from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Pages that belong to no model (dashboard, import, export) are mounted by the admin
    # site's get_urls (crm.admin.CRMAdminSite).
    path("admin/", admin.site.urls),
    path("api/", include("crm.api_urls")),
    path("", include("crm.site_urls")),
]

# API: errors under /api/ answer JSON (crm.api.exceptions); elsewhere Django's pages.
handler400 = "crm.api.exceptions.bad_request"
handler403 = "crm.api.exceptions.permission_denied"
handler404 = "crm.api.exceptions.not_found"
handler500 = "crm.api.exceptions.server_error"
