"""Scratch folders that belong to one live process, and the sweep that clears those of dead ones.

Uploads, archive entries and snapshot copies are written to scratch space first. Several processes
(the server, any CLI command) use one library at a time, so nobody may empty a scratch folder just
because it exists: each process works in ``<parent>/<pid>-<random>/`` and holds an OS lock on the
``<pid>-<random>.lock`` file beside it for as long as it lives. The kernel drops the lock when the
process dies, kill -9 included, so a folder whose lock can be taken belongs to nobody and is removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import secrets
import shutil
import time
from pathlib import Path

__all__ = ["ScratchArea", "is_alive", "sweep"]

log = logging.getLogger(__name__)

_OWNED = re.compile(r"^(\d+-[0-9a-f]{8})(\.lock)?$")
_GRACE_SECONDS = 3600.0  # entries of unknown origin (left by older versions) go once this old


class ScratchArea:
    """This process's own scratch folder under ``parent``; dead processes' folders are swept on creation."""

    def __init__(self, parent: Path) -> None:
        parent.mkdir(parents=True, exist_ok=True)
        self.parent = parent
        sweep(parent)
        while True:
            name = f"{os.getpid()}-{secrets.token_hex(4)}"
            lock = parent / f"{name}.lock"
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            # A sweep in another process may have locked the file first, between our open and our lock,
            # and removed it: then our lock is on a file nobody can find, so start again.
            with contextlib.suppress(FileNotFoundError):
                if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                    break
            os.close(fd)
        self.path = parent / name
        self.path.mkdir()
        self._lock_path, self._fd = lock, fd

    @property
    def name(self) -> str:
        """This process's name among those using ``parent`` (alive as long as the process is)."""
        return self.path.name

    def close(self) -> None:
        if self._fd is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        self._lock_path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def is_alive(parent: Path, name: str) -> bool:
    """Whether the process that made the scratch area ``name`` under ``parent`` still runs (its lock is
    held). Never removes anything."""
    if not _OWNED.match(name) or name.endswith(".lock"):
        return False
    try:
        fd = os.open(parent / f"{name}.lock", os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock taken here
    return False


def sweep(parent: Path) -> int:
    """Remove what dead processes left under ``parent``; returns how many folders and files went."""
    removed = 0
    entries = sorted(parent.iterdir()) if parent.is_dir() else []
    for entry in entries:
        owned = _OWNED.match(entry.name)
        if owned and owned.group(2):  # a lock file: its folder goes with it when nobody holds it
            if _claim_abandoned(entry):
                removed += _remove(parent / owned.group(1)) + 1
        elif owned:  # a folder whose lock file is gone: its owner died while a sweep removed it
            if not (parent / f"{entry.name}.lock").exists() and _older_than(entry, 60.0):
                removed += _remove(entry)
        elif _older_than(entry, _GRACE_SECONDS):
            removed += _remove(entry)
    return removed


def _claim_abandoned(lock: Path) -> bool:
    """True when nobody holds the lock; the lock file is then removed while we hold it, so an owner that
    was just starting (between creating the file and locking it) notices and starts over."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False  # its owner is alive
    lock.unlink(missing_ok=True)
    os.close(fd)
    return True


def _remove(entry: Path) -> int:
    if not entry.exists():
        return 0
    if entry.is_dir():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)
    log.info("removed scratch left by a stopped process: %s", entry)
    return 1


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > seconds
    except FileNotFoundError:
        return False
