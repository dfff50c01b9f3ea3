"""Drop the prediction table's index on fit_id: nothing looks predictions up by fit (fits
are kept, never deleted), and every fit rewrites every row, so the index cost a million
entries rewritten per nightly fit (about a tenth of the write at 1,000,000 customers).

Only the index is dropped (DROP INDEX), on both databases: AlterField would make SQLite
rebuild the whole table.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "engagement_customerprediction_fit_id_5005815f"  # Django's name for the FK's index


class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0008_predictions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="customerprediction",
                    name="fit",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="engagement.predictionfit",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    reverse_sql=(
                        f"CREATE INDEX {INDEX} ON engagement_customerprediction (fit_id)"
                    ),
                ),
            ],
        ),
    ]
