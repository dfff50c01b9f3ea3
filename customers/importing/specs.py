"""What each importable model takes: its columns, its key and its references.

Columns are the models' field names (README.md, "Bringing data in from a spreadsheet"). A
column that refers to another record holds that record's key (`external_id`, a product's
`sku`, a user's username).
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from customers.models import Contact, Customer, Interaction, Product, Subscription


@dataclass(frozen=True)
class Reference:
    model: type
    by: str
    # Fields loaded with the key, so rules that read the related record need no query.
    extra: tuple[str, ...] = ()

    def label(self) -> str:
        return self.model._meta.verbose_name


@dataclass(frozen=True)
class Spec:
    name: str
    model: type
    fields: tuple[str, ...]  # set from the cell of the same name
    key: tuple[str, ...]  # what a row is matched on
    references: dict[str, Reference] = field(default_factory=dict)
    required_columns: tuple[str, ...] = ()
    # Written by the export for people to read; an import accepts and ignores them.
    read_only: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        ordered = list(self.key)
        for name in (*self.references, *self.fields):
            if name not in ordered:
                ordered.append(name)
        return tuple(ordered)


def _user_reference() -> Reference:
    user_model = get_user_model()
    return Reference(user_model, user_model.USERNAME_FIELD)


def specs() -> dict[str, Spec]:
    customer_ref = Reference(Customer, "external_id")
    return {
        "customers": Spec(
            name="customers",
            model=Customer,
            key=("external_id",),
            fields=("name", "kind", "email", "phone", "country", "industry", "customer_since"),
            references={"owner": _user_reference()},
            read_only=(
                "id",
                "created_at",
                "updated_at",
                "archived_at",
                "engagement_status",
                "engagement_types",
                "engagement_score",
                "engagement_reactivated",
                "last_activity_on",
            ),
        ),
        "contacts": Spec(
            name="contacts",
            model=Contact,
            key=("external_id",),
            references={"customer": customer_ref},
            fields=(
                "first_name",
                "last_name",
                "email",
                "phone",
                "title",
                "is_primary",
                "marketing_opt_in",
            ),
            read_only=("id", "customer_name"),
        ),
        "products": Spec(
            name="products",
            model=Product,
            key=("sku",),
            fields=("name", "kind", "price", "currency", "is_active"),
            required_columns=("sku",),
            read_only=("id",),
        ),
        "subscriptions": Spec(
            name="subscriptions",
            model=Subscription,
            key=("external_id",),
            references={"customer": customer_ref, "product": Reference(Product, "sku")},
            fields=("status", "started_at", "ended_at", "amount", "interval"),
            read_only=("id", "customer_name", "created_at", "updated_at"),
        ),
        "interactions": Spec(
            name="interactions",
            model=Interaction,
            # external_id is unique per customer, so the customer is part of the key.
            key=("customer", "external_id"),
            references={
                "customer": customer_ref,
                "contact": Reference(Contact, "external_id", extra=("customer_id",)),
                "created_by": _user_reference(),
            },
            fields=("kind", "direction", "occurred_at", "amount", "subject", "notes"),
            required_columns=("customer",),
            read_only=("id", "customer_name", "created_at"),
        ),
    }


MODEL_NAMES = ("customers", "contacts", "products", "subscriptions", "interactions")


def get_spec(name: str) -> Spec:
    try:
        return specs()[name]
    except KeyError:
        raise ValueError(
            f"Unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}."
        ) from None
