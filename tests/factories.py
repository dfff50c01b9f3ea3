"""factory_boy factories shared by every test package."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from crm.roles import sync_groups
from customers.models import Contact, Customer, Interaction, Product, Subscription
from customers.search import contact_search_text_refresh


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw-secret-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            if not Group.objects.filter(name=extracted).exists():
                # A live-server (transactional) test flushes the tables, dropping the
                # groups the data migration made; make them again.
                sync_groups()
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n:05d}")
    kind = Customer.Kind.COMPANY
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    country = "DE"
    industry = "Retail"
    customer_since = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=400))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Lovelace{n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        if create:
            # As the contact services do: a customer is found by its contacts' names.
            contact_search_text_refresh(customer_ids=[instance.customer_id])


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    kind = Product.Kind.PRODUCT
    price = Decimal("49.00")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    status = Subscription.Status.ACTIVE
    started_at = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=100))
    amount = Decimal("49.00")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    kind = Interaction.Kind.LOGIN
    direction = Interaction.Direction.INBOUND
    occurred_at = factory.LazyFunction(timezone.now)
