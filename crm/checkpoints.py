"""SQLite: WAL checkpoints in a background thread, not inside requests.

In WAL mode a commit only appends to the log; copying the log back into the database file
and syncing that file (a checkpoint) falls on whichever commit takes the log past
`wal_autocheckpoint` pages: about 250 ms for 10,000 scattered pages, paid by one request
(every third or fourth bulk ingest batch). PostgreSQL does this work in a checkpointer
process. Here a daemon thread in each process that opens a file database plays that part:
every INTERVAL seconds it runs a PASSIVE checkpoint on a connection of its own, which
never waits for readers or writers and copies only what they no longer need. The log then
restarts from its beginning at the next commit, so `wal_autocheckpoint` (crm/settings/base.py)
only fires if writes outrun the thread.

Wired by crm.apps.CrmConfig to Django's `connection_created` signal; PostgreSQL and
in-memory databases (the tests') are left alone.
"""

import os
import sqlite3
import threading
import time

INTERVAL = 0.2

_lock = threading.Lock()
# Database path -> the process id its thread runs in: a forked worker starts its own.
_running: dict[str, int] = {}


def start(path: str) -> bool:
    """Start the checkpoint thread for the SQLite file at `path`, once per process.
    Answers whether this call started one."""
    pid = os.getpid()
    with _lock:
        if _running.get(path) == pid:
            return False
        _running[path] = pid
    threading.Thread(
        target=_checkpoint_forever, args=(path,), name="sqlite-checkpoints", daemon=True
    ).start()
    return True


def running(path: str) -> bool:
    return _running.get(path) == os.getpid()


def _checkpoint_forever(path: str) -> None:
    # Autocommit, and usable from this thread only: it never shares the request's connection.
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    while True:
        time.sleep(INTERVAL)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            # Busy (another process checkpointing) or the file went away: the next tick.
            continue


def on_connection_created(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        start(str(connection.settings_dict["NAME"]))
