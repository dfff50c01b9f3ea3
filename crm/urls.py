from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Import and export pages under each changelist; before admin.site.urls, whose
    # "<model>/<object_id>/" pattern would otherwise take "import/" for an id.
    path("admin/customers/", include("customers.admin_io")),
    # engagement dashboard and customer timeline: admin pages, before the site's
    # "<app>/<model>/" patterns.
    path("admin/engagement/", include("engagement.admin.dashboard")),
    path("admin/", admin.site.urls),
    path("api/", include("crm.api_urls")),
    path("", include("crm.site_urls")),
]

# API: errors under /api/ answer JSON (crm.api.exceptions); elsewhere Django's pages.
handler400 = "crm.api.exceptions.bad_request"
handler403 = "crm.api.exceptions.permission_denied"
handler404 = "crm.api.exceptions.not_found"
handler500 = "crm.api.exceptions.server_error"
