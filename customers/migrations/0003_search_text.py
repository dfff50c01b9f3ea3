"""The folded search column (customers.search) on customers and contacts, filled for the
rows already stored; on PostgreSQL a trigram index on it replaces the UPPER(column)
trigram indexes of 0002, which the search no longer reads.
"""

from django.db import migrations

import customers.search

BATCH = 2_000
# The columns folded into each table's search text (and trigram-indexed by 0002).
TABLES = {
    "customers_customer": ("name", "email", "external_id"),
    "customers_contact": ("first_name", "last_name", "email"),
}


def _index_name(table):
    return f"{table.removeprefix('customers_')}_search_trgm"


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    fold = customers.search.fold
    quote = connection.ops.quote_name
    for table, sources in TABLES.items():
        columns = ", ".join(quote(c) for c in sources)
        update = f"UPDATE {quote(table)} SET search_text = %s WHERE id = %s"
        last = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, {columns} FROM {quote(table)} WHERE id > %s ORDER BY id LIMIT %s",
                    [last, BATCH],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                cursor.executemany(
                    update,
                    [("\n".join(fold(v or "") for v in values), pk) for pk, *values in rows],
                )
            last = rows[-1][0]


def trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in TABLES.items():
        for column in columns:
            schema_editor.execute(
                f'DROP INDEX IF EXISTS "{table.removeprefix("customers_")}_{column}_trgm"'
            )
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{_index_name(table)}" ON "{table}" '
            "USING gin (search_text gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{_index_name(table)}"')
    for table, columns in TABLES.items():
        for column in columns:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{table.removeprefix("customers_")}_{column}_trgm" '
                f'ON "{table}" USING gin (UPPER("{column}"::text) gin_trgm_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_search_trigram_indexes")]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="search_text",
            field=customers.search.SearchTextField(sources=("first_name", "last_name", "email")),
        ),
        migrations.AddField(
            model_name="customer",
            name="search_text",
            field=customers.search.SearchTextField(sources=("name", "email", "external_id")),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
