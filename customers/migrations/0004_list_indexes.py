"""Indexes for the customer list at 100,000 rows (customers/admin/paging.py).

The list reads in (name, id) order. A full index on archived_at made SQLite's planner
read every unarchived customer through it and sort them (its statistics cannot tell
that "archived_at IS NULL" is almost every row); a partial one serves the archived
filter alone. On SQLite, `customer_list_walk` holds, in list order, every column the
list filters or searches on, so a filtered or searched page is one index walk that stops
at a page of matches, and a word nobody matches reads one narrow index, not the table.
PostgreSQL plans these with its own statistics and the trigram indexes of 0003, and
keeps long search texts out of a b-tree (its entries have a size limit).
"""

from django.db import migrations, models

WALK = (
    "CREATE INDEX IF NOT EXISTS customer_list_walk ON customers_customer "
    "(name, id, archived_at, owner_id, kind, country, industry, search_text, contact_search_text)"
)


def create_walk(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(WALK)


def drop_walk(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS customer_list_walk")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_search_text")]

    operations = [
        migrations.RemoveIndex(model_name="customer", name="customer_name"),
        migrations.RemoveIndex(model_name="customer", name="customer_archived_at"),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["name", "id"], name="customer_name_id"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                condition=models.Q(archived_at__isnull=False),
                fields=["archived_at"],
                name="customer_archived",
            ),
        ),
        migrations.RunPython(create_walk, drop_walk, elidable=False),
    ]
