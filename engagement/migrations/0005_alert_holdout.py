# Holdouts on alert rules and the arm of each alert (docs/definitions.md, "Outcomes").

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('engagement', '0004_default_playbooks'),
    ]

    operations = [
        migrations.AddField(
            model_name='alert',
            name='arm',
            field=models.CharField(choices=[('treatment', 'Treatment'), ('control', 'Control')], default='treatment', max_length=10),
        ),
        migrations.AddField(
            model_name='alertrule',
            name='holdout_percent',
            field=models.PositiveSmallIntegerField(default=0, help_text='Share of the customers it fires for held out as a control group (0 to 50).', validators=[django.core.validators.MaxValueValidator(50)]),
        ),
        migrations.AddField(
            model_name='alertrule',
            name='outcome_window_days',
            field=models.PositiveIntegerField(default=60, help_text='Days after an alert over which its outcome is read.', validators=[django.core.validators.MinValueValidator(1)]),
        ),
        migrations.AddField(
            model_name='historicalalertrule',
            name='holdout_percent',
            field=models.PositiveSmallIntegerField(default=0, help_text='Share of the customers it fires for held out as a control group (0 to 50).', validators=[django.core.validators.MaxValueValidator(50)]),
        ),
        migrations.AddField(
            model_name='historicalalertrule',
            name='outcome_window_days',
            field=models.PositiveIntegerField(default=60, help_text='Days after an alert over which its outcome is read.', validators=[django.core.validators.MinValueValidator(1)]),
        ),
        migrations.AlterField(
            model_name='alert',
            name='status',
            field=models.CharField(choices=[('open', 'Open'), ('acknowledged', 'Acknowledged'), ('resolved', 'Resolved'), ('dismissed', 'Dismissed'), ('held_out', 'Held out')], default='open', max_length=12),
        ),
        migrations.AddConstraint(
            model_name='alert',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('arm', 'control'), ('status', 'held_out')), models.Q(('arm', 'treatment'), models.Q(('status', 'held_out'), _negated=True)), _connector='OR'), name='alert_held_out_iff_control', violation_error_message='Held-out alerts are the control arm, and only they.'),
        ),
        migrations.AddConstraint(
            model_name='alertrule',
            constraint=models.CheckConstraint(condition=models.Q(('holdout_percent__gte', 0), ('holdout_percent__lte', 50)), name='alert_rule_holdout_percent_range', violation_error_message='The holdout is a percent from 0 to 50.'),
        ),
        migrations.AddConstraint(
            model_name='alertrule',
            constraint=models.CheckConstraint(condition=models.Q(('outcome_window_days__gte', 1)), name='alert_rule_outcome_window_positive', violation_error_message='The outcome window is at least one day.'),
        ),
    ]
