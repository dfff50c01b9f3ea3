"""Drop the interaction table's index on customer_id alone: interaction_customer_time
(customer_id, occurred_at) begins with the same column and serves every lookup by customer,
and every index is paid on each insert (bulk ingest writes 1,000 rows a batch).

Only the index is dropped (DROP INDEX), on both databases: AlterField would make SQLite
rebuild the whole table.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "customers_interaction_customer_id_3eb30ec4"  # Django's name for the FK's index


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_changed_customer"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="interaction",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="interactions",
                        to="customers.customer",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    reverse_sql=f"CREATE INDEX {INDEX} ON customers_interaction (customer_id)",
                ),
            ],
        ),
    ]
