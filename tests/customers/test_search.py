"""Search ignores case and accents in Portuguese, Polish and German names, on SQLite and
PostgreSQL alike, and every write path keeps the folded search text current."""

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from customers import selectors, services
from customers.importing import records_import
from customers.models import Customer
from customers.search import fold, search_words
from tests.factories import ContactFactory, CustomerFactory, UserFactory

NAMES = [
    # Portuguese
    "Açaí do Brasil",
    "João Conceição",
    # Polish
    "Żabka Polska",
    "Łódź Świętokrzyska",
    # German
    "Müller Straße GmbH",
    "Jürgen Groß",
]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Açaí", "acai"),
        ("ÇAÍ", "cai"),
        ("João Conceição", "joao conceicao"),
        ("Żabka", "zabka"),
        ("ŁÓDŹ", "lodz"),
        ("Świętokrzyska", "swietokrzyska"),
        ("MÜLLER", "muller"),
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("Jürgen", "jurgen"),
        ("Ørsted Æbeltoft", "orsted aebeltoft"),
        ("plain ascii 42", "plain ascii 42"),
    ],
)
def test_fold_drops_case_and_accents(text, folded):
    assert fold(text) == folded


def test_search_words_folds_each_word_and_keeps_quoted_phrases():
    assert search_words('  ŻABKA "Açaí do"  ') == ["zabka", "acai do"]
    assert search_words("") == []


def _search(term):
    return sorted(c.name for c in selectors.customer_search(Customer.objects.all(), term=term))


@pytest.fixture
def named(db):
    return {name: CustomerFactory(name=name) for name in NAMES}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        # Portuguese: no accents, all capitals, the accented spelling itself
        ("acai", ["Açaí do Brasil"]),
        ("ÇAÍ", ["Açaí do Brasil"]),
        ("açaí", ["Açaí do Brasil"]),
        ("conceicao", ["João Conceição"]),
        ("JOÃO", ["João Conceição"]),
        # Polish
        ("zabka", ["Żabka Polska"]),
        ("ŻABKA", ["Żabka Polska"]),
        ("lodz", ["Łódź Świętokrzyska"]),
        ("ŁÓDŹ", ["Łódź Świętokrzyska"]),
        ("swietokrzyska", ["Łódź Świętokrzyska"]),
        # German: ü is u; ß is ss, whichever way it is typed
        ("muller", ["Müller Straße GmbH"]),
        ("MÜLLER", ["Müller Straße GmbH"]),
        ("strasse", ["Müller Straße GmbH"]),
        ("STRASSE", ["Müller Straße GmbH"]),
        ("straße", ["Müller Straße GmbH"]),
        ("jurgen gross", ["Jürgen Groß"]),
        ("GROSS", ["Jürgen Groß"]),
        # every word must match, possibly in different fields
        ("zabka lodz", []),
        ("nothing-like-it", []),
    ],
)
def test_customer_names_match_without_case_or_accents(named, term, expected):
    assert _search(term) == expected


def test_accented_words_find_plain_spellings_too(db):
    CustomerFactory(name="Acai Corner")
    CustomerFactory(name="Muller Bakery")
    assert _search("Açaí") == ["Acai Corner"]
    assert _search("Müller") == ["Muller Bakery"]


def test_contacts_names_and_emails_match_without_case_or_accents(db):
    lisbon = CustomerFactory(name="Lisbon Foods")
    ContactFactory(customer=lisbon, first_name="João", last_name="Conceição", email="")
    krakow = CustomerFactory(name="Krakow Works")
    ContactFactory(customer=krakow, first_name="Łucja", last_name="Żółtowska")
    ContactFactory(customer=krakow, first_name="Ola", last_name="Nowak", email="OLA@Żółw.example")
    berlin = CustomerFactory(name="Berlin Labs")
    ContactFactory(customer=berlin, first_name="Jürgen", last_name="Müller")

    assert _search("joao conceicao") == ["Lisbon Foods"]
    assert _search("LUCJA ZOLTOWSKA") == ["Krakow Works"]
    assert _search("ola@zolw") == ["Krakow Works"]
    assert _search("müller") == ["Berlin Labs"]
    assert _search("JURGEN") == ["Berlin Labs"]
    # a word from the customer and a word from its contact
    assert _search("krakow żółtowska") == ["Krakow Works"]


