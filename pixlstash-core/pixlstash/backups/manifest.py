"""What a backup's manifest says, and what a backup run reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec
from msgspec import Meta

__all__ = ["BackupManifest", "BackupReport", "FileEntry", "Progress", "quiet"]

Progress = Callable[[str, int, int], None]  # (what, bytes done, bytes in all)


def quiet(what: str, done: int, total: int) -> None:
    pass


class FileEntry(msgspec.Struct, frozen=True):
    size: Annotated[int, Meta(ge=0)]
    blake2b: Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]


class BackupManifest(msgspec.Struct):
    backup_id: str
    created_at: int  # unix ms
    library: str
    pixlstash_version: str
    with_thumbnails: bool
    databases: dict[str, str]  # the database's place in a library -> its name in the backup
    files: dict[str, FileEntry]  # every file in the backup (the databases too), by name
    pictures: int
    in_reference_folders: int  # pictures whose files stay in reference folders (not in the backup)
    format: int = 1
    # Accounts (auth.db) and plugin secrets are in the backup only when asked for; backups made before
    # this field existed always held them.
    with_accounts: bool = True


class BackupReport(msgspec.Struct):
    target: str
    backup_id: str
    files: int
    files_written: int
    bytes_written: int
    bytes_in_backup: int
    seconds: float
    problems: list[str] = []
    with_accounts: bool = False
    secrets_left_out: list[str] = []  # plugin.field of each secret setting the library keeps and the backup does not
    kept: list[str] = []  # in a folder or bucket: the backups whose databases it keeps, newest first
    copied_in_bucket: int = 0  # originals the service copied inside the bucket that also holds the library's
    warnings: list[str] = []  # what a person should know (a place that does not outlive its container)
