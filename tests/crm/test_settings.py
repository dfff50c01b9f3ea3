"""Production settings: refuse to start without a secret, and pass `check --deploy`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

# Each test starts a manage.py subprocess.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "crm.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DJANGO_ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="crm.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _python(code: str, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


_SETTINGS_OF = "import django; django.setup(); from django.conf import settings; print({})"


@pytest.mark.parametrize(
    "entry",
    [
        "import crm.wsgi",  # gunicorn crm.wsgi
        "from crm.celery import app; app.loader.import_default_modules()",  # celery -A crm
    ],
)
def test_gunicorn_and_celery_default_to_production_settings(entry):
    # Without a secret the production settings refuse to load: proof they were chosen.
    refused = _python(entry)
    assert refused.returncode != 0
    assert "DJANGO_SECRET_KEY" in refused.stderr

    chosen = _python(
        f"{entry}; " + _SETTINGS_OF.format("settings.SETTINGS_MODULE, settings.DEBUG"),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="crm.example.com",
    )
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.split() == ["crm.settings.production", "False"]


def test_an_exported_settings_module_wins_over_the_default():
    chosen = _python(
        "import crm.wsgi; " + _SETTINGS_OF.format("settings.SETTINGS_MODULE"),
        DJANGO_SETTINGS_MODULE="crm.settings.local",
    )
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.strip() == "crm.settings.local"


def _settings_value(expression, **env):
    """A setting as the local settings compute it, without the caller's cache URLs."""
    base = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "REDIS_URL")}
    os_env = {**base, "DJANGO_SETTINGS_MODULE": "crm.settings.local", **env}
    result = subprocess.run(
        [sys.executable, "-c", _SETTINGS_OF.format(expression)],
        cwd=ROOT,
        env=os_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_cache_is_per_process_memory_without_a_cache_url():
    backend = _settings_value("settings.CACHES['default']['BACKEND']")
    assert backend == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize("variable", ["CACHE_URL", "REDIS_URL"])
def test_a_redis_url_gives_djangos_redis_cache(variable):
    value = _settings_value(
        "repr((settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION']))",
        **{variable: "redis://127.0.0.1:6379/7"},
    )
    assert value == ("('django.core.cache.backends.redis.RedisCache', 'redis://127.0.0.1:6379/7')")


_THROTTLE = """
import sys, django
django.setup()
from rest_framework.throttling import SimpleRateThrottle

class Probe(SimpleRateThrottle):
    rate = "3/min"
    def get_cache_key(self, request, view):
        return "crm-test-throttle-" + sys.argv[1]

print(" ".join(str(Probe().allow_request(None, None)) for _ in range(int(sys.argv[2]))))
"""


def test_throttle_counts_are_shared_by_every_process_on_redis():
    """Two processes (two gunicorn workers) count one client's requests together."""
    url = os.environ.get("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {url}")
    key = secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="crm.settings.local", REDIS_URL=url)

    def run(times):
        done = subprocess.run(
            [sys.executable, "-c", _THROTTLE, key, str(times)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert run(3) == ["True", "True", "True"]
    assert run(1) == ["False"]
