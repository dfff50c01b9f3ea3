"""/api/playbooks/, alert-rules/, alerts/, action-plans/, action-steps/{id}/, saved-segments/,
campaigns/."""

from rest_framework.routers import SimpleRouter

from . import segments, views

router = SimpleRouter()
router.register("playbooks", views.PlaybookViewSet, basename="playbook")
router.register("alert-rules", views.AlertRuleViewSet, basename="alert-rule")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("action-plans", views.ActionPlanViewSet, basename="action-plan")
router.register("action-steps", views.ActionStepViewSet, basename="action-step")
router.register("saved-segments", segments.SavedSegmentViewSet, basename="saved-segment")
router.register("campaigns", segments.CampaignViewSet, basename="campaign")

urlpatterns = router.urls
