"""Whole-library backups: made while the server runs, verified file by file, restored into a new folder.

A backup holds the databases (copied through SQLite's online backup API, so each is a consistent point
in time while writers carry on), the originals those databases refer to (stored by content hash, as in
the library), the snapshots' chunks, watermark images, and thumbnails if asked. Its manifest names every
file with its size and BLAKE2b-256. Into a folder, a backup is incremental: files an earlier backup
there already holds are not written again (originals and chunks never change). Files in reference
folders stay where they are and are not part of a backup: the manifest counts them.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec

from .. import __version__
from ..errors import BadInput, Conflict
from ..storage.backup import copy_database_file, quick_check, stored_originals
from .archive import MANIFEST, ArchiveReader, copy_hashing, is_tar, open_reader, open_writer, remove_tree

__all__ = ["BackupManifest", "BackupReport", "create_backup", "restore_backup", "verify_backup"]

DATABASES = ("library.db", "auth.db", "history.db", "snapshots/catalog.db")
_OURS = {MANIFEST, "databases", "originals", "snapshots", "watermarks", "thumbnails"}
Progress = Callable[[str, int, int], None]  # (what, bytes done, bytes in all)


class FileEntry(msgspec.Struct, frozen=True):
    size: int
    blake2b: str


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


class BackupReport(msgspec.Struct):
    target: str
    backup_id: str
    files: int
    files_written: int
    bytes_written: int
    bytes_in_backup: int
    seconds: float
    problems: list[str] = []


def _quiet(what: str, done: int, total: int) -> None:
    pass


def _previous(target: Path) -> BackupManifest | None:
    if is_tar(target) or not (target / MANIFEST).is_file():
        return None
    try:
        return msgspec.json.decode((target / MANIFEST).read_bytes(), type=BackupManifest)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _checked_target(root: Path, target: Path) -> Path:
    target = target.expanduser().resolve()
    root = root.resolve()
    if target == root or root in target.parents or target in root.parents:
        raise BadInput("a backup cannot be inside the library, nor the library inside it: choose another folder")
    if not is_tar(target) and target.exists() and not target.is_dir():
        raise BadInput(f"{target} is a file: give a folder, or a file name ending in .tar")
    # A folder of ours (an earlier backup's, or one cut short) is continued; anything else is not ours.
    if not is_tar(target) and target.is_dir() and any(entry.name not in _OURS for entry in target.iterdir()):
        raise BadInput(f"{target} holds other files: give an empty folder, or one an earlier backup went to")
    return target


def create_backup(library, target: Path, *, with_thumbnails: bool = False, progress: Progress = _quiet) -> BackupReport:
    """Back ``library`` up to ``target`` (a folder, or a ``.tar`` file); see the module's docstring."""
    began = time.monotonic()
    root = Path(library.root)
    target = _checked_target(root, Path(target))
    previous = _previous(target)
    known = previous.files if previous else {}
    created = int(time.time() * 1000)
    backup_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime(created / 1000)) + "-" + secrets.token_hex(3)
    writer = open_writer(target)
    files: dict[str, FileEntry] = {}
    problems: list[str] = []
    written = [0, 0]  # files, bytes

    def reusable(name: str, size: int) -> bool:
        """The earlier backup's copy of ``name`` serves this one too (same size, and still there)."""
        return name in known and known[name].size == size and writer.has(name, size)

    def put_path(name: str, path: Path) -> None:
        size = path.stat().st_size
        if reusable(name, size):
            files[name] = known[name]
            return
        files[name] = FileEntry(*writer.put_file(name, path))
        written[0] += 1
        written[1] += size

    try:
        with tempfile.TemporaryDirectory(dir=library.scratch.path, prefix="backup-") as scratch:
            databases = {}
            for name in DATABASES:  # first: what they refer to is then in the library for sure
                source = root / name
                if source.is_file():
                    copy = Path(scratch) / name.replace("/", "-")
                    copy_database_file(source, copy)
                    databases[name] = f"databases/{backup_id}/{name}"
                    put_path(databases[name], copy)
            originals, in_reference = stored_originals(Path(scratch) / "library.db")
            others = _other_files(root, with_thumbnails)
            total = sum(size for *_, size in originals) + sum(path.stat().st_size for _, path in others)
            done = 0
            # Folders take originals on several threads (hashing and copying release the GIL); a tar
            # file is one stream, written in order.
            workers = 1 if is_tar(target) else min(4, os.cpu_count() or 1)
            lock = threading.Lock()

            def one(original: tuple[str, str, int]) -> None:
                nonlocal done
                content_hash, suffix, size = original
                name = f"originals/{content_hash[:2]}/{content_hash[2:4]}/{content_hash}{suffix}"
                if reusable(name, size):
                    entry, problem = known[name], None
                else:
                    entry, problem = _put_original(library, writer, name, content_hash, suffix)
                with lock:
                    if entry is not None:
                        files[name] = entry
                        if entry is not known.get(name):
                            written[0] += 1
                            written[1] += entry.size
                    if problem:
                        problems.append(problem)
                    done += size
                    progress("originals", done, total)

            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(one, originals))
            for name, path in others:
                put_path(name, path)
                done += files[name].size
                progress("snapshots and thumbnails", done, total)
            problems.sort()
            manifest = BackupManifest(
                backup_id=backup_id,
                created_at=created,
                library=str(root),
                pixlstash_version=__version__,
                with_thumbnails=with_thumbnails,
                databases=databases,
                files=dict(sorted(files.items())),
                pictures=len(originals) + in_reference,
                in_reference_folders=in_reference,
            )
            writer.finish(msgspec.json.format(msgspec.json.encode(manifest)))
    except BaseException:
        writer.abandon()
        raise
    if not is_tar(target):
        _forget_other_databases(target, backup_id)
    return BackupReport(
        str(target),
        backup_id,
        len(files),
        written[0],
        written[1],
        sum(entry.size for entry in files.values()),
        round(time.monotonic() - began, 3),
        problems,
    )


