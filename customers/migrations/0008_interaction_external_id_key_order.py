"""The interactions' unique (customer, external_id) index keyed external id first.

Bulk ingest writes 1,000 rows a batch. Keyed by customer first, every row of a batch lands
on a page of its own in this index (the customers of a feed are spread over the whole base),
and each such page is written to the WAL and checkpointed again. A feed's external ids
mostly rise (invoice and event numbers), so keyed by external id first a batch's new keys
share the index's last pages. The pairs that must be unique are the same; the duplicate
check (customers.services._stored_external_ids) probes both columns by equality, so it uses
the index either way. Only this index is rebuilt (DROP INDEX, CREATE UNIQUE INDEX: a partial
unique constraint is an index on SQLite too, no table rebuild).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_interaction_figures_index")]

    operations = [
        migrations.RemoveConstraint(
            model_name="interaction", name="interaction_external_id_unique_per_customer"
        ),
        migrations.AddConstraint(
            model_name="interaction",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_id", ""), _negated=True),
                fields=("external_id", "customer"),
                name="interaction_external_id_unique_per_customer",
                violation_error_message=(
                    "This customer already has an interaction with this external id."
                ),
            ),
        ),
    ]
