"""Search that ignores case and accents, the same on SQLite and PostgreSQL.

One function, `fold()`, turns text into its search form: "Żabka" -> "zabka", "Açaí" ->
"acai", "Straße" -> "strasse", "Łódź" -> "lodz". A customer row keeps two folded texts:
`search_text` (its name, e-mail and external id; a SearchTextField, refreshed by every
save and bulk insert) and `contact_search_text` (its contacts' names and e-mails,
refreshed by `contact_search_text_refresh()` whenever contacts are written). The words a
user types are folded the same way, so a search is a plain `LIKE '%word%'` on columns of
the one table the list reads: identical on both databases, answered on PostgreSQL by
trigram indexes and on SQLite by an index that holds the texts in list order
(migration customers/0003).
"""

import unicodedata
from collections import defaultdict

from django.db import connections, models, router
from django.db.models import Q
from django.utils.text import smart_split, unescape_string_literal

# Letters that Unicode does not decompose into a base letter and a mark, spelled as a
# reader of that language would type them without the special key. Applied after
# casefold(), so only lower case is listed (casefold already makes ß and ẞ "ss").
_LETTERS = str.maketrans(
    {
        "ł": "l",  # Polish
        "ø": "o",  # Danish, Norwegian
        "đ": "d",  # Croatian, Vietnamese
        "ð": "d",  # Icelandic
        "þ": "th",  # Icelandic
        "æ": "ae",
        "œ": "oe",
        "ħ": "h",  # Maltese
        "\u0131": "i",  # Turkish dotless i
        "ŀ": "l",  # Catalan
        "ŧ": "t",
    }
)
# Keeps `__in` lists under SQLite's parameter limit.
_CHUNK = 900


def fold(text: str) -> str:
    """Lower case without accents: casefold, split letters from their marks (NFKD), drop the
    marks, then spell the few letters that have no mark to drop (ł, ø, æ, ...)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(_LETTERS)


def folded_lines(*values) -> str:
    """The folded values one per line, so a word never spans two fields."""
    return "\n".join(fold(str(value or "")) for value in values)


def search_words(term: str) -> list[str]:
    """The folded words of a search box: whitespace separates words, a quoted phrase
    ("Acme Rockets") is one word."""
    words = []
    for word in smart_split(term or ""):
        if word[0] in "\"'" and word[0] == word[-1] and len(word) > 1:
            word = unescape_string_literal(word)
        word = fold(word).strip()
        if word:
            words.append(word)
    return words


def word_matches(word: str) -> Q:
    """A customer whose own fields or whose contacts contain the (folded) word."""
    return Q(search_text__contains=word) | Q(contact_search_text__contains=word)


class SearchTextField(models.TextField):
    """The folded text of `sources` (folded_lines), never edited, never exported.

    Computed in pre_save(), which Django calls on save() and on every bulk_create(): no
    write path has to remember it. bulk_update() and QuerySet.update() do not call it:
    pass the objects through `refresh_search_text()` first.
    """

    def __init__(self, *args, sources=(), **kwargs):
        self.sources = tuple(sources)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        # Rows inserted by raw SQL (benchmarks) get an empty text rather than an error.
        kwargs.setdefault("db_default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["sources"] = self.sources
        for key in ("editable", "blank", "default", "db_default"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def folded(self, instance) -> str:
        return folded_lines(*(getattr(instance, name) for name in self.sources))

    def pre_save(self, model_instance, add):
        value = self.folded(model_instance)
        setattr(model_instance, self.attname, value)
        return value


def refresh_search_text(objs, fields: list[str]) -> list[str]:
    """Before a bulk_update() of `fields` on `objs`: recompute their search text when one of
    its sources is among `fields`, and return the field names to write (with it if so)."""
    objs = list(objs)
    if not objs:
        return fields
    field = next(
        (f for f in type(objs[0])._meta.concrete_fields if isinstance(f, SearchTextField)), None
    )
    if field is None or not set(field.sources) & set(fields):
        return fields
    for obj in objs:
        setattr(obj, field.attname, field.folded(obj))
    return fields if field.name in fields else [*fields, field.name]


# A contact's part of its customer's contact_search_text.
CONTACT_FIELDS = ("first_name", "last_name", "email")


def contact_search_text(contacts) -> str:
    """The contact_search_text of a customer with these contacts: (first_name, last_name,
    email) tuples, or objects with those attributes."""
    rows = (
        c if isinstance(c, tuple) else tuple(getattr(c, name) for name in CONTACT_FIELDS)
        for c in contacts
    )
    return "\n".join(folded_lines(*row) for row in rows)


def contact_search_text_refresh(*, customer_ids) -> None:
    """Rewrite the contact_search_text of these customers from their contacts as stored.

    The contact services, the import and the demo loader call it after writing contacts
    (one read and one UPDATE per 900 customers).
    """
    from .models import Contact, Customer

    ids = sorted({pk for pk in customer_ids if pk is not None})
    connection = connections[router.db_for_write(Customer)]
    table = connection.ops.quote_name(Customer._meta.db_table)
    column = connection.ops.quote_name(Customer._meta.get_field("contact_search_text").column)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        contacts = defaultdict(list)
        rows = (
            Contact.objects.filter(customer_id__in=chunk)
            .order_by("customer_id", "pk")
            .values_list("customer_id", *CONTACT_FIELDS)
        )
        for customer_id, *fields in rows:
            contacts[customer_id].append(tuple(fields))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET {column} = %s WHERE id = %s",
                [(contact_search_text(contacts.get(pk, ())), pk) for pk in chunk],
            )
