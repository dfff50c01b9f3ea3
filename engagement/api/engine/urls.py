"""/api/customers/{id}/engagement/, engagement/rules/, engagement/recompute/ (and
{task id}/: its progress), segments/, predictions/model/, predictions/fit/,
customers/{id}/prediction/."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "customers/<int:pk>/engagement/",
        views.CustomerEngagementView.as_view(),
        name="customer-engagement",
    ),
    path("engagement/rules/", views.RulesView.as_view(), name="engagement-rules"),
    path("engagement/recompute/", views.RecomputeView.as_view(), name="engagement-recompute"),
    path(
        "engagement/recompute/<str:task_id>/",
        views.RecomputeProgressView.as_view(),
        name="engagement-recompute-progress",
    ),
    path("segments/", views.SegmentsView.as_view(), name="segments"),
    path("predictions/model/", views.PredictionModelView.as_view(), name="prediction-model"),
    path("predictions/fit/", views.PredictionFitView.as_view(), name="prediction-fit"),
    path(
        "customers/<int:pk>/prediction/",
        views.CustomerPredictionView.as_view(),
        name="customer-prediction",
    ),
]
