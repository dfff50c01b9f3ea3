"""Ship the default playbooks and alert rules (engagement.workflow.defaults); admins edit them after."""

from django.db import migrations


def forwards(apps, schema_editor):
    from engagement.workflow.defaults import install_defaults

    install_defaults(
        apps.get_model("engagement", "Playbook"),
        apps.get_model("engagement", "PlaybookStep"),
        apps.get_model("engagement", "AlertRule"),
    )


class Migration(migrations.Migration):
    dependencies = [("engagement", "0003_metric_rollups")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
