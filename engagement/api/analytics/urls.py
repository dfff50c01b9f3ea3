"""/api/metrics/...: the two paths of the contract table and the dashboard's other figures."""

from django.urls import path

from . import views

urlpatterns = [
    path("metrics/activity/", views.ActivityView.as_view(), name="metrics-activity"),
    path("metrics/lifecycle/", views.LifecycleView.as_view(), name="metrics-lifecycle"),
    path("metrics/stickiness/", views.StickinessView.as_view(), name="metrics-stickiness"),
    path("metrics/status/", views.StatusView.as_view(), name="metrics-status"),
    path("metrics/types/", views.TypesView.as_view(), name="metrics-types"),
    path("metrics/rates/", views.RatesView.as_view(), name="metrics-rates"),
    path("metrics/activation/", views.ActivationView.as_view(), name="metrics-activation"),
    path("metrics/mrr/", views.MRRView.as_view(), name="metrics-mrr"),
    path("metrics/revenue/", views.RevenueView.as_view(), name="metrics-revenue"),
    path("metrics/cohorts/", views.CohortsView.as_view(), name="metrics-cohorts"),
    path("metrics/comparison/", views.ComparisonView.as_view(), name="metrics-comparison"),
]
