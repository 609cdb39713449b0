"""One snapshot, restore or scrub at a time across processes: a lock on a file in the snapshots folder."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import Conflict

__all__ = ["BUSY", "folder_lock"]

BUSY = "another snapshot or restore is running; try again when it is done"


@contextlib.contextmanager
def folder_lock(root: Path, deadline: float | None) -> Iterator[None]:
    """Hold the snapshots folder's lock. ``deadline`` (``time.monotonic()``): give up then with ``Conflict``;
    None waits as long as it takes."""
    with open(root / "lock", "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if deadline is None else fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Conflict(BUSY) from None
                time.sleep(0.05)
        yield
