"""SQLite checkpoints in a background thread (crm/checkpoints.py): a commit no longer copies
the log into the database file; the thread does, soon after."""

import os
import sqlite3
import time

import pytest
from django.db.utils import ConnectionHandler

from crm import checkpoints


def _writer(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    # As if the log never reached the threshold: only the thread may checkpoint.
    db.execute("PRAGMA wal_autocheckpoint=0")
    return db


def _wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_committed_pages_reach_the_database_file_without_the_writer_checkpointing(tmp_path):
    path = str(tmp_path / "crm.sqlite3")
    db = _writer(path)
    db.execute("CREATE TABLE t (x TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [("x" * 500,) for _ in range(4000)])
    written = os.path.getsize(path)
    assert os.path.getsize(path + "-wal") > 2_000_000  # the rows are in the log only

    assert checkpoints.start(path)

    assert _wait_for(lambda: os.path.getsize(path) > written + 1_500_000)
    # The writer's readers see every row, and the log restarts from its beginning.
    assert db.execute("SELECT count(*) FROM t").fetchone() == (4000,)
    db.execute("INSERT INTO t VALUES ('y')")
    busy_and_log_pages = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[:2]
    assert busy_and_log_pages == (0, 1)


def test_one_thread_per_database_and_process(tmp_path):
    path = str(tmp_path / "crm.sqlite3")
    _writer(path).close()

    assert checkpoints.start(path)
    assert not checkpoints.start(path)
    assert checkpoints.running(path)


def _django_connection(name):
    handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": name}})
    return handler["default"]


@pytest.mark.django_db  # lets the scratch connections open
def test_a_file_database_connection_starts_it_and_an_in_memory_one_does_not(tmp_path):
    path = str(tmp_path / "crm.sqlite3")
    for name in (path, ":memory:"):
        scratch = _django_connection(name)
        try:
            scratch.ensure_connection()
        finally:
            scratch.close()

    assert checkpoints.running(path)
    assert not checkpoints.running(":memory:")
