"""Uploads kept between the admin's preview and its confirm, readable by the server only.

They live in IMPORT_STAGING_DIR (one directory every server process shares, so a confirm
may reach another gunicorn worker than its preview), kept at mode 0700; each upload is a
file of mode 0600 with an unpredictable name (mkstemp). The admin hands the name out only
inside a signed token.
"""

import contextlib
import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def staging_dir() -> Path:
    """The staging directory, made (or tightened) to 0700 and refused if another user's."""
    path = Path(settings.IMPORT_STAGING_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.is_symlink() or path.stat().st_uid != os.geteuid():
        raise ImproperlyConfigured(
            f"IMPORT_STAGING_DIR {path} must be a directory of the server's own user."
        )
    os.chmod(path, 0o700)
    return path


def stage(data: bytes, *, max_age: int) -> str:
    """Keep `data`; answer its name. Uploads older than `max_age` seconds are swept."""
    directory = staging_dir()
    sweep(directory, max_age=max_age)
    handle, name = tempfile.mkstemp(dir=directory, prefix="upload-")
    with os.fdopen(handle, "wb") as stored:
        stored.write(data)
    return Path(name).name


def staged(name: str) -> Path | None:
    """The staged upload called `name`, or None when it is gone (confirmed or expired)."""
    path = staging_dir() / Path(name).name
    return path if path.is_file() else None


def sweep(directory: Path, *, max_age: int) -> None:
    # Previews never confirmed leave their upload behind.
    stale = time.time() - max_age
    for old in directory.iterdir():
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < stale:
                old.unlink()
