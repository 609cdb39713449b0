"""Whole-library backups: made while the server runs, verified file by file, restored into a new folder.

A backup holds the databases (copied through SQLite's online backup API, so each is a consistent point
in time while writers carry on), the originals those databases refer to (stored by content hash, as in
the library), the snapshots' chunks, watermark images, and thumbnails if asked. Its manifest names every
file with its size and BLAKE2b-256. Into a folder, a backup is incremental: files an earlier backup
there already holds are not written again (originals and chunks never change). Files in reference
folders stay where they are and are not part of a backup: the manifest counts them.

Accounts (``auth.db``: the password hash, token, session and share hashes) and the plugins' secret
settings (``secrets.db``: an API key) stay out of a backup unless ``with_accounts`` asks for them: a
restore without them starts with first-run setup. Neither is in ``library.db`` nor in a snapshot.

A folder keeps the databases of its last few backups (the originals are shared by hash), so one bad run
never replaces the only good copy, and a run that would replace a backup of more pictures than the library
now holds is refused unless forced.
"""

from __future__ import annotations

import io
import os
import secrets
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import msgspec

from .. import __version__
from ..db.copies import copy_database_file, stored_originals
from ..db.secrets_db import SecretStore
from ..errors import BadInput, Conflict
from ..files.originals import OriginalStore
from .archive import MANIFEST, is_tar, links_inside, remove_tree
from .bucket import BackupBucket, reader_for, writer_for
from .layout import ACCOUNTS, DATABASES
from .manifest import BackupManifest, BackupReport, FileEntry, Progress, quiet
from .mounts import container_layer
from .restore import read_manifest, restore_backup, verify_backup

__all__ = [
    "BackupBucket",
    "BackupManifest",
    "BackupReport",
    "BackupSource",
    "create_backup",
    "kept_backups",
    "restore_backup",
    "verify_backup",
]

KEEP = 3  # database sets a folder keeps: this backup's and the two before it
_OURS = {MANIFEST, "databases", "originals", "snapshots", "watermarks", "thumbnails"}
_CACHES = ("thumbnails/shared/", "thumbnails/edited/")  # renders made again on demand: never backed up


class BackupSource(NamedTuple):
    """What a backup reads from a library (``Library.backup_source()`` gives it)."""

    root: Path  # the library's folder
    store: OriginalStore  # where its originals are
    scratch: Path  # this process's scratch folder in it
    secrets: SecretStore  # the plugins' secrets (named in the report when left out)


def _is_tar(target: Path | BackupBucket) -> bool:
    return isinstance(target, Path) and is_tar(target)


def _previous(target: Path | BackupBucket) -> BackupManifest | None:
    """The backup already at ``target``, if any; a tar file that is not one of ours is refused."""
    if _is_tar(target):
        if not target.exists():
            return None
        try:
            with reader_for(target) as reader:
                return read_manifest(reader)
        except Conflict:
            raise BadInput(f"{target} is not a PixlStash backup: give a new file name") from None
    if isinstance(target, BackupBucket):
        with reader_for(target) as reader:
            raw = reader.manifest()
    else:
        raw = (target / MANIFEST).read_bytes() if (target / MANIFEST).is_file() else None
    try:
        return None if raw is None else msgspec.json.decode(raw, type=BackupManifest)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None  # a manifest that cannot be read names nothing to reuse


def _named(target: Path | BackupBucket) -> str:
    return target.where() if isinstance(target, BackupBucket) else str(target)


def _checked_bucket(store: OriginalStore, bucket: BackupBucket) -> BackupBucket:
    if bucket.overlaps(store):
        raise BadInput(
            f"{bucket.where()} holds the library's originals, or is inside their prefix: choose another prefix"
        )
    if foreign := sorted(bucket.top_names() - _OURS):
        raise BadInput(
            f"{bucket.where()} holds other objects ({', '.join(foreign[:3])}): "
            "give an empty prefix, or one an earlier backup went to"
        )
    return bucket


