"""Settings shared by every environment, read from the environment (django-environ)."""

import datetime as dt
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "crm.apps.CRMAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    "crm.apps.CrmConfig",
    "customers",
    "engagement",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "crm.middleware.NullCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into crm.signin's 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a recompute or import writes. A 1,000-row bulk batch
    # dirties about 2,000 interaction index pages (8 MB): the default 2 MB page cache would
    # spill them into the WAL mid-transaction and read them back, hence 64 MB (taken as
    # used). A write by another process empties that cache; memory-mapped reads (up to 1 GB
    # of the file) then cost no copy. Checkpoints sync the database file: a thread of each
    # process takes them outside requests (crm/checkpoints.py); a commit checkpoints only if
    # the log outgrows it, past 10,000 pages (40 MB), not 1,000 (README, "REST API", "Speed").
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824; "
                "PRAGMA wal_autocheckpoint=10000;"
            ),
        }
    )
# Kept connections, on SQLite too: there the last connection to close checkpoints the whole
# WAL into the database file, syncs it and deletes the WAL, which per request made every
# bulk batch pay a full checkpoint with an empty page cache.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache (API throttle counters above all) is shared by every process only in Redis:
# CACHE_URL or REDIS_URL (redis://host:6379/1) selects Django's own Redis backend. Without
# either, per-process memory: fine for one development server, not for gunicorn workers.
_CACHE_URL = env("CACHE_URL", default="") or env("REDIS_URL", default="")
if _CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": environ.Env.cache_url_config(
            _CACHE_URL, backend="django.core.cache.backends.redis.RedisCache"
        )
    }
elif _CACHE_URL:
    CACHES = {"default": environ.Env.cache_url_config(_CACHE_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in lockout (django-axes, crm/signin.py): 10 failures for one username from one
# address lock it there for 15 minutes, in the admin and at /api/auth/token/ alike.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lock lasts 15 minutes from the 10th failure; guesses during it do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "crm.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "crm.signin.client_ip"
# crm.lockouts registers axes' models in the admin itself, with a "Lift the lock" action.
AXES_ENABLE_ADMIN = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "admin:login"

# Request body limits: an oversized upload or bulk batch is refused, not parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int(
    "DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024
)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Imports (admin and `import_crm`): files and sheets past these are refused with a message.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_000_000)
# Where an admin upload waits between preview and confirm: one directory all server
# processes share, kept at mode 0700 (files 0600) for the server's user alone.
IMPORT_STAGING_DIR = env("IMPORT_STAGING_DIR", default=str(BASE_DIR / "var" / "import-staging"))

EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="crm@localhost")


def _result_backend(broker: str) -> str | None:
    # Celery 5 has no `amqp` result backend (a worker would refuse to start): on RabbitMQ,
    # results travel back as messages (`rpc://`); on Redis, the broker's database keeps them.
    if not broker:
        return None
    return "rpc://" if broker.split(":", 1)[0] in ("amqp", "amqps", "pyamqp") else broker


# Celery: with no broker, tasks run in-process at once (nothing to install).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=_result_backend(CELERY_BROKER_URL))
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis: a task whose worker died unacknowledged (acks late) is delivered again once this
# many seconds have passed since it was taken: longer than the longest task (a full
# recompute's chunk takes seconds, a drain at most a minute). Swept for every tenth of it.
_VISIBILITY = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _VISIBILITY,
    "unacked_restore_interval": max(1, min(10, _VISIBILITY // 10)),
    "unacked_restore_throttle": 1,
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # ?format=csv on every endpoint; lists mixing in crm.api.renderers.StreamingCSVListMixin
    # stream the whole filtered queryset instead of a page.
    "DEFAULT_RENDERER_CLASSES": [
        # Money as strings in every answer (crm/api/json_renderer.py).
        "crm.api.json_renderer.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "crm.api.renderers.CSVRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="6000/min"),
        # POST /api/auth/token/ per client address (crm.api.auth.SignInRateThrottle).
        "sign_in": env("API_THROTTLE_SIGN_IN", default="30/min"),
    },
    # Trusted reverse proxies in front of the app: client addresses (throttles, sign-in
    # lockout) come from X-Forwarded-For past this many hops; 0 trusts REMOTE_ADDR only.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    # API: bodies of every kind with a size limit (413), pages of up to 500, JSON errors.
    "DEFAULT_PARSER_CLASSES": [
        "crm.api.parsers.LimitedJSONParser",
        "crm.api.parsers.LimitedFormParser",
        "crm.api.parsers.LimitedMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "crm.api.exceptions.exception_handler",
}

# A request body (JSON, form or multipart) larger than this answers 413 (a bulk batch of
# 5,000 rows fits well under it).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=DATA_UPLOAD_MAX_MEMORY_SIZE)

SPECTACULAR_SETTINGS = {
    "TITLE": "Engagement CRM API",
    "DESCRIPTION": "Customers, their history, and how each one stands.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # API: every operation documents its error responses (crm/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema.add_error_responses",
    ],
    # Several models have a `kind` or `status` of their own: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "customers.models.Customer.Kind",
        "ProductKindEnum": "customers.models.Product.Kind",
        "InteractionKindEnum": "customers.models.Interaction.Kind",
        "SubscriptionStatusEnum": "customers.models.Subscription.Status",
        "EngagementStatusEnum": "engagement.models.results.Status",
        "CustomerTypeEnum": "engagement.models.results.CustomerType",
        "StepKindEnum": "engagement.models.workflow.StepKind",
        "AlertStatusEnum": "engagement.models.workflow.Alert.AlertStatus",
        "ActionPlanStatusEnum": "engagement.models.workflow.ActionPlan.PlanStatus",
        "ActionStepStatusEnum": "engagement.models.workflow.ActionStep.StepStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # django-axes logs every sign-in at INFO; failures and lockouts (WARNING) are the news.
    "loggers": {"axes": {"level": "WARNING"}},
}
