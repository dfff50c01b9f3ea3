"""/api/customers/, contacts/, products/, subscriptions/, interactions/ (and interactions/bulk/)."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("products", views.ProductViewSet, basename="product")
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("interactions", views.InteractionViewSet, basename="interaction")

urlpatterns = router.urls
