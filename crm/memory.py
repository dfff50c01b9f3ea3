"""What a process holds in memory itself, for the bench commands' "memory flat" figures.

`ru_maxrss` counts every resident page, the database file's too: SQLite maps up to 1 GB of
the file (PRAGMA mmap_size, crm/settings/base.py), pages the kernel shares with every
process and drops when it needs room. The process's own memory is its anonymous part
(RssAnon), which Linux reports as it is now, not at its peak: a thread samples it.
"""

import resource
import threading
from pathlib import Path

STATUS = Path("/proc/self/status")


def private_mb() -> float | None:
    """The process's anonymous resident memory now, in MB (None off Linux)."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def resident_peak_mb() -> float:
    """Peak resident memory, mapped database pages included (getrusage; Linux: KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PrivatePeak:
    """Samples private_mb() every `interval` seconds from start() on; `mb` is the peak."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.mb = private_mb()
        self._stop = threading.Event()

    def start(self) -> "PrivatePeak":
        threading.Thread(target=self._sample, name="private-memory-peak", daemon=True).start()
        return self

    def _take(self) -> None:
        now = private_mb()
        if now is not None and (self.mb is None or now > self.mb):
            self.mb = now

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._take()

    def stop(self) -> float | None:
        self._stop.set()
        self._take()
        return None if self.mb is None else round(self.mb, 1)