def test_email_and_external_id_match_without_case(db):
    CustomerFactory(name="Acme", email="Sales@Żabka.example", external_id="ERP-Ł77")
    assert _search("sales@zabka") == ["Acme"]
    assert _search("erp-l77") == ["Acme"]


def test_like_wildcards_in_a_word_are_plain_characters(db):
    CustomerFactory(name="100% Natural")
    CustomerFactory(name="1000 Natural")
    assert _search("100%") == ["100% Natural"]
    assert _search("_") == []


# The write paths keep the search text


def _stored(pk):
    return Customer.objects.values_list("search_text", "contact_search_text").get(pk=pk)


def test_services_keep_the_search_text_current(db):
    customer = services.customer_create(name="Żabka", email="a@b.example", external_id="X-1")
    assert _stored(customer.pk) == ("zabka\na@b.example\nx-1", "")
    services.customer_update(customer=customer, name="Łódź")
    assert _search("lodz") == ["Łódź"]
    assert _search("zabka") == []
    contact = services.contact_create(customer=customer, first_name="Jürgen", last_name="Groß")
    assert _stored(customer.pk)[1] == "jurgen\ngross\n"
    services.contact_update(contact=contact, last_name="Müller")
    assert _search("muller") == ["Łódź"]
    assert _search("gross") == []


def test_a_contact_moved_or_deleted_no_longer_finds_its_former_customer(db):
    first, second = CustomerFactory(name="First"), CustomerFactory(name="Second")
    contact = services.contact_create(customer=first, first_name="João", last_name="Silva")
    assert _search("joao") == ["First"]
    services.contact_update(contact=contact, customer=second)
    assert _search("joao") == ["Second"]
    services.contact_delete(contact=contact)
    assert _search("joao") == []


def test_bulk_create_fills_the_search_text(db):
    Customer.objects.bulk_create([Customer(name="Açaí"), Customer(name="Żabka")])
    assert _search("acai") == ["Açaí"]
    assert _search("ZABKA") == ["Żabka"]


def test_import_keeps_the_search_text_current(db):
    user = UserFactory()
    CustomerFactory(name="Old Name", external_id="IMP-1")
    records_import(
        model_name="customers",
        data="external_id,name\nIMP-1,Conceição Lda\nIMP-2,Żabka\n".encode(),
        filename="customers.csv",
        user=user,
    )
    assert _search("conceicao") == ["Conceição Lda"]
    assert _search("old") == []
    assert _search("zabka") == ["Żabka"]
    records_import(
        model_name="contacts",
        data="customer,first_name,last_name\nIMP-2,Łucja,Wójcik\n".encode(),
        filename="contacts.csv",
        user=user,
    )
    assert _search("lucja wojcik") == ["Żabka"]


def test_history_does_not_record_the_search_text(db):
    customer = services.customer_create(name="Açaí")
    fields = {f.name for f in customer.history.model._meta.fields}
    assert not fields & {"search_text", "contact_search_text"}


def test_migration_fills_rows_stored_before_the_columns(db):
    acai = CustomerFactory(name="Açaí")
    ContactFactory(customer=acai, first_name="Łucja", last_name="Żółtowska", email="")
    CustomerFactory(name="Without contacts")
    Customer.objects.update(search_text="", contact_search_text="")
    migration = importlib.import_module("customers.migrations.0003_search_text")
    migration.backfill(None, SimpleNamespace(connection=connection))
    assert _search("acai") == ["Açaí"]
    assert _search("zoltowska") == ["Açaí"]
    assert _search("without") == ["Without contacts"]
