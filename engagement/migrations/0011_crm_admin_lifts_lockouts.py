"""crm_admin sees sign-in lockouts (django-axes' access attempts) and lifts them
(crm/roles.py, crm/lockouts.py)."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from crm.roles import sync_groups

    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("axes", "0010_accessattemptexpiration"),
        ("engagement", "0010_list_indexes"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
