# Two commands for a new machine with only Python 3.11+ and make: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: install run test test-fast worker beat bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty --host $(HOST)
	$(BIN)/python manage.py runserver $(HOST)

# Tests needing a real broker and worker (celery_worker) run in .ci/run's worker step.
test: $(VENV)/.installed-test
	$(BIN)/pytest -n 2 -m "not celery_worker" $(PYTEST_ARGS)

# A developer's quick loop: everything but the slow tests (browser, property-based, fuzzing,
# subprocess, whole demo) and the worker ones. `make test` still runs them all.
test-fast: $(VENV)/.installed-test
	$(BIN)/pytest -n 2 -m "not slow and not celery_worker" $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# With CELERY_BROKER_URL set (e.g. redis://127.0.0.1:6379/0): a worker and the beat scheduler,
# on the development settings like manage.py (plain `celery -A crm` defaults to production).
DEV_SETTINGS ?= crm.settings.local

worker: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-$(DEV_SETTINGS)} \
	  $(BIN)/celery -A crm worker --loglevel=info --concurrency=2

beat: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-$(DEV_SETTINGS)} \
	  $(BIN)/celery -A crm beat --loglevel=info

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
