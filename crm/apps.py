from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CRMAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site (crm.admin.CRMAdminSite) as admin.site."""

    default_site = "crm.admin.CRMAdminSite"
    # Named in INSTALLED_APPS by its path; "crm" alone means CrmConfig.
    default = False


class CrmConfig(AppConfig):
    """The project's own plumbing (no models): wires the seams between Django's apps."""

    name = "crm"
    verbose_name = "CRM"
    default = True

    def ready(self):
        from django.contrib import admin
        from django.db.backends.signals import connection_created

        from . import checkpoints, lockouts, tokens

        tokens.connect()
        lockouts.register(admin.site)
        connection_created.connect(
            checkpoints.on_connection_created, dispatch_uid="sqlite-checkpoints"
        )
