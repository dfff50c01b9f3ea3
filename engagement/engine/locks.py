"""One recompute at a time: a PostgreSQL advisory lock, or on SQLite a file lock beside the db.

SQLite serialises writers per transaction only, so two recomputes could interleave their
batches; the file lock (fcntl) spans the whole run. An in-memory test database has no file:
a process-wide lock stands in.
"""

import contextlib
import fcntl
import threading

from django.db import connection

ADVISORY_KEY = 0x454E4741  # "ENGA"
_local_lock = threading.Lock()


class RecomputeBusy(Exception):
    """Another recompute holds the lock."""


@contextlib.contextmanager
def recompute_lock(*, wait: bool = True):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_KEY])
            else:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
                if not cursor.fetchone()[0]:
                    raise RecomputeBusy
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
        return
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        if not _local_lock.acquire(blocking=wait):
            raise RecomputeBusy
        try:
            yield
        finally:
            _local_lock.release()
        return
    with open(f"{name}.engagement.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise RecomputeBusy from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
