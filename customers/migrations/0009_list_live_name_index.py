"""PostgreSQL: the unarchived customers in list order (name, id), for the customer list.

A filtered list (status, type, owner ...) walks customers in list order until it has its
pages; this index walks only the unarchived ones and answers from the index alone, where
the full (name, id) index makes PostgreSQL read each row to see whether it is archived.
SQLite has `customer_list_walk` (0004) for the same walk; a second index in list order
there would compete with it in SQLite's planner, so this one is PostgreSQL's only.
"""

from django.db import migrations

INDEX = "customer_live_name_id"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON customers_customer (name, id) "
            "WHERE archived_at IS NULL"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_interaction_external_id_key_order")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
