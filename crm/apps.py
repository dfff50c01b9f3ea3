from django.apps import AppConfig


class CrmConfig(AppConfig):
    """The project's own plumbing (no models): wires the seams between Django's apps."""

    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        from . import admin, tokens

        tokens.connect()
        # Every app's admin is registered by now (the admin app autodiscovers first).
        admin.guard_changelists()
