"""Search that ignores case and accents, the same on SQLite and PostgreSQL.

One function, `fold()`, turns text into its search form: "Żabka" -> "zabka", "Açaí" ->
"acai", "Straße" -> "strasse", "Łódź" -> "lodz". Customers and contacts keep the folded
text of the fields the search looks at in a `search_text` column (a SearchTextField, filled
on every save and bulk insert), and the words a user types are folded the same way, so a
search is a plain `LIKE '%word%'` on that column: identical on both databases and, on
PostgreSQL, answered by a trigram index (migration customers/0003).
"""

import unicodedata

from django.db import models
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


def fold(text: str) -> str:
    """Lower case without accents: casefold, split letters from their marks (NFKD), drop the
    marks, then spell the few letters that have no mark to drop (ł, ø, æ, ...)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(_LETTERS)


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


class SearchTextField(models.TextField):
    """The folded text of `sources`, joined by newlines (so a word never spans two fields).

    Computed in pre_save(), which Django calls on save() and on every bulk_create(): no
    write path has to remember it. bulk_update() and QuerySet.update() do not call it:
    pass the objects through `refresh_search_text()` first. Never edited, never exported.
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
        return "\n".join(fold(str(getattr(instance, name) or "")) for name in self.sources)

    def pre_save(self, model_instance, add):
        value = self.folded(model_instance)
        setattr(model_instance, self.attname, value)
        return value


def search_field(model) -> SearchTextField | None:
    for field in model._meta.concrete_fields:
        if isinstance(field, SearchTextField):
            return field
    return None


def refresh_search_text(objs, fields: list[str]) -> list[str]:
    """Before a bulk_update() of `fields` on `objs`: recompute their search text when one of
    its sources is among `fields`, and return the field names to write (with it if so)."""
    objs = list(objs)
    if not objs:
        return fields
    field = search_field(type(objs[0]))
    if field is None or not set(field.sources) & set(fields):
        return fields
    for obj in objs:
        setattr(obj, field.attname, field.folded(obj))
    return [*fields, field.name] if field.name not in fields else fields
