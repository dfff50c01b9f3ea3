"""Predictions (engagement.models.predictions), the value_at_risk trigger's `max_p_alive`, its
default rule (engagement.workflow.defaults), the roles' view permissions on the new models,
and on PostgreSQL an index for the customer list sorted by predicted CLV, highest first."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

CLV_DESC_INDEX = "prediction_clv_desc"


def install_rules(apps, schema_editor):
    from engagement.workflow.defaults import install_defaults

    install_defaults(
        apps.get_model("engagement", "Playbook"),
        apps.get_model("engagement", "PlaybookStep"),
        apps.get_model("engagement", "AlertRule"),
    )


def sync_roles(apps, schema_editor):
    from crm.roles import sync_groups

    sync_groups(apps)


def create_clv_desc_index(apps, schema_editor):
    # ORDER BY predicted_clv_365 DESC NULLS LAST (customers without a prediction last) reads
    # this index; SQLite has no NULLS LAST index and sorts.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {CLV_DESC_INDEX} ON engagement_customerprediction "
            "(predicted_clv_365 DESC NULLS LAST)"
        )


def drop_clv_desc_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {CLV_DESC_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0002_search_trigram_indexes'),
        ('engagement', '0007_recompute_runs'),
    ]

    operations = [
        migrations.AddField(
            model_name='alertrule',
            name='max_p_alive',
            field=models.FloatField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(1)]),
        ),
        migrations.AddField(
            model_name='historicalalertrule',
            name='max_p_alive',
            field=models.FloatField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(1)]),
        ),
        migrations.AlterField(
            model_name='alertrule',
            name='trigger',
            field=models.CharField(choices=[('status_changed', 'Status changed'), ('type_gained', 'Type gained'), ('type_lost', 'Type lost'), ('subscription_cancelled', 'Subscription cancelled'), ('support_spike', 'Support spike'), ('high_value_inactive', 'High-value customer inactive'), ('value_at_risk', 'Predicted value at risk')], max_length=30),
        ),
        migrations.AlterField(
            model_name='historicalalertrule',
            name='trigger',
            field=models.CharField(choices=[('status_changed', 'Status changed'), ('type_gained', 'Type gained'), ('type_lost', 'Type lost'), ('subscription_cancelled', 'Subscription cancelled'), ('support_spike', 'Support spike'), ('high_value_inactive', 'High-value customer inactive'), ('value_at_risk', 'Predicted value at risk')], max_length=30),
        ),
        migrations.CreateModel(
            name='PredictionFit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('as_of', models.DateField()),
                ('fitted_at', models.DateTimeField()),
                ('customers', models.PositiveIntegerField(default=0)),
                ('repeaters', models.PositiveIntegerField(default=0)),
                ('r', models.FloatField(blank=True, null=True)),
                ('alpha', models.FloatField(blank=True, null=True)),
                ('a', models.FloatField(blank=True, null=True)),
                ('b', models.FloatField(blank=True, null=True)),
                ('p', models.FloatField(blank=True, null=True)),
                ('q', models.FloatField(blank=True, null=True)),
                ('gamma', models.FloatField(blank=True, null=True)),
                ('log_likelihood', models.FloatField(blank=True, null=True)),
                ('gamma_gamma_log_likelihood', models.FloatField(blank=True, null=True)),
                ('converged', models.BooleanField(default=False)),
                ('message', models.TextField(blank=True)),
                ('seconds', models.FloatField(default=0)),
            ],
            options={
                'ordering': ['-fitted_at', '-id'],
                'get_latest_by': ['fitted_at', 'id'],
                'indexes': [models.Index(fields=['-fitted_at', '-id'], name='prediction_fit_latest')],
            },
        ),
        migrations.CreateModel(
            name='CustomerPrediction',
            fields=[
                ('customer', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='prediction', serialize=False, to='customers.customer')),
                ('as_of', models.DateField()),
                ('frequency', models.PositiveIntegerField(blank=True, null=True)),
                ('recency', models.PositiveIntegerField(blank=True, null=True)),
                ('T', models.PositiveIntegerField(blank=True, db_column='t', null=True)),
                ('monetary', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True)),
                ('p_alive', models.FloatField(blank=True, null=True)),
                ('expected_purchases_90', models.FloatField(blank=True, null=True)),
                ('expected_purchases_365', models.FloatField(blank=True, null=True)),
                ('expected_value', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True)),
                ('predicted_clv_365', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True)),
                ('historical_clv', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True)),
                ('reason', models.TextField(blank=True)),
                ('fit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='engagement.predictionfit')),
            ],
            options={
                'indexes': [models.Index(fields=['p_alive'], name='prediction_p_alive'), models.Index(fields=['predicted_clv_365'], name='prediction_clv')],
            },
        ),
        migrations.RunPython(install_rules, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
        migrations.RunPython(create_clv_desc_index, drop_clv_desc_index),
    ]
