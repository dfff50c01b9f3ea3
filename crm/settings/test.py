"""Tests: fast hashing, locmem e-mail, eager Celery unless a test asks for a worker."""

import tempfile

from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = False
SECRET_KEY = "test-only-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Staged import uploads of a test run stay out of the project's own directory.
IMPORT_STAGING_DIR = tempfile.mkdtemp(prefix="crm-test-import-staging-")

# Tests clear the cache freely: never a Redis shared with a running server.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "10000/min", "user": "100000/min", "sign_in": "10000/min"},
}

# Parallel runs (xdist, two checkouts) each get their own test database.
_suffix = env("CRM_TEST_DB_SUFFIX", default="")
if _suffix and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": f"test_crm_{_suffix}"}
