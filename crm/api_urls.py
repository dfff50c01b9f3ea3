"""Every /api/ path of the public contract. Each app contributes its own URL module here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from crm.api.auth import TokenView

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    # OpenAPI schema and Swagger UI, served from drf-spectacular-sidecar's static files
    # (no CDN). Public: the contract is no secret, and every endpoint it lists needs a token.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    path("", include("customers.api.urls")),
    path("", include("engagement.api.urls")),
]
