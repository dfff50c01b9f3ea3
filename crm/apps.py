from django.apps import AppConfig


class CrmConfig(AppConfig):
    """The project's own plumbing (no models): wires the seams between Django's apps."""

    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        from . import tokens

        tokens.connect()