def _checked_target(root: Path, target: Path) -> Path:
    target = target.expanduser().resolve()
    root = root.resolve()
    if target == root or root in target.parents or target in root.parents:
        raise BadInput("a backup cannot be inside the library, nor the library inside it: choose another folder")
    if not is_tar(target) and target.exists() and not target.is_dir():
        raise BadInput(f"{target} is a file: give a folder, or a file name ending in .tar")
    if is_tar(target) and target.exists() and not target.is_file():
        raise BadInput(f"{target} is not a file: give a new file name ending in .tar")
    if not is_tar(target) and target.is_dir():
        # A folder of ours (an earlier backup's, or one cut short) is continued; anything else is not ours.
        if any(entry.name not in _OURS for entry in target.iterdir()):
            raise BadInput(f"{target} holds other files: give an empty folder, or one an earlier backup went to")
        # A link inside would make a backup write, or delete, wherever it points.
        if (link := links_inside(target)) is not None:
            raise BadInput(f"{link} is a link or device: a backup folder holds plain files only; remove it first")
    return target


def _refuse_replacing(target: Path, previous: BackupManifest | None, pictures: int, now: int) -> None:
    if previous is None:
        return
    if previous.pictures > pictures:
        raise Conflict(
            f"{target} holds a backup of {previous.pictures:,} pictures and this library has {pictures:,}: "
            "is this the right library? Replace it only on purpose (--force; in Settings, 'Replace that backup anyway')"
        )
    if previous.created_at > now:
        raise Conflict(f"{target} holds a backup made later than now: check the clock; add --force to replace it")


def create_backup(
    library: BackupSource,
    target: Path | BackupBucket,
    *,
    with_thumbnails: bool = False,
    with_accounts: bool = False,
    force: bool = False,
    progress: Progress = quiet,
) -> BackupReport:
    """Back ``library`` up to ``target`` (a folder, a ``.tar`` file, or a bucket); see the module's docstring."""
    began = time.monotonic()
    root = Path(library.root)
    warnings: list[str] = []
    if isinstance(target, BackupBucket):
        target = _checked_bucket(library.store, target)
    else:
        target = _checked_target(root, Path(target))
        if container_layer(target):
            lost = (
                f"{target} is inside the container, not on a mounted volume: it is gone when the container is "
                "recreated (an upgrade does that)"
            )
            if not force:
                raise BadInput(f"{lost}. Back up to a volume (compose.yaml mounts one at /backups), or add --force")
            warnings.append(lost)
    previous = _previous(target)
    known = previous.files if previous and not _is_tar(target) else {}
    created = int(time.time() * 1000)
    backup_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime(created / 1000)) + "-" + secrets.token_hex(3)
    places = [name for name in DATABASES if with_accounts or name not in ACCOUNTS]
    files: dict[str, FileEntry] = {}
    problems: list[str] = []
    written = [0, 0, 0]  # files, bytes, originals copied inside a bucket
    with tempfile.TemporaryDirectory(dir=library.scratch, prefix="backup-") as scratch:
        copies = {}
        for name in places:  # first: what they refer to is then in the library for sure
            source = root / name
            if source.is_file():
                copies[name] = Path(scratch) / name.replace("/", "-")
                copy_database_file(source, copies[name])
        left_out = [] if with_accounts else _secrets_named(library.secrets.all())
        originals, in_reference = stored_originals(copies["library.db"])
        if not force:
            _refuse_replacing(target, previous, len(originals) + in_reference, created)
        writer = writer_for(target, library.store, Path(scratch))

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
            databases = {}
            for name, copy in copies.items():
                databases[name] = f"databases/{backup_id}/{name}"
                put_path(databases[name], copy)
            others = _other_files(root, with_thumbnails)
            total = sum(size for *_, size in originals) + sum(path.stat().st_size for _, path in others)
            done = 0
            # Folders take originals on several threads (hashing and copying release the GIL); a tar
            # file is one stream, written in order.
            workers = 1 if _is_tar(target) else 8 if isinstance(target, BackupBucket) else min(4, os.cpu_count() or 1)
            lock = threading.Lock()

            def one(original: tuple[str, str, int]) -> None:
                nonlocal done
                content_hash, suffix, size = original
                name = f"originals/{content_hash[:2]}/{content_hash[2:4]}/{content_hash}{suffix}"
                if reusable(name, size):
                    entry, problem, adopted = known[name], None, False
                else:
                    entry, problem, adopted = _put_original(library.store, writer, name, content_hash, suffix)
                with lock:
                    if entry is not None:
                        files[name] = entry
                        if entry is not known.get(name):
                            written[0] += 1
                            written[1] += 0 if adopted else entry.size
                            written[2] += adopted
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
                with_accounts=with_accounts,
            )
            encoded = msgspec.json.format(msgspec.json.encode(manifest))
            if not _is_tar(target):  # each kept database set carries its own manifest, to restore it by id
                writer.put(f"databases/{backup_id}/{MANIFEST}", io.BytesIO(encoded))
            writer.finish(encoded)
        except BaseException:
            writer.abandon()
            raise
    kept = [] if _is_tar(target) else _keep_newest_databases(target, backup_id)
    return BackupReport(
        _named(target),
        backup_id,
        len(files),
        written[0],
        written[1],
        sum(entry.size for entry in files.values()),
        round(time.monotonic() - began, 3),
        problems,
        with_accounts,
        left_out,
        kept,
        written[2],
        warnings,
    )


