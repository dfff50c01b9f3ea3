from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = "Engagement"

    def ready(self):
        from . import schedules, subscribers, tasks  # noqa: F401  (tasks: registers them)

        subscribers.connect()
        post_migrate.connect(
            schedules.ensure_schedules_after_migrate,
            sender=self,
            dispatch_uid="engagement.ensure_schedules",
        )
