"""The rule-set column of results, status history and type changes: no database constraint
and no index (engagement.models.results._rule_set_field says why).

PostgreSQL drops the three constraints and indexes; SQLite rebuilds the three tables (its
constraints live in the table's definition).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0013_result_fillfactor"),
    ]

    operations = [
        migrations.AlterField(
            model_name=model,
            name="rule_set",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="engagement.ruleset",
            ),
        )
        for model in ("engagementresult", "statushistory", "typechange")
    ]
