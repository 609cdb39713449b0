"""Whole-library backups: create (incremental into a folder, or one tar file), verify, restore."""

from .service import BackupManifest, BackupReport, create_backup, restore_backup, verify_backup

__all__ = ["BackupManifest", "BackupReport", "create_backup", "restore_backup", "verify_backup"]
