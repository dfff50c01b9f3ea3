"""A small API over customers, for testing crm.api.renderers apart from the real endpoints."""

from django.urls import include, path
from rest_framework import pagination, routers, serializers, viewsets

from crm.api.renderers import StreamingCSVListMixin
from customers.models import Customer


class _Engagement(serializers.Serializer):
    status = serializers.SerializerMethodField()
    types = serializers.SerializerMethodField()

    def get_status(self, customer):
        return "active" if customer.country == "DE" else None

    def get_types(self, customer):
        return ["loyal", "support"]


class _Serializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    # Nested and declared: dotted columns. A method field's dict: one JSON column.
    engagement = _Engagement(source="*", read_only=True)
    extra = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = ["id", "name", "country", "owner", "engagement", "extra"]

    def get_extra(self, customer):
        return {"a": 1}


class _Pages(pagination.PageNumberPagination):
    page_size = 2


class CustomerViewSet(StreamingCSVListMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = _Serializer
    pagination_class = _Pages
    filterset_fields = ["country"]
    search_fields = ["name"]
    ordering = ["name"]

    def get_queryset(self):
        return Customer.objects.select_related("owner").order_by("name")


router = routers.SimpleRouter()
router.register("customers", CustomerViewSet, basename="csvtest-customer")
urlpatterns = [path("api/", include(router.urls))]
