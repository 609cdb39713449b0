"""Originals in an S3-compatible bucket: ``pixlstash storage use s3://BUCKET/PREFIX --endpoint URL`` for a
new library, ``pixlstash storage migrate s3://...`` for one that has originals already. Thumbnails, previews
and the databases stay in the library's folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pixlstash import hookimpl

from .settings import S3Settings
from .store import S3OriginalStore, store_url

__all__ = ["S3OriginalStore", "S3Settings", "make_original_store", "register_settings", "store_url"]


@hookimpl
def register_settings(register: Callable[[str, type], None]) -> None:
    register("s3", S3Settings)


@hookimpl
def make_original_store(library_root: Path, settings: Mapping[str, Any]) -> S3OriginalStore | None:
    chosen = settings.get("s3")
    if not isinstance(chosen, S3Settings) or not chosen.bucket:
        return None  # no bucket named: the local folder keeps the originals
    return S3OriginalStore(chosen)
