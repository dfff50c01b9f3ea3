"""Drop the single-column customer index of the status history and of the type changes:
their (customer, as_of) indexes, `status_history_customer` and `type_change_customer`, lead
with the customer and serve every lookup by customer (the customer page, the alert rules,
outcomes, a customer's deletion). A first recompute appends a history row and about one
type change per customer, each of which paid for the extra index entry.

Only the indexes are dropped (DROP INDEX), on both databases: AlterField would make SQLite
rebuild the tables.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {  # Django's names for the foreign keys' indexes
    "statushistory": "engagement_statushistory_customer_id_d71a6d62",
    "typechange": "engagement_typechange_customer_id_5b5e5d70",
}
RELATED = {"statushistory": "status_history", "typechange": "type_changes"}


def _unindexed(model: str):
    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AlterField(
                model_name=model,
                name="customer",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name=RELATED[model],
                    to="customers.customer",
                ),
            ),
        ],
        database_operations=[
            migrations.RunSQL(
                f"DROP INDEX IF EXISTS {INDEXES[model]}",
                reverse_sql=(
                    f"CREATE INDEX {INDEXES[model]} ON engagement_{model} (customer_id)"
                ),
            ),
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0011_crm_admin_lifts_lockouts"),
    ]

    operations = [_unindexed("statushistory"), _unindexed("typechange")]