def _secrets_named(stored: dict[str, dict[str, str]]) -> list[str]:
    """``plugin.field`` of each secret the library keeps (a remembered store's as ``storage:previous.field``)."""
    return sorted(f"{key.removeprefix('plugin:')}.{field}" for key, fields in stored.items() for field in fields)


def _put_original(
    store: OriginalStore, writer, name: str, content_hash: str, suffix: str
) -> tuple[FileEntry | None, str | None, bool]:
    """The original into the backup: its entry, a problem to report if it is missing or damaged, and
    whether the bucket copied it itself."""
    try:
        if (entry := writer.adopt(content_hash, suffix, name)) is not None:  # copied inside a bucket
            return entry, None, True
        local = store.local_path(content_hash, suffix)
        if local is not None:
            size, digest = writer.put_file(name, local)
        else:
            # Read twice when the bytes are not the original's: a read changed on its way (a faulty line,
            # a proxy) is not a damaged original.
            for _ in range(2):
                with store.open(content_hash, suffix) as source:
                    size, digest = writer.put(name, source)
                if digest == content_hash:
                    break
    except FileNotFoundError:
        return None, f"missing from the library: original {content_hash}{suffix} (nothing to back up)", False
    if digest != content_hash:
        problem = f"damaged in the library: original {content_hash}{suffix} does not match its hash (kept as it is)"
        return FileEntry(size, digest), problem, False
    return FileEntry(size, digest), None, False


def _other_files(root: Path, with_thumbnails: bool) -> list[tuple[str, Path]]:
    found = []
    folders = ["snapshots/chunks", "watermarks"] + (["thumbnails"] if with_thumbnails else [])
    for folder in folders:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and not path.name.startswith(".") and not relative.startswith(_CACHES):
                found.append((relative, path))
    return found


def kept_backups(target: Path | BackupBucket) -> list[BackupManifest]:
    """The backups whose databases a backup folder or bucket keeps, newest first (each restorable by its id)."""
    found = []
    for raw in _kept_manifests(target):
        try:
            found.append(msgspec.json.decode(raw, type=BackupManifest))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
    return sorted(found, key=lambda m: (m.created_at, m.backup_id), reverse=True)


def _kept_manifests(target: Path | BackupBucket) -> list[bytes]:
    if isinstance(target, BackupBucket):
        names = [n for n in target.listing("databases/") if n.count("/") == 2 and n.endswith("/" + MANIFEST)]
        with reader_for(target) as reader:
            return [raw for name in names if (raw := reader.manifest(name)) is not None]
    folder = Path(target).expanduser() / "databases"
    found = []
    for entry in folder.iterdir() if folder.is_dir() and not folder.is_symlink() else []:
        manifest = entry / MANIFEST
        if entry.is_dir() and not entry.is_symlink() and manifest.is_file() and not manifest.is_symlink():
            found.append(manifest.read_bytes())
    return found


def _keep_newest_databases(target: Path | BackupBucket, backup_id: str) -> list[str]:
    """Keep this backup's databases and those of the KEEP - 1 whole backups before it; remove the rest
    (older sets, and those of runs cut short). A folder was checked to hold no link."""
    earlier = [m.backup_id for m in kept_backups(target) if m.backup_id != backup_id]
    kept = [backup_id, *earlier[: KEEP - 1]]
    if isinstance(target, BackupBucket):
        for name in target.listing("databases/"):
            if name.split("/")[1] not in kept:
                target.delete(name)
        return kept
    for entry in (target / "databases").iterdir():
        if entry.name not in kept:
            remove_tree(entry)
    return kept
