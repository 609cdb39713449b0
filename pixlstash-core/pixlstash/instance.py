"""One running instance of a library: the long-lived services, started and stopped together.

The web server runs one; anything else that wants the same background work (a future worker command)
builds one without Starlette. The services are the snapshot schedule, the enrichment worker, folder
watching, the update check and the watch for other processes' writes. They run in one process at a
time per library, chosen by an OS lock on ``<library>/services.lock`` that the kernel drops when the
process ends, however it ends: a second server on the same library refuses to start and names the
process that holds it. Commands that only read or write the library (import, ls, snapshot, ...) take
no such lock and work beside a running server.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import msgspec

from .auth import Authenticator
from .clock import Clock, now_ms
from .errors import PixlstashError
from .library import Library
from .outside_changes import OutsideChanges
from .storage.settings import SettingsStore
from .updates import UpdateChecker

__all__ = ["Instance", "InstanceBusy", "InstanceOptions", "Periodic", "ServiceLock"]

log = logging.getLogger(__name__)

LOCK_NAME = "services.lock"


class InstanceBusy(PixlstashError):
    """Another process already runs this library's long-lived services."""

    code = "instance_busy"


class InstanceOptions(msgspec.Struct, frozen=True):
    watch_folders: bool = True  # poll import folders (and, less often, reference folders)
    folder_poll_seconds: float = 5.0
    enrichment: bool = True  # run queued enrichment jobs in this process
    snapshot_schedule: bool = True  # take DAILY / WEEKLY / MONTHLY snapshots (the catalog can also turn it off)
    snapshot_check_seconds: float = 3600.0  # how often the schedule looks for a snapshot that is due
    update_check_poll_seconds: float = 3600.0
    outside_changes_seconds: float = 1.0  # how often writes by other processes are looked for
    clock: Clock = now_ms  # Unix ms for snapshot stamps and the schedule (simulations set their own)


class ServiceLock:
    """The OS lock that makes one process per library the one running its background services."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise InstanceBusy(
                f"{holder} already runs this library ({self.path.parent}); stop it first, or use "
                "it: commands such as import, ls and snapshot work beside it",
                holder=holder,
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"PixlStash process {os.getpid()}".encode())
        self._fd = fd

    def holder(self) -> str | None:
        """Who holds the lock right now, or None (checked without taking it for long)."""
        try:
            self.acquire()
        except InstanceBusy as busy:
            return str(busy.details["holder"])
        self.release()
        return None

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


class Periodic:
    """Run ``task`` every ``interval`` seconds (the first time after ``first_delay``) in a thread of its
    own until ``stop()``; an exception is logged and the next run happens as planned."""

    def __init__(self, name: str, task: Callable[[], object], interval: float, first_delay: float | None = None):
        self.name, self.task, self.interval = name, task, interval
        self.first_delay = interval if first_delay is None else first_delay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"pixlstash-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        delay = self.first_delay
        while not self._stop.wait(delay):
            try:
                self.task()
            except Exception:  # one failed run must not stop the next
                log.exception("%s failed", self.name)
            delay = self.interval

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


class Instance:
    """The services of one open library, built from it; ``start()`` takes the library's service lock."""

    def __init__(self, library: Library, options: InstanceOptions | None = None) -> None:
        self.library = library
        self.options = options = options or InstanceOptions()
        self.auth = Authenticator(library.root)
        self.shares = library.new_share_service(self.auth)
        self.updates = UpdateChecker(SettingsStore(self.auth.db, "instance_settings"))
        self.snapshots = library.new_snapshot_service(clock=options.clock)
        self.worker = library.new_enrichment_worker() if options.enrichment else None
        self.lock = ServiceLock(library.root)
        outside = OutsideChanges(library.db, library.events)
        self.tasks = [
            Periodic("update-check", self.updates.check_if_due, options.update_check_poll_seconds, first_delay=5.0),
            Periodic("outside-changes", outside.check, options.outside_changes_seconds),
        ]
        if options.watch_folders:
            watcher = library.new_folder_watcher()
            self.tasks.append(Periodic("folder-watcher", watcher.tick, options.folder_poll_seconds))
        if options.snapshot_schedule:
            # The first check a minute after start (or sooner, for short intervals), then one every interval.
            interval = options.snapshot_check_seconds
            self.tasks.append(Periodic("snapshots", self.snapshots.run_schedule, interval, min(60.0, interval)))

    def start(self) -> None:
        self.lock.acquire()
        if self.worker is not None:
            self.worker.start()
        for task in self.tasks:
            task.start()

    def stop(self) -> None:
        for task in self.tasks:
            task.stop()
        if self.worker is not None:
            self.worker.stop()
        self.lock.release()
        self.auth.close()
        self.snapshots.close()
