"""Backups the server makes: one at a time in a thread of their own, with progress to show, and on a
schedule (beside the snapshot schedule) to a folder the owner chose or a bucket (``s3://BUCKET/PREFIX``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import msgspec
import pluggy
from msgspec import Meta

from ..db.settings import SettingsStore
from ..errors import BadInput, Conflict
from ..files.store_choice import parse_store_url
from ..plugin_settings import PluginSettingsSource
from .bucket import is_bucket_url, open_backup_place
from .service import BackupReport, BackupSource, create_backup

__all__ = ["BackupRunner", "BackupSchedule", "BackupStatus"]

log = logging.getLogger(__name__)


class BackupSchedule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    enabled: bool = False
    target: Annotated[str, Meta(max_length=4096)] | None = None  # a folder on the server (absolute), or s3://
    # A bucket's service (https://s3.example.com); none: the library's own bucket's, or AWS S3. Credentials
    # are the library's for its own endpoint, else the server's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    endpoint: Annotated[str, Meta(max_length=2048, pattern="^(https?://[^\\s]+)?$")] | None = None
    every_hours: Annotated[float, Meta(ge=1, le=24 * 90)] = 24.0
    with_thumbnails: bool = False
    with_accounts: bool = False  # accounts and plugin secrets in the backup (in clear)


class BackupStatus(msgspec.Struct):
    running: bool
    target: str | None
    done_bytes: int
    total_bytes: int
    last: BackupReport | None
    last_error: str | None
    last_finished_at: int | None  # unix ms
    schedule: BackupSchedule


class _Record(msgspec.Struct):
    last: BackupReport | None = None
    last_error: str | None = None
    last_finished_at: int | None = None
    # Set while a backup runs, cleared when it ends: one still set when no backup runs was cut short
    # (the server stopped or was killed during it).
    running_to: str | None = None
    running_since: int | None = None  # unix ms


def _unfinished(record: _Record) -> _Record:
    """The record with a backup that a stopped server left running told as the failure it was."""
    if record.running_to is None:
        return record
    said = (
        f"the backup to {record.running_to} did not finish: the server stopped during it "
        "(the backup before it there is still whole); start it again"
    )
    return _Record(record.last, said, record.running_since, None, None)


def _checked_target(target: str | None) -> str:
    if target and is_bucket_url(target):
        parse_store_url(target)  # a bucket's name and prefix, checked
        return target
    if not target or not Path(target).is_absolute():
        raise BadInput(
            "give the backup folder as an absolute path on the server (/mnt/usb/pixlstash-backup), "
            "or a bucket as s3://BUCKET/PREFIX"
        )
    return str(Path(target))


class BackupRunner:
    def __init__(
        self,
        plugin_manager: pluggy.PluginManager,
        plugin_settings: PluginSettingsSource,
        source: Callable[[], BackupSource],
        settings: SettingsStore,
        clock=time.time,
    ) -> None:
        """``source`` gives what a backup reads, asked at each run (the originals' store may have changed)."""
        self.plugin_manager, self.plugin_settings, self.source = plugin_manager, plugin_settings, source
        self.settings, self.clock = settings, clock
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._target: str | None = None
        self._done = self._total = 0

    def schedule(self) -> BackupSchedule:
        return self.settings.get("backup_schedule", BackupSchedule, BackupSchedule())

    def configure(self, schedule: BackupSchedule) -> BackupSchedule:
        if schedule.enabled:
            _checked_target(schedule.target)
        self.settings.put("backup_schedule", schedule)
        return schedule

    def status(self) -> BackupStatus:
        record = self.settings.get("backup_record", _Record, _Record())
        with self._lock:
            running = self._thread is not None and self._thread.is_alive()
            if not running:
                record = _unfinished(record)
            return BackupStatus(
                running,
                self._target if running else (record.last.target if record.last else None),
                self._done,
                self._total,
                record.last,
                record.last_error,
                record.last_finished_at,
                self.schedule(),
            )

    def start(
        self,
        target: str,
        with_thumbnails: bool = False,
        with_accounts: bool = False,
        force: bool = False,
        endpoint: str | None = None,
    ) -> BackupStatus:
        """Begin a backup in the background (409 while one runs)."""
        target = _checked_target(target)
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise Conflict(f"a backup to {self._target} is running; wait for it to finish")
            self._target, self._done, self._total = target, 0, 0
            record = _unfinished(self.settings.get("backup_record", _Record, _Record()))
            record.running_to, record.running_since = target, int(self.clock() * 1000)
            self.settings.put("backup_record", record)
            self._thread = threading.Thread(
                target=self._run,
                args=(target, endpoint, with_thumbnails, with_accounts, force),
                name="pixlstash-backup",
                daemon=True,
            )
            self._thread.start()
        return self.status()

    def wait(self, seconds: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(seconds)

    def _progress(self, what: str, done: int, total: int) -> None:
        self._done, self._total = done, total

    def _run(self, target: str, endpoint: str | None, with_thumbnails: bool, with_accounts: bool, force: bool) -> None:
        record = self.settings.get("backup_record", _Record, _Record())
        try:
            place = open_backup_place(
                self.plugin_manager,
                target,
                {"endpoint": endpoint} if endpoint else {},
                self.plugin_settings.all(),
            )
            report = create_backup(
                self.source(),
                place,
                with_thumbnails=with_thumbnails,
                with_accounts=with_accounts,
                force=force,
                progress=self._progress,
            )
            record = _Record(report, None, int(self.clock() * 1000))
        except Exception as error:  # said in Settings; the previous backup stays as it was
            log.exception("the backup to %s failed", target)
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            record = _Record(record.last, message, int(self.clock() * 1000))
        self.settings.put("backup_record", record)

    def run_if_due(self) -> bool:
        """The scheduled backup, when one is due (called every so often by the server)."""
        schedule = self.schedule()
        if not schedule.enabled or not schedule.target:
            return False
        record = self.settings.get("backup_record", _Record, _Record())
        now = self.clock() * 1000
        if record.last_finished_at and now - record.last_finished_at < schedule.every_hours * 3_600_000:
            return False
        try:
            self.start(schedule.target, schedule.with_thumbnails, schedule.with_accounts, endpoint=schedule.endpoint)
        except Conflict:
            return False
        self.wait()
        return True
