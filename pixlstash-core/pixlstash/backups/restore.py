"""Checking a backup and restoring it into a new folder.

A backup may come from anywhere (an old disk, a download, someone else), so both read it the same
careful way: the manifest's names must be of a backup's own layout (``layout.py``), a folder's files are
opened without following links, a tar file's members must be plain files, no file is copied past the
size its manifest gives, and every database must pass SQLite's check. ``restore`` runs every check
``verify`` runs, writes only inside a staging folder next to the target, and gives the target its name
only when everything is there.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path

import msgspec

from ..db.copies import is_library_database, keep_originals_here, pause_folders, quick_check
from ..errors import BadInput, Conflict
from .archive import MANIFEST, ArchiveReader, copy_hashing, remove_tree
from .bucket import BackupBucket, reader_for
from .layout import check_database_place, check_name, original_hash
from .manifest import BackupManifest, FileEntry, Progress, quiet

__all__ = ["read_manifest", "restore_backup", "verify_backup"]

_SPARE_BYTES = 64 << 20  # left free on the disk after a restore, for the library's first writes


def read_manifest(reader: ArchiveReader, backup_id: str | None = None) -> BackupManifest:
    """The backup's manifest (or, in a folder, that of an earlier backup kept beside it), its names checked."""
    name = MANIFEST if backup_id is None else f"databases/{backup_id}/{MANIFEST}"
    if backup_id is not None:
        check_name(f"databases/{backup_id}/library.db")  # the id is a name part: checked like one
    raw = reader.manifest(name)
    if raw is None:
        if backup_id is not None:
            raise Conflict(f"this backup keeps no earlier backup {backup_id} (`backup list` shows those it keeps)")
        raise Conflict("not a complete backup: it has no manifest (a backup cut short, or not a PixlStash backup)")
    try:
        manifest = msgspec.json.decode(raw, type=BackupManifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise Conflict(f"the backup's manifest cannot be read: {error}") from None
    for name in manifest.files:
        check_name(name)
    for place, name in manifest.databases.items():
        check_database_place(place, name)
        if name not in manifest.files:
            raise Conflict(f"not a complete backup: its manifest names {name} but lists no such file")
    return manifest


def verify_backup(
    source: Path | BackupBucket, progress: Progress = quiet, backup_id: str | None = None
) -> tuple[BackupManifest | None, list[str]]:
    """Every file hashed against the manifest, every database checked by SQLite: one line per problem."""
    if not isinstance(source, BackupBucket):
        source = Path(source).expanduser()
        if not source.exists():
            return None, [f"{source} does not exist"]
    try:
        with reader_for(source) as reader:
            manifest = read_manifest(reader, backup_id)
            with tempfile.TemporaryDirectory(prefix="pixlstash-verify-") as scratch:
                problems = _check_all(reader, manifest, Path(scratch), progress, keep_all=False)
    except Conflict as error:
        return None, [error.message]
    return manifest, problems


def _check_all(
    reader: ArchiveReader, manifest: BackupManifest, folder: Path, progress: Progress, *, keep_all: bool
) -> list[str]:
    """Copy (``keep_all``: into ``folder`` at each file's place in a library) or only hash every file."""
    places = {name: place for place, name in manifest.databases.items()}
    problems: list[str] = []
    total, done = sum(entry.size for entry in manifest.files.values()), 0
    for name, entry in sorted(manifest.files.items()):
        place = places.get(name)
        keep = None
        if keep_all:
            keep = folder / (place or name)
            keep.parent.mkdir(parents=True, exist_ok=True)
        elif place is not None:
            keep = folder / "database"
        problem = _check_file(reader, name, entry, keep)
        if problem is None and place is not None:
            problem = _check_database(place, name, keep)
        if problem is None and not keep_all and (named := original_hash(name)) and named != entry.blake2b:
            # The bytes are what the manifest says, but not the original its name is the hash of: the
            # library (or its store) gave other bytes when the backup was made, which it reported then. A
            # restore takes it as it is (one damaged picture does not stop the rest).
            problem = f"damaged: {name} is not the original its name names (it was damaged when backed up)"
        if problem:
            problems.append(problem)
            if keep_all:
                return problems  # a restore stops at the first problem
        done += entry.size
        progress("checking" if not keep_all else "restoring", done, total)
    if "library.db" not in manifest.databases:
        problems.append("incomplete: the backup has no library.db")
    return problems


def _check_file(reader: ArchiveReader, name: str, entry: FileEntry, keep: Path | None) -> str | None:
    try:
        with reader.open(name) as stream:
            if keep is not None:
                with open(keep, "wb") as out:
                    size, digest = copy_hashing(stream, out, limit=entry.size)
            else:
                size, digest = copy_hashing(stream, _Discard(), limit=entry.size)
    except FileNotFoundError:
        return f"missing: {name}"
    except Conflict as error:  # a link, a device, a sparse member, an archive that breaks off
        return error.message
    if size > entry.size:
        return f"damaged: {name} is larger than the manifest says ({entry.size:,} bytes)"
    if (size, digest) != (entry.size, entry.blake2b):
        return f"damaged: {name} ({size:,} bytes, its hash does not match the manifest's)"
    return None


def _check_database(place: str, name: str, copy: Path | None) -> str | None:
    if copy is None:
        return None
    said = quick_check(copy)
    if said:
        return f"damaged: {name} fails SQLite's check ({said})"
    if place == "library.db" and not is_library_database(copy):
        return f"foreign: {name} is a database, but not a PixlStash library"
    return None


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)


def restore_backup(
    source: Path | BackupBucket, to: Path, progress: Progress = quiet, backup_id: str | None = None
) -> BackupManifest:
    """Restore into ``to``, a new or empty folder: every file is checked against the manifest as it is
    copied, and the folder gets its name only once everything is there (a damaged or foreign backup, or a
    process killed half way, leaves no library at ``to`` and nothing anywhere else)."""
    if not isinstance(source, BackupBucket):
        source = Path(source).expanduser()
    to = Path(to).expanduser().resolve()
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise BadInput(f"{to} is not empty: restore into a new or empty folder")
    to.parent.mkdir(parents=True, exist_ok=True)
    for stale in to.parent.glob(f".{to.name}.restoring-*"):  # what a killed restore left
        remove_tree(stale)
    with reader_for(source) as reader:
        manifest = read_manifest(reader, backup_id)
        needed = sum(entry.size for entry in manifest.files.values())
        free = shutil.disk_usage(to.parent).free
        if needed + _SPARE_BYTES > free:
            raise BadInput(f"not enough space at {to.parent}: the backup needs {needed:,} bytes and {free:,} are free")
        staging = to.parent / f".{to.name}.restoring-{secrets.token_hex(4)}"
        staging.mkdir()
        try:
            problems = _check_all(reader, manifest, staging, progress, keep_all=True)
            if problems:
                raise Conflict(f"cannot restore: {problems[0]}; the backup is damaged (nothing was restored)")
            for folder in ("originals", "thumbnails"):
                (staging / folder).mkdir(exist_ok=True)
            keep_originals_here(staging)  # the restored originals are in the folder now
            pause_folders(staging / "library.db")  # until the owner resumes them: the original may watch them
            if to.exists():
                to.rmdir()
            staging.rename(to)
        except BaseException:
            remove_tree(staging)
            raise
    return manifest
