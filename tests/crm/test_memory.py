"""The bench commands' own-memory figure (crm/memory.py): a peak the process held, even if
it let go of it before anyone asked, and not the database file the process maps."""

import mmap
import sys
import time

import pytest

from crm.memory import PrivatePeak, private_mb

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc: Linux")


def test_the_peak_keeps_memory_the_process_held_and_freed():
    peak = PrivatePeak(interval=0.005).start()
    before = private_mb()
    block = bytearray(64 * 1024 * 1024)  # zero-filled: every page touched
    time.sleep(0.1)
    del block
    assert peak.stop() >= before + 60


def test_a_mapped_file_read_through_is_not_the_process_memory(tmp_path):
    path = tmp_path / "db"
    path.write_bytes(b"x" * (64 * 1024 * 1024))
    peak = PrivatePeak(interval=0.005).start()
    before = private_mb()
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert sum(mapped[i] for i in range(0, len(mapped), 4096)) == ord("x") * 16384
    assert peak.stop() < before + 16
