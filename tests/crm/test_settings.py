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
