"""Trigram indexes so the customer search (icontains on names, e-mails, external ids and
contact names) stays fast at scale on PostgreSQL. Django's icontains there is
`UPPER(col) LIKE UPPER(%s)`, hence indexes on UPPER(col). SQLite has no such index type
and is left as it is.
"""

from django.db import migrations

INDEXES = {
    "customers_customer": ("name", "email", "external_id"),
    "customers_contact": ("first_name", "last_name", "email"),
}


def _names():
    for table, columns in INDEXES.items():
        for column in columns:
            yield table, column, f"{table.removeprefix('customers_')}_{column}_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column, name in _names():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in _names():
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
