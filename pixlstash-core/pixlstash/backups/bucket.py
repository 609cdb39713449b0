"""Backups in a bucket (``s3://BUCKET/PREFIX``): what a plugin's bucket must do, and the backup's writer
and reader over it.

A bucket holds the same layout as a backup folder, under its prefix. An object has its name only once
it is whole (a PUT is atomic), and the manifest is written last, so a run cut short leaves nothing that
passes for a backup. What an earlier backup there holds (same name, same size) is not written again:
one listing at the start tells it. When the library's originals are in the same bucket, the service
copies each original into the backup itself (a copy inside the bucket: no byte of it passes through
this machine), so the backup stays whole when the library later deletes one.
"""

from __future__ import annotations

import abc
import contextlib
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import NotFound
from ..files.store_choice import parse_store_url
from .archive import MANIFEST, ArchiveReader, ArchiveWriter, copy_hashing, open_reader, open_writer, read_capped
from .manifest import FileEntry

__all__ = [
    "BackupBucket",
    "BucketReader",
    "BucketWriter",
    "is_bucket_url",
    "open_backup_place",
    "reader_for",
    "writer_for",
]


class BackupBucket(abc.ABC):
    """A prefix of a bucket, as a backup sees it: names are relative to the prefix and slash-separated.
    A plugin (``pixlstash-s3``) returns one from the ``open_backup_bucket`` hook."""

    @abc.abstractmethod
    def where(self) -> str:
        """``s3://bucket/prefix at URL``, as a person reads it."""

    @abc.abstractmethod
    def listing(self, under: str = "") -> dict[str, int]:
        """Every object whose name starts with ``under``, with its size."""

    @abc.abstractmethod
    def top_names(self) -> set[str]:
        """The first part of every name (``databases``, ``originals``, the manifest)."""

    @abc.abstractmethod
    def upload(self, name: str, path: Path) -> tuple[int, str]:
        """Store the file at ``path`` as ``name``, checked whole in the bucket; (bytes, BLAKE2b-256 hex)."""

    @abc.abstractmethod
    def open(self, name: str) -> BinaryIO:
        """Read ``name``; ``FileNotFoundError`` when there is no such object."""

    @abc.abstractmethod
    def delete(self, name: str) -> None:
        """Remove ``name`` (a missing one is no error)."""

    def copy_original(self, store: Any, content_hash: str, suffix: str, name: str) -> int | None:
        """Copy the original ``store`` holds into ``name`` inside the service, when ``store`` keeps its
        originals in this same bucket: its size. None when that cannot be done (another service)."""
        return None

    def overlaps(self, store: Any) -> bool:
        """Whether this prefix and the originals' prefix of ``store`` contain one another."""
        return False


def is_bucket_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith("s3://")


def open_backup_place(
    plugin_manager,
    target: str | Path,
    options: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Path | BackupBucket:
    """A folder or tar file (``Path``), or the bucket ``s3://BUCKET/PREFIX`` names. ``options`` are what
    the person gave (endpoint, region, path_style); ``settings`` the library's plugin settings, whose
    store's endpoint and credentials serve when the endpoint is the same."""
    if not is_bucket_url(str(target)):
        return Path(target).expanduser()
    parsed = parse_store_url(str(target))
    assert parsed is not None
    bucket = plugin_manager.hook.open_backup_bucket(
        bucket=parsed[0], prefix=parsed[1], options=dict(options or {}), settings=dict(settings or {})
    )
    if bucket is None:
        raise NotFound(f"no plugin provides backups to {target}: pip install pixlstash-s3 (scripts/setup installs it)")
    return bucket


class BucketWriter:
    def __init__(self, bucket: BackupBucket, store: Any = None, scratch: Path | None = None) -> None:
        self.bucket, self.store, self.scratch = bucket, store, scratch  # scratch: where a stream is spooled
        self.held = bucket.listing()  # one listing: what an earlier backup left is not written again

    def has(self, name: str, size: int) -> bool:
        return self.held.get(name) == size

    def put(self, name: str, source: BinaryIO) -> tuple[int, str]:
        with tempfile.NamedTemporaryFile(prefix="pixlstash-backup-", dir=self.scratch) as spool:
            written = copy_hashing(source, spool)
            spool.flush()
            if self.bucket.upload(name, Path(spool.name)) != written:
                raise OSError(f"{name} changed while it went to {self.bucket.where()}")
        return written

    def put_file(self, name: str, path: Path) -> tuple[int, str]:
        return self.bucket.upload(name, path)

    def adopt(self, content_hash: str, suffix: str, name: str) -> FileEntry | None:
        """The original copied inside the bucket, when the library keeps it there too."""
        size = self.bucket.copy_original(self.store, content_hash, suffix, name)
        return None if size is None else FileEntry(size, content_hash)

    def finish(self, manifest: bytes) -> None:
        with tempfile.NamedTemporaryFile(prefix="pixlstash-manifest-", dir=self.scratch) as spool:
            spool.write(manifest)
            spool.flush()
            self.bucket.upload(MANIFEST, Path(spool.name))

    def abandon(self) -> None:
        pass  # whole objects stay for the next run to reuse; the old manifest still names the old backup


class BucketReader:
    def __init__(self, bucket: BackupBucket) -> None:
        self.bucket = bucket

    def manifest(self, name: str = MANIFEST) -> bytes | None:
        try:
            with self.bucket.open(name) as stream:
                return read_capped(stream, name)
        except FileNotFoundError:
            return None

    def open(self, name: str) -> BinaryIO:
        return self.bucket.open(name)

    def names(self) -> set[str]:
        return set(self.bucket.listing())

    def close(self) -> None:
        pass


def writer_for(target: Path | BackupBucket, store: Any = None, scratch: Path | None = None) -> ArchiveWriter:
    """The writer of a folder, tar file or bucket; ``scratch`` (the library's) spools what goes to a bucket."""
    return BucketWriter(target, store, scratch) if isinstance(target, BackupBucket) else open_writer(target)


@contextlib.contextmanager
def reader_for(source: Path | BackupBucket) -> Iterator[ArchiveReader]:
    if isinstance(source, BackupBucket):
        yield BucketReader(source)
        return
    with open_reader(source) as reader:
        yield reader
