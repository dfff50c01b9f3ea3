"""/api/playbooks/, alert-rules/, alerts/, action-plans/, action-steps/{id}/, saved-segments/,
campaigns/, and metrics/outcomes/ (the outcomes of held-out alerts and campaigns)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import outcomes, segments, views

router = SimpleRouter()
router.register("playbooks", views.PlaybookViewSet, basename="playbook")
router.register("alert-rules", views.AlertRuleViewSet, basename="alert-rule")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("action-plans", views.ActionPlanViewSet, basename="action-plan")
router.register("action-steps", views.ActionStepViewSet, basename="action-step")
router.register("saved-segments", segments.SavedSegmentViewSet, basename="saved-segment")
router.register("campaigns", segments.CampaignViewSet, basename="campaign")

urlpatterns = [
    *router.urls,
    path("metrics/outcomes/", outcomes.OutcomesView.as_view(), name="metrics-outcomes"),
]
