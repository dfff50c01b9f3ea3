"""ViewSets of customers, contacts, products, subscriptions and interactions.

Thin: the queryset is a selector, filtering a FilterSet, permissions crm.permissions
(through crm.api.permissions), and every write a service call. A service's Django
ValidationError becomes a 400 naming the field (crm.api.exceptions).
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from crm import permissions
from crm.api.permissions import (
    CustomerPermission,
    CustomerRecordPermission,
    InteractionPermission,
    ProductPermission,
)
from crm.api.renderers import StreamingCSVListMixin
from customers import selectors, services
from customers.models import Customer

from . import filters, serializers

# A bulk request holds at most this many rows; larger batches are refused, not cut.
BULK_MAX_ROWS = 5_000


class _APIViewSet(StreamingCSVListMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def filter_queryset(self, queryset):
        # Filters, search and ordering shape lists; a record is found by its id alone.
        if self.action in ("list", None):
            return super().filter_queryset(queryset)
        return queryset


_ARCHIVED_PARAM = OpenApiParameter(
    "archived",
    OpenApiTypes.BOOL,
    description=(
        "Archived (deleted) customers are hidden by default. `true` lists only archived "
        "customers, `false` only current ones."
    ),
)


@extend_schema_view(
    list=extend_schema(summary="List customers (archived ones hidden unless ?archived=true)"),
    create=extend_schema(summary="Create a customer (sales rep: becomes its owner)"),
    retrieve=extend_schema(summary="One customer, with its stored engagement and prediction"),
    update=extend_schema(summary="Replace a customer (its owner rep or a CRM admin)"),
    partial_update=extend_schema(summary="Change a customer (its owner rep or a CRM admin)"),
    destroy=extend_schema(
        summary="Archive a customer (CRM admin); it stays readable by id and restorable",
        responses={204: None},
    ),
)
class CustomerViewSet(_APIViewSet):
    serializer_class = serializers.CustomerSerializer
    permission_classes = [CustomerPermission]
    filterset_class = filters.CustomerFilter
    filter_backends = [
        DjangoFilterBackend,
        filters.CustomerSearchFilter,
        filters.CustomerOrderingFilter,
    ]
    ordering_fields = [
        "id",
        "name",
        "customer_since",
        "created_at",
        "updated_at",
        "country",
        "industry",
        "engagement__score",
        "engagement__status",
    ]
    ordering = ["name", "id"]

    def get_queryset(self):
        # Detail actions find archived customers too (readable and restorable by id);
        # the list hides them through CustomerFilter unless ?archived= is given.
        return selectors.customer_list(include_archived=True, related=["engagement", "prediction"])

    def perform_create(self, serializer):
        serializer.instance = services.customer_create(
            user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.customer_update(
            customer=serializer.instance, user=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.customer_archive(customer=instance, user=self.request.user)

    @extend_schema(
        summary="Restore an archived customer (CRM admin)",
        request=None,
        responses={200: serializers.CustomerSerializer},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        customer = services.customer_restore(customer=self.get_object(), user=request.user)
        return Response(self.get_serializer(customer).data)


CustomerViewSet.list = extend_schema(parameters=[_ARCHIVED_PARAM])(CustomerViewSet.list)


class _CustomerRecordViewSet(_APIViewSet):
    """Contacts and subscriptions: written by whoever may edit their customer."""

    permission_classes = [CustomerRecordPermission]
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    create_service = None
    update_service = None
    record_name = ""

    def _check_customer(self, customer):
        if not permissions.can_edit_customer(self.request.user, customer):
            raise PermissionDenied("You may only edit customers you own.")

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        customer = fields.pop("customer")
        self._check_customer(customer)
        serializer.instance = type(self).create_service(
            customer=customer, user=self.request.user, **fields
        )

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        if "customer" in fields:
            self._check_customer(fields["customer"])
        serializer.instance = type(self).update_service(
            **{self.record_name: serializer.instance}, user=self.request.user, **fields
        )


@extend_schema_view(
    list=extend_schema(summary="List contacts"),
    create=extend_schema(summary="Create a contact (on a customer you may edit)"),
    destroy=extend_schema(summary="Delete a contact", responses={204: None}),
)
class ContactViewSet(_CustomerRecordViewSet):
    serializer_class = serializers.ContactSerializer
    filterset_class = filters.ContactFilter
    search_fields = ["first_name", "last_name", "email", "external_id"]
    ordering_fields = ["id", "last_name", "first_name", "email"]
    ordering = ["last_name", "first_name", "id"]
    create_service = staticmethod(services.contact_create)
    update_service = staticmethod(services.contact_update)
    record_name = "contact"

    def get_queryset(self):
        return selectors.contact_list()

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance)


@extend_schema_view(
    list=extend_schema(summary="List subscriptions"),
    create=extend_schema(summary="Create a subscription (on a customer you may edit)"),
    destroy=extend_schema(summary="Delete a subscription", responses={204: None}),
)
class SubscriptionViewSet(_CustomerRecordViewSet):
    serializer_class = serializers.SubscriptionSerializer
    filterset_class = filters.SubscriptionFilter
    search_fields = ["external_id", "product__name", "product__sku"]
    ordering_fields = ["id", "started_at", "ended_at", "amount", "status"]
    ordering = ["-started_at", "id"]
    create_service = staticmethod(services.subscription_create)
    update_service = staticmethod(services.subscription_update)
    record_name = "subscription"

    def get_queryset(self):
        return selectors.subscription_list()

    def perform_destroy(self, instance):
        services.subscription_delete(subscription=instance)


@extend_schema_view(
    list=extend_schema(summary="List products"),
    create=extend_schema(summary="Create a product (CRM admin)"),
    destroy=extend_schema(summary="Delete a product (CRM admin; refused while subscribed)"),
)
class ProductViewSet(_APIViewSet):
    serializer_class = serializers.ProductSerializer
    permission_classes = [ProductPermission]
    filterset_class = filters.ProductFilter
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    search_fields = ["name", "sku"]
    ordering_fields = ["id", "name", "sku", "price"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return selectors.product_list()

    def perform_create(self, serializer):
        serializer.instance = services.product_create(
            user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.product_update(
            product=serializer.instance, user=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        if instance.subscriptions.exists():
            raise APIValidationError(
                {"product": ["Subscriptions refer to this product; deactivate it instead."]}
            )
        instance.delete()


@extend_schema_view(
    list=extend_schema(summary="List interactions (newest first)"),
    create=extend_schema(summary="Log an interaction (sales rep: on customers they own)"),
    destroy=extend_schema(summary="Delete an interaction", responses={204: None}),
)
class InteractionViewSet(_APIViewSet):
    serializer_class = serializers.InteractionSerializer
    permission_classes = [InteractionPermission]
    filterset_class = filters.InteractionFilter
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    search_fields = ["subject", "external_id"]
    ordering_fields = ["id", "occurred_at", "amount", "kind"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self):
        return selectors.interaction_list()

    def _check_customer(self, customer):
        if not permissions.can_log_interaction(self.request.user, customer):
            raise PermissionDenied("You may only log interactions on customers you own.")

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        customer = fields.pop("customer")
        self._check_customer(customer)
        serializer.instance = services.interaction_record(
            customer=customer, user=self.request.user, **fields
        )

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        if "customer" in fields:
            self._check_customer(fields["customer"])
        serializer.instance = services.interaction_update(
            interaction=serializer.instance, user=self.request.user, **fields
        )

    def perform_destroy(self, instance):
        services.interaction_delete(interaction=instance)

    @extend_schema(
        summary="Record many interactions at once (all or nothing, at most 5,000 rows)",
        description=(
            "A JSON list of interactions (the fields of `interactions/`). All valid: every "
            'row is written in one transaction and the answer is `{"created", "duplicates"}`; '
            "a row whose `external_id` the customer already has (stored, or earlier in the "
            "batch) is a duplicate, counted and never written twice, so a batch can be retried "
            "safely. Any invalid row: 400 with the errors keyed by row index, then field "
            '(`{"3": {"amount": ["..."]}}`), and nothing is written. More than 5,000 rows: '
            "400 naming `rows`. A sales rep may only send rows for customers they own (403)."
        ),
        request=serializers.BulkInteractionRowSerializer(many=True),
        responses={
            200: serializers.BulkResultSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Errors by row index and field; nothing written.",
                examples=[
                    OpenApiExample(
                        "invalid rows",
                        value={"0": {"kind": ['"dance" is not a valid choice.']}},
                    )
                ],
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="bulk", pagination_class=None)
    def bulk(self, request):
        rows = request.data
        if not isinstance(rows, list):
            raise APIValidationError({"rows": ["Expected a JSON list of interactions."]})
        if len(rows) > BULK_MAX_ROWS:
            raise APIValidationError(
                {"rows": [f"At most {BULK_MAX_ROWS} rows per request; got {len(rows)}."]}
            )
        self._check_bulk_customers(rows)
        shape_errors = _row_shape_errors(rows)
        if shape_errors:
            return Response(shape_errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            created, duplicates = services.interactions_bulk_record(rows=rows, user=request.user)
        except services.BulkValidationError as error:
            errors = {
                str(index): {_field_name(field): msgs for field, msgs in fields.items()}
                for index, fields in error.row_errors.items()
            }
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        return Response({"created": created, "duplicates": duplicates})

    def _check_bulk_customers(self, rows):
        """403 when a row names an existing customer the user may not log interactions on."""
        user = self.request.user
        if permissions.is_admin(user) or permissions.is_customer_success(user):
            return
        wanted = {}
        for index, row in enumerate(rows):
            value = row.get("customer", row.get("customer_id")) if isinstance(row, dict) else None
            try:
                wanted.setdefault(int(value), []).append(index)
            except (TypeError, ValueError):
                continue
        # One query: the named customers that exist and are not among the user's.
        allowed = permissions.interaction_customers(user, Customer.objects.all())
        refused = set(
            Customer.objects.filter(pk__in=[pk for pk in wanted if -(2**63) <= pk < 2**63])
            .exclude(pk__in=allowed.values("pk"))
            .values_list("pk", flat=True)
        )
        if refused:
            rows_refused = sorted(i for pk in refused for i in wanted[pk])
            raise PermissionDenied(
                {
                    "detail": "You may only log interactions on customers you own.",
                    "rows": {
                        str(i): {"customer": ["Not a customer you own."]} for i in rows_refused
                    },
                }
            )


_SCALARS = (str, int, float, bool, type(None))


def _row_shape_errors(rows) -> dict:
    """Rows that are not objects, and values of the wrong JSON type, by row index.

    The service validates the values themselves; it expects text or numbers (a timestamp
    as text), never lists, objects or booleans.
    """
    errors = {}
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            errors[str(index)] = {"non_field_errors": ["Each row must be an object."]}
            continue
        bad = {}
        for name, value in row.items():
            if not isinstance(value, _SCALARS):
                bad[name] = ["Expected a single value, not a list or object."]
            elif isinstance(value, bool):
                bad[name] = ["Expected a number or text, not true or false."]
            elif name == "occurred_at" and not isinstance(value, str | type(None)):
                bad[name] = ["Expected an ISO 8601 timestamp."]
        if bad:
            errors[str(index)] = bad
    return errors


def _field_name(field: str) -> str:
    return "non_field_errors" if field == "__all__" else field