def _put_original(library, writer, name: str, content_hash: str, suffix: str) -> tuple[FileEntry | None, str | None]:
    """The original into the backup: its entry, and a problem to report if it is missing or damaged."""
    try:
        local = library.store.local_path(content_hash, suffix)
        if local is not None:
            size, digest = writer.put_file(name, local)
        else:
            with library.store.open(content_hash, suffix) as source:
                size, digest = writer.put(name, source)
    except FileNotFoundError:
        return None, f"missing from the library: original {content_hash}{suffix} (nothing to back up)"
    if digest != content_hash:
        problem = f"damaged in the library: original {content_hash}{suffix} does not match its hash (kept as it is)"
        return FileEntry(size, digest), problem
    return FileEntry(size, digest), None


def _other_files(root: Path, with_thumbnails: bool) -> list[tuple[str, Path]]:
    found = []
    folders = ["snapshots/chunks", "watermarks"] + (["thumbnails"] if with_thumbnails else [])
    for folder in folders:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and not path.name.startswith(".") and not relative.startswith("thumbnails/shared/"):
                found.append((relative, path))
    return found


def _forget_other_databases(target: Path, backup_id: str) -> None:
    """Database copies of earlier backups (and of runs cut short): only the manifest's are kept."""
    folder = target / "databases"
    for entry in folder.iterdir() if folder.is_dir() else []:
        if entry.name != backup_id:
            remove_tree(entry)


# -- checking and restoring ----------------------------------------------------------------------


def _manifest(reader: ArchiveReader) -> BackupManifest:
    raw = reader.manifest()
    if raw is None:
        raise Conflict("not a complete backup: it has no manifest (a backup cut short, or not a PixlStash backup)")
    try:
        return msgspec.json.decode(raw, type=BackupManifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise Conflict(f"the backup's manifest cannot be read: {error}") from None


def verify_backup(source: Path, progress: Progress = _quiet) -> tuple[BackupManifest | None, list[str]]:
    """Every file hashed against the manifest, every database checked by SQLite: one line per problem."""
    source = Path(source).expanduser()
    if not source.exists():
        return None, [f"{source} does not exist"]
    with open_reader(source) as reader:
        try:
            manifest = _manifest(reader)
        except Conflict as error:
            return None, [error.message]
        problems: list[str] = []
        total, done = sum(entry.size for entry in manifest.files.values()), 0
        with tempfile.TemporaryDirectory(prefix="pixlstash-verify-") as scratch:
            for name, entry in sorted(manifest.files.items()):
                keep = Path(scratch) / "db" if name in manifest.databases.values() else None
                problem = _check_file(reader, name, entry, keep)
                if problem:
                    problems.append(problem)
                elif keep is not None and (said := quick_check(keep)):
                    problems.append(f"damaged: {name} fails SQLite's check ({said})")
                done += entry.size
                progress("checking", done, total)
        library_db = manifest.databases.get("library.db")
        if library_db is None:
            problems.append("incomplete: the backup has no library.db")
    return manifest, problems


def _check_file(reader: ArchiveReader, name: str, entry: FileEntry, keep: Path | None) -> str | None:
    try:
        with reader.open(name) as stream:
            if keep is not None:
                with open(keep, "wb") as out:
                    size, digest = copy_hashing(stream, out)
            else:
                size, digest = copy_hashing(stream, _Discard())
    except FileNotFoundError:
        return f"missing: {name}"
    if (size, digest) != (entry.size, entry.blake2b):
        return f"damaged: {name} ({size:,} bytes, its hash does not match the manifest's)"
    return None


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)


def restore_backup(source: Path, to: Path, progress: Progress = _quiet) -> BackupManifest:
    """Restore into ``to``, a new or empty folder: every file is checked against the manifest as it is
    copied, and the folder gets its name only once everything is there (a damaged backup, or a process
    killed half way, leaves no library at ``to``)."""
    source, to = Path(source).expanduser(), Path(to).expanduser().resolve()
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise BadInput(f"{to} is not empty: restore into a new or empty folder")
    to.parent.mkdir(parents=True, exist_ok=True)
    for stale in to.parent.glob(f".{to.name}.restoring-*"):  # what a killed restore left
        remove_tree(stale)
    staging = to.parent / f".{to.name}.restoring-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        with open_reader(source) as reader:
            manifest = _manifest(reader)
            places = {name: place for place, name in manifest.databases.items()}
            total, done = sum(entry.size for entry in manifest.files.values()), 0
            for name, entry in sorted(manifest.files.items()):
                target = staging / places.get(name, name)
                target.parent.mkdir(parents=True, exist_ok=True)
                problem = _check_file(reader, name, entry, target)
                if problem:
                    raise Conflict(f"cannot restore: {problem}; the backup is damaged (nothing was restored)")
                done += entry.size
                progress("restoring", done, total)
        for folder in ("originals", "thumbnails"):
            (staging / folder).mkdir(exist_ok=True)
        if to.exists():
            to.rmdir()
        staging.rename(to)
    except BaseException:
        remove_tree(staging)
        raise
    return manifest
