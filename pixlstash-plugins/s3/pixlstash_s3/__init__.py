"""Originals in an S3-compatible bucket: ``pixlstash storage use s3://BUCKET/PREFIX --endpoint URL`` for a
new library, ``pixlstash storage migrate s3://...`` for one that has originals already. Thumbnails, previews
and the databases stay in the library's folder. Backups go to a bucket too: ``pixlstash backup create
s3://BUCKET/PREFIX``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from pixlstash import BadInput, bucket_settings, hookimpl

from .backup_bucket import S3BackupBucket
from .settings import S3Settings
from .store import S3OriginalStore, store_url

__all__ = [
    "S3BackupBucket",
    "S3OriginalStore",
    "S3Settings",
    "make_original_store",
    "open_backup_bucket",
    "register_settings",
    "store_url",
]


@hookimpl
def register_settings(register: Callable[[str, type], None]) -> None:
    register("s3", S3Settings)


@hookimpl
def make_original_store(library_root: Path, settings: Mapping[str, Any]) -> S3OriginalStore | None:
    chosen = settings.get("s3")
    if not isinstance(chosen, S3Settings) or not chosen.bucket:
        return None  # no bucket named: the local folder keeps the originals
    return S3OriginalStore(chosen)


@hookimpl
def open_backup_bucket(
    bucket: str, prefix: str, options: Mapping[str, Any], settings: Mapping[str, Any]
) -> S3BackupBucket:
    """The library's own bucket settings (endpoint, region, credentials) serve a backup to the same
    endpoint; another endpoint is reached with what was given and the ``AWS_*`` credentials."""
    library = settings.get("s3")
    stored = msgspec.structs.asdict(library) if isinstance(library, S3Settings) else {}
    try:
        chosen = msgspec.convert(bucket_settings(stored, bucket, prefix, options), S3Settings)
    except msgspec.ValidationError as error:
        raise BadInput(f"invalid bucket options: {error}") from None
    return S3BackupBucket(chosen)
