"""The beat schedule, in one place: django_celery_beat PeriodicTasks made after every migrate.

Append a `Schedule` to SCHEDULES to add a periodic task. `ensure_schedules()` creates each
one that is missing and leaves existing ones alone, so an operator's edits in the admin
(another hour, disabled) survive later migrations.
"""

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Schedule:
    name: str  # PeriodicTask.name, unique: how a schedule is recognised
    task: str  # the Celery task name
    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"
    kwargs: dict = field(default_factory=dict)
    description: str = ""


SCHEDULES: list[Schedule] = [
    Schedule(
        name="engagement: nightly full recompute",
        task="engagement.tasks.recompute_all",
        minute="0",
        hour="2",
        description=(
            "Recompute every customer's engagement for the new day (02:00 site time), "
            "evaluate the alert rules, then rebuild the dashboard rollups."
        ),
    ),
    Schedule(
        name="engagement: refresh backlog sweep",
        task="engagement.tasks.drain_refreshes",
        minute="*",
        description=(
            "Every minute, refresh the customers still marked changed (a write whose drain "
            "could not be queued, a broker that was down); usually finds nothing."
        ),
    ),
    Schedule(
        name="engagement: daily overdue-step reminders",
        task="engagement.workflow_tasks.remind_overdue_steps",
        minute="0",
        hour="8",
        description="E-mail each assignee their overdue action steps, once a day (08:00).",
    ),
]


def ensure_schedules(schedules=None, *, using="default") -> int:
    """Create the PeriodicTasks of SCHEDULES that do not exist yet. Answers how many were made."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    made = 0
    for schedule in SCHEDULES if schedules is None else schedules:
        if PeriodicTask.objects.using(using).filter(name=schedule.name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
            minute=schedule.minute,
            hour=schedule.hour,
            day_of_week=schedule.day_of_week,
            day_of_month=schedule.day_of_month,
            month_of_year=schedule.month_of_year,
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.using(using).create(
            name=schedule.name,
            task=schedule.task,
            crontab=crontab,
            kwargs=json.dumps(schedule.kwargs),
            description=schedule.description,
        )
        made += 1
    return made


def ensure_schedules_after_migrate(sender, *, using="default", plan=None, **kwargs):
    """post_migrate receiver (connected in apps.ready())."""
    from django.db import connections

    # A partial migrate (to a zero state) may leave django_celery_beat's tables absent.
    tables = connections[using].introspection.table_names()
    if "django_celery_beat_periodictask" not in tables:
        return
    ensure_schedules(using=using)
