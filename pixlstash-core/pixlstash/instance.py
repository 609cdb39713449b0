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
import functools
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import msgspec

from .auth import Authenticator
from .backups.runner import BackupRunner
from .db.settings import SettingsStore
from .errors import PixlstashError
from .library import Library
from .sharing.service import ShareService
from .snapshots import SnapshotService
from .system.clock import Clock, now_ms
from .system.outside_changes import OutsideChanges
from .system.updates import UpdateChecker

__all__ = ["JOBS_ONLY", "Instance", "InstanceBusy", "InstanceOptions", "Periodic", "ServiceLock"]

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
    previews_ahead: bool = True  # make missing previews when idle, if the library's setting asks for it
    tidy_seconds: float = 30.0  # how often the WAL is folded into the database and freed memory given back
    snapshot_check_seconds: float = 3600.0  # how often the schedule looks for a snapshot that is due
    backup_schedule: bool = True  # make the scheduled backup when the owner turned it on
    update_check: bool = True  # look for a new release when the user opted in (never otherwise)
    update_check_poll_seconds: float = 3600.0
    outside_changes: bool = True  # publish writes by other processes on the event bus
    outside_changes_seconds: float = 1.0  # how often writes by other processes are looked for
    people_seconds: float = 30.0  # how often new faces are grouped among the unnamed people
    clock: Clock = now_ms  # Unix ms for snapshot stamps and the schedule (simulations set their own)
    ray_address: str | None = None  # run enrichment on this Ray cluster ("local": a Ray on this machine)


# What ``pixlstash enrich`` runs: the enrichment worker and nothing else.
JOBS_ONLY = InstanceOptions(
    watch_folders=False,
    snapshot_schedule=False,
    backup_schedule=False,
    update_check=False,
    outside_changes=False,
    previews_ahead=False,
)


class ServiceLock:
    """The OS lock that makes one process per library the one running its background services."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, role: str = "process") -> None:
        """Take the lock, writing who holds it (``PixlStash server (process 123)``) for others to read."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise InstanceBusy(
                f"{holder} already runs the background services of {self.path.parent}; stop it first "
                "(commands such as import, ls and snapshot work beside it)",
                holder=holder,
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"PixlStash {role} (process {os.getpid()})".encode())
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
    own until ``stop()``; an exception is logged and the next run happens as planned. ``stop()`` lets a
    run in progress finish, waiting up to ``finish_seconds`` (a snapshot must not lose what it uses)."""

    def __init__(
        self,
        name: str,
        task: Callable[[], object],
        interval: float,
        first_delay: float | None = None,
        finish_seconds: float = 10.0,
    ):
        self.name, self.task, self.interval, self.finish_seconds = name, task, interval, finish_seconds
        self.first_delay = interval if first_delay is None else first_delay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"pixlstash-{name}", daemon=True)

    @property
    def stopping(self) -> threading.Event:
        """Set when ``stop()`` is called: a long task checks it to end early."""
        return self._stop

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

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.finish_seconds)
            if self._thread.is_alive():
                log.warning("%s is still running after %.0f s; leaving it", self.name, self.finish_seconds)


class Instance:
    """The services of one open library, built from it; ``start()`` takes the library's service lock.

    The authenticator, share and snapshot services and the update checker are made on first use, so a
    command that only works the job queue (``run_jobs_until_idle``) opens no more than it needs."""

    def __init__(self, library: Library, options: InstanceOptions | None = None, *, role: str = "server") -> None:
        self.library, self.role = library, role
        self.options = options = options or InstanceOptions()
        self.worker = library.new_enrichment_worker(ray_address=options.ray_address) if options.enrichment else None
        self.lock = ServiceLock(library.root)
        self.tasks: list[Periodic] = []
        if options.update_check:
            self.tasks.append(
                Periodic("update-check", lambda: self.updates.check_if_due(), options.update_check_poll_seconds, 5.0)
            )
        self.tasks.append(Periodic("tidy", library.tidy, options.tidy_seconds))
        if options.previews_ahead:
            previews = Periodic("previews", lambda: library.previews.run_when_idle(previews.stopping.is_set), 30.0)
            self.tasks.append(previews)
        if options.outside_changes:
            outside = OutsideChanges(library.db, library.events)
            self.tasks.append(Periodic("outside-changes", outside.check, options.outside_changes_seconds))
        if options.watch_folders:
            watcher = library.new_folder_watcher()
            self.tasks.append(Periodic("folder-watcher", watcher.tick, options.folder_poll_seconds))
        if options.enrichment:  # new faces come from the worker: place them among the unnamed people
            self.tasks.append(Periodic("people", library.people.update, options.people_seconds))
        if options.backup_schedule:  # looks every hour; the schedule itself says how often (off by default)
            self.tasks.append(Periodic("backup", lambda: self.backups.run_if_due(), 3600.0, 120.0))
        if options.snapshot_schedule:
            # The first check a minute after start (or sooner, for short intervals), then one every interval.
            interval = options.snapshot_check_seconds
            self.tasks.append(
                # Stopping waits for a snapshot in progress (seconds, even at a million pictures): the
                # snapshot service is closed right after.
                Periodic("snapshots", lambda: self.snapshots.run_schedule(), interval, min(60.0, interval), 600.0)
            )

    @functools.cached_property
    def backups(self) -> BackupRunner:
        library = self.library
        settings = SettingsStore(library.db, "settings")
        return BackupRunner(library.plugin_manager, library.plugin_settings, library.backup_source, settings)

    @functools.cached_property
    def auth(self) -> Authenticator:
        return Authenticator(self.library.root)

    @functools.cached_property
    def shares(self) -> ShareService:
        return self.library.new_share_service(self.auth)

    @functools.cached_property
    def updates(self) -> UpdateChecker:
        return UpdateChecker(SettingsStore(self.auth.db, "instance_settings"))

    @functools.cached_property
    def snapshots(self) -> SnapshotService:
        return self.library.new_snapshot_service(clock=self.options.clock)

    def start(self) -> None:
        """Take the service lock (``InstanceBusy`` names its holder) and start every service."""
        self.lock.acquire(self.role)
        # Made now, not on a request or a timer's first tick: a failure to open them stops the start.
        self.auth, self.shares, self.updates, self.snapshots  # noqa: B018
        self.shares.prune_renders()
        if self.worker is not None:
            self.library.engines.record_served()
            self.worker.start()
        for task in self.tasks:
            task.start()

    def stop(self) -> None:
        for task in self.tasks:
            task.stop()
        if self.worker is not None:
            self.worker.stop()
        self.lock.release()
        if "auth" in self.__dict__:
            self.auth.close()
        if "snapshots" in self.__dict__:
            self.snapshots.close()

    def run_jobs_until_idle(self, on_batch: Callable[[], None] | None = None) -> int:
        """Work the job queue in this thread until it is empty (``pixlstash enrich``); returns the pictures
        processed. Needs no service lock: when a running instance works the queue, ``WorkerBusy`` says so
        and the work is left to it."""
        if self.worker is None:
            raise PixlstashError("this instance was built without enrichment")
        return self.worker.run_until_idle(on_batch)
