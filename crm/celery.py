"""The Celery app. Without CELERY_BROKER_URL, tasks run in-process (eager).

Settings, as in crm/wsgi.py: what production runs (gunicorn's `crm.wsgi`, `celery -A crm`)
defaults to crm.settings.production; `manage.py`, the developer's entry point, defaults to
crm.settings.local; DJANGO_SETTINGS_MODULE, when set, wins everywhere (the Makefile's
worker and beat targets set local). This module is imported first by `import crm` (see
crm/__init__.py), so its default is the one that holds for crm.wsgi as well.
"""

import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.production")

logger = logging.getLogger(__name__)

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def delay_logged(task, *args):
    """`task.delay(*args)` for hooks that run after a write has committed.

    Never raises: the write is done and must not look failed. A task that cannot be queued
    (broker down, transport missing) or, without a broker, fails in-process is logged at
    ERROR on this module's logger, naming the task and its arguments, so an operator sees
    work that was lost rather than a silently stale result.
    """
    try:
        return task.delay(*args)
    except Exception:
        how = "run in-process" if app.conf.task_always_eager else "be queued"
        logger.exception("Task %s could not %s (args %s)", task.name, how, _brief(args))
        return None


def _brief(args, limit: int = 200) -> str:
    text = repr(args)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
