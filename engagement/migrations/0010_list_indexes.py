"""Indexes for the customer list at 100,000 customers (customers/admin/paging.py).

Sorts by a result's or a prediction's column read the column's index in order with the
list's tie-break (customer id), so a page is an index walk, not a sort of every row. The
status, reactivated and type indexes hold the customer id, so a filter reads the matching
customers from the index alone.

On PostgreSQL the planner walks customers in list order and asks each one's result: the
covering index `engagement_list_filters` answers that without reading the rows (after
VACUUM). SQLite probes through the primary key whatever other index exists, so it is
PostgreSQL's only, and recomputes on SQLite do not keep it up to date for nothing.
"""

from django.db import migrations, models

COVER = "engagement_list_filters"
COVER_COLUMNS = (
    "customer_id, status, reactivated, type_recent_buyer, type_loyal, type_support, "
    "type_product_subscriber, type_service_subscriber, type_contact"
)


def create_cover(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {COVER} ON engagement_engagementresult ({COVER_COLUMNS})"
        )


def drop_cover(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {COVER}")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_interaction_figures_index"),
        ("engagement", "0009_prediction_fit_unindexed"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="customerprediction",
            name="prediction_p_alive",
        ),
        migrations.RemoveIndex(
            model_name="customerprediction",
            name="prediction_clv",
        ),
        migrations.RemoveIndex(
            model_name="engagementresult",
            name="engagement_status",
        ),
        migrations.RemoveIndex(
            model_name="engagementresult",
            name="engagement_score",
        ),
        migrations.RemoveIndex(
            model_name="engagementresult",
            name="engagement_last_activity",
        ),
        migrations.RemoveIndex(
            model_name="engagementresult",
            name="engagement_reactivated",
        ),
        migrations.RemoveIndex(
            model_name="engagementresult",
            name="eng_recent_buyer",
        ),
        migrations.RemoveIndex(
            model_name="engagementresult",
            name="eng_loyal",
        ),
        migrations.RemoveIndex(
            model_name="engagementresult",
            name="eng_support",
        ),
        migrations.RemoveIndex(
            model_name="engagementresult",
            name="eng_product_subscriber",
        ),
        migrations.RemoveIndex(
            model_name="engagementresult",
            name="eng_service_subscriber",
        ),
        migrations.RemoveIndex(
            model_name="engagementresult",
            name="eng_contact",
        ),
        migrations.AddIndex(
            model_name="customerprediction",
            index=models.Index(fields=["p_alive", "customer"], name="prediction_p_alive"),
        ),
        migrations.AddIndex(
            model_name="customerprediction",
            index=models.Index(fields=["predicted_clv_365", "customer"], name="prediction_clv"),
        ),
        migrations.AddIndex(
            model_name="engagementresult",
            index=models.Index(fields=["status", "customer"], name="engagement_status"),
        ),
        migrations.AddIndex(
            model_name="engagementresult",
            index=models.Index(fields=["-score", "-customer"], name="engagement_score"),
        ),
        migrations.AddIndex(
            model_name="engagementresult",
            index=models.Index(
                fields=["last_activity_on", "customer"], name="engagement_last_activity"
            ),
        ),
        migrations.AddIndex(
            model_name="engagementresult",
            index=models.Index(
                condition=models.Q(("reactivated", True)),
                fields=["status", "customer"],
                name="engagement_reactivated",
            ),
        ),
        migrations.AddIndex(
            model_name="engagementresult",
            index=models.Index(
                condition=models.Q(("type_recent_buyer", True)),
                fields=["status", "customer"],
                name="eng_recent_buyer",
            ),
        ),
        migrations.AddIndex(
            model_name="engagementresult",
            index=models.Index(
                condition=models.Q(("type_loyal", True)),
                fields=["status", "customer"],
                name="eng_loyal",
            ),
        ),
        migrations.AddIndex(
            model_name="engagementresult",
            index=models.Index(
                condition=models.Q(("type_support", True)),
                fields=["status", "customer"],
                name="eng_support",
            ),
        ),
        migrations.AddIndex(
            model_name="engagementresult",
            index=models.Index(
                condition=models.Q(("type_product_subscriber", True)),
                fields=["status", "customer"],
                name="eng_product_subscriber",
            ),
        ),
        migrations.AddIndex(
            model_name="engagementresult",
            index=models.Index(
                condition=models.Q(("type_service_subscriber", True)),
                fields=["status", "customer"],
                name="eng_service_subscriber",
            ),
        ),
        migrations.AddIndex(
            model_name="engagementresult",
            index=models.Index(
                condition=models.Q(("type_contact", True)),
                fields=["status", "customer"],
                name="eng_contact",
            ),
        ),
        migrations.RunPython(create_cover, drop_cover, elidable=False),
    ]
