"""The interactions' (customer, occurred_at) index made covering for the engagement figures.

The figures (engagement/engine/figures.py) read kind, direction, occurred_at and amount of a
customer's interactions: the recompute per id range, the live path per customer, and the
benchmark's floor over the whole table. With those columns in the index after (customer,
occurred_at) every one of them is an index-only scan (SQLite: "USING COVERING INDEX";
PostgreSQL: "Index Only Scan" once the table is vacuumed), and the index still serves
everything (customer, occurred_at) served, so it replaces that one rather than joining it.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_interaction_customer_index_covered")]

    operations = [
        migrations.RemoveIndex(model_name="interaction", name="interaction_customer_time"),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                fields=["customer", "occurred_at", "kind", "direction", "amount"],
                name="interaction_customer_figures",
            ),
        ),
    ]
