"""Which library watches an import folder: one at a time.

Two libraries watching one import folder (a restored copy served beside the library it came from, say)
each take some of the files dropped there, and with "delete after import" the others never see them.
The process that scans an import folder holds a lock on a hidden file in it (``.pixlstash-watch.lock``,
which names its library) for as long as it runs; another library's scan finds it held and is refused,
while another process of the same library (a command beside its server) goes ahead: the library itself
never imports a file twice. A folder that cannot hold the file (read-only) has nothing to claim it with,
and nothing can be deleted from it either.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from ..errors import Conflict

__all__ = ["CLAIM_NAME", "FolderClaims"]

CLAIM_NAME = ".pixlstash-watch.lock"


class FolderClaims:
    def __init__(self, library_root: Path) -> None:
        self.library = os.path.realpath(library_root)
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def claim(self, folder: Path | str) -> None:
        """Claim ``folder`` for this library (kept until ``release_all``); ``Conflict`` naming the other
        library when one that is running watches it."""
        key = os.path.realpath(folder)
        with self._lock:
            if key in self._held:
                return
            try:
                fd = os.open(os.path.join(key, CLAIM_NAME), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            except OSError:
                return  # read-only, or a link planted there: nothing to claim it with
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                # Anyone who can write in the folder can write this file: one line of plain text, or nothing.
                holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip().splitlines()[:1]
                holder = "".join(ch for ch in "".join(holder) if ch.isprintable())[:300]
                os.close(fd)
                if holder == self.library:
                    return  # this library's server watches it: a command beside it may scan too
                raise Conflict(
                    f"{key} is watched by the library at {holder or 'another place'}, which is running: "
                    "stop that one, or remove the folder there first"
                ) from None
            except OSError:
                os.close(fd)
                return  # a file system without locks: nothing to claim it with
            os.ftruncate(fd, 0)
            os.pwrite(fd, self.library.encode(), 0)
            self._held[key] = fd

    def release(self, folder: Path | str) -> None:
        with self._lock:
            fd = self._held.pop(os.path.realpath(folder), None)
        if fd is not None:
            os.close(fd)

    def release_all(self) -> None:
        with self._lock:
            held, self._held = self._held, {}
        for fd in held.values():
            os.close(fd)
