"""One recompute at a time: a PostgreSQL advisory lock, or on SQLite a file lock beside the db.

SQLite serialises writers per transaction only, so two recomputes could interleave their
batches; the file lock (fcntl) spans the whole run. An in-memory test database has no file:
a process-wide lock stands in.

Exclusive by default: a whole recompute in one process, a refresh of some customers.
`shared=True` for the chunks of a fanned-out full recompute: chunks (disjoint id ranges, on
any number of workers) run together, while a refresh waits for the chunks in progress (and
they for it), so no two writers ever read a customer's old result at the same time. An
in-memory SQLite database has no shared mode (its chunks run one by one anyway).

Re-entrant within a thread: a refresh that holds the lock around its claim (so that waiting
for it holds nothing else) then calls the recompute, which takes it again.
"""

import contextlib
import fcntl
import threading

from django.db import connection

ADVISORY_KEY = 0x454E4741  # "ENGA"
_local_lock = threading.Lock()
_held = threading.local()


class RecomputeBusy(Exception):
    """Another recompute holds the lock."""


@contextlib.contextmanager
def recompute_lock(*, wait: bool = True, shared: bool = False):
    key = _key()
    depth = getattr(_held, "depth", {})
    if depth.get(key):
        depth[key] += 1
        try:
            yield
        finally:
            depth[key] -= 1
        return
    with _acquire(wait, shared):
        _held.depth = depth
        depth[key] = 1
        try:
            yield
        finally:
            depth[key] = 0


def _key():
    # Per database: a test's database and the real one are different locks.
    return (connection.vendor, str(connection.settings_dict["NAME"]))


@contextlib.contextmanager
def _acquire(wait: bool, shared: bool):
    if connection.vendor == "postgresql":
        suffix = "_shared" if shared else ""
        with connection.cursor() as cursor:
            if wait:
                cursor.execute(f"SELECT pg_advisory_lock{suffix}(%s)", [ADVISORY_KEY])
            else:
                cursor.execute(f"SELECT pg_try_advisory_lock{suffix}(%s)", [ADVISORY_KEY])
                if not cursor.fetchone()[0]:
                    raise RecomputeBusy
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT pg_advisory_unlock{suffix}(%s)", [ADVISORY_KEY])
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
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    with open(f"{name}.engagement.lock", "a") as handle:
        try:
            fcntl.flock(handle, mode if wait else mode | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise RecomputeBusy from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
