"""The folded search columns of customers (customers.search), filled for the rows already
stored; on PostgreSQL trigram indexes on them replace the UPPER(column) trigram indexes
of 0002, which the search no longer reads.
"""

from collections import defaultdict

from django.db import migrations, models

import customers.search

BATCH = 2_000
# The columns 0002 indexed.
OLD_INDEXED = {
    "customers_customer": ("name", "email", "external_id"),
    "customers_contact": ("first_name", "last_name", "email"),
}
NEW_INDEXES = {
    "customer_search_trgm": "search_text",
    "customer_contacts_trgm": "contact_search_text",
}


def backfill(apps, schema_editor):
    # Plain SQL, not the models: later versions of them may have columns not made yet.
    connection = schema_editor.connection
    search = customers.search
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, name, email, external_id FROM customers_customer "
                "WHERE id > %s ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            cursor.execute(
                "SELECT customer_id, first_name, last_name, email FROM customers_contact "
                "WHERE customer_id > %s AND customer_id <= %s ORDER BY customer_id, id",
                [rows[0][0] - 1, last],
            )
            contacts = defaultdict(list)
            for customer_id, *fields in cursor.fetchall():
                contacts[customer_id].append(tuple(fields))
            cursor.executemany(
                "UPDATE customers_customer SET search_text = %s, contact_search_text = %s "
                "WHERE id = %s",
                [
                    (
                        search.folded_lines(*values),
                        search.contact_search_text(contacts.get(pk, ())),
                        pk,
                    )
                    for pk, *values in rows
                ],
            )


def trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in OLD_INDEXED.items():
        for column in columns:
            schema_editor.execute(
                f'DROP INDEX IF EXISTS "{table.removeprefix("customers_")}_{column}_trgm"'
            )
    for name, column in NEW_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON customers_customer '
            f"USING gin ({column} gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in NEW_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    for table, columns in OLD_INDEXED.items():
        for column in columns:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{table.removeprefix("customers_")}_{column}_trgm" '
                f'ON "{table}" USING gin (UPPER("{column}"::text) gin_trgm_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_search_trigram_indexes")]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="search_text",
            field=customers.search.SearchTextField(sources=("name", "email", "external_id")),
        ),
        migrations.AddField(
            model_name="customer",
            name="contact_search_text",
            field=models.TextField(blank=True, db_default="", default="", editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
