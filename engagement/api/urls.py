"""Every /api/ path of the engagement app, one URL module per context."""

from django.urls import include, path

urlpatterns = [
    path("", include("engagement.api.engine.urls")),
    path("", include("engagement.api.workflow.urls")),
    path("", include("engagement.api.analytics.urls")),
]
