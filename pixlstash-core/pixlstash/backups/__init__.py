"""Whole-library backups: create (incremental into a folder, or one tar file), verify, restore."""

from .manifest import BackupManifest, BackupReport
from .restore import restore_backup, verify_backup
from .service import create_backup, kept_backups

__all__ = ["BackupManifest", "BackupReport", "create_backup", "kept_backups", "restore_backup", "verify_backup"]
