import pytest

from customers import selectors, services
from customers.models import Customer
from tests.factories import ContactFactory, CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def test_customer_list_hides_archived_unless_asked():
    kept, archived = CustomerFactory(name="Kept"), CustomerFactory(name="Gone")
    services.customer_archive(customer=archived)
    assert list(selectors.customer_list()) == [kept]
    assert set(selectors.customer_list(include_archived=True)) == {kept, archived}
    assert selectors.customer_get(pk=archived.pk) == archived
    with pytest.raises(Customer.DoesNotExist):
        selectors.customer_get(pk=archived.pk, include_archived=False)


def test_customer_list_joins_owner_and_the_relations_a_face_asks_for(
    django_assert_num_queries, rep
):
    CustomerFactory.create_batch(5, owner=rep)
    with django_assert_num_queries(1):
        for customer in selectors.customer_list(related=["engagement"]):
            _ = customer.owner.username
            _ = getattr(customer, "engagement", None)


def test_interaction_and_contact_lists_join_their_relations(django_assert_num_queries):
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer)
    InteractionFactory.create_batch(3, customer=customer, contact=contact)
    with django_assert_num_queries(1):
        for interaction in selectors.interaction_list(customer=customer):
            _ = (interaction.customer.name, interaction.contact.last_name)
    with django_assert_num_queries(1):
        for c in selectors.contact_list(customer=customer):
            _ = c.customer.name


def test_interactions_latest_is_bounded_and_newest_first():
    customer = CustomerFactory()
    made = InteractionFactory.create_batch(5, customer=customer)
    latest = list(selectors.interactions_latest(customer=customer, limit=3))
    assert [i.pk for i in latest] == [
        i.pk for i in sorted(made, key=lambda i: (i.occurred_at, i.pk), reverse=True)[:3]
    ]


def test_customer_search_matches_every_word_across_customer_and_contacts():
    acme = CustomerFactory(name="Acme Rockets", email="hello@acme.test", external_id="ERP-77")
    ContactFactory(customer=acme, first_name="Grace", last_name="Hopper")
    ContactFactory(customer=acme, first_name="Grace", last_name="Kelly")
    other = CustomerFactory(name="Other", email="x@other.test")
    ContactFactory(customer=other, first_name="Grace", last_name="Jones")

    def search(term):
        return sorted(c.name for c in selectors.customer_search(Customer.objects.all(), term=term))

    assert search("grace") == ["Acme Rockets", "Other"]
    assert search("Grace Hopper") == ["Acme Rockets"]
    assert search("hopper acme") == ["Acme Rockets"]
    assert search("erp-77") == ["Acme Rockets"]
    assert search("other.test") == ["Other"]
    assert search('"Acme Rockets"') == ["Acme Rockets"]
    assert search("") == ["Acme Rockets", "Other"]
    assert search("nobody") == []
