"""The snapshot service: taking, listing, previewing, restoring, pruning and scheduling snapshots."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import msgspec

from ..db.copies import check_and_upgrade, copy_database, overwrite_with
from ..db.database import Database
from ..db.history_outbox import new_history_mark
from ..db.pictures import PictureStore
from ..db.schema import SCHEMA_VERSION, migrate
from ..db.settings import SettingsStore
from ..db.snapshot_catalog import CATALOG_MIGRATIONS, SnapshotCatalog, SnapshotRow
from ..db.snapshot_diff import SnapshotDiff
from ..db.vectors import VectorStore
from ..domain import Id
from ..errors import BadInput, Conflict, NotFound
from ..files.originals import OriginalStore
from ..index import carry
from ..index.indexes import VectorIndexes
from ..index.near_duplicates import NearDuplicateIndex
from ..system.clock import Clock, now_ms
from ..system.events import Event, EventBus
from ..system.scratch import ScratchArea, sweep
from .chunks import CHUNK_BYTES, ChunkStore, SnapshotDamaged
from .lock import BUSY, folder_lock
from .vfs import ChunkedSnapshot, forget, snapshot_uri

__all__ = ["RestoreResource", "SnapshotService", "SnapshotSettings"]

# A restore someone asked for waits this long for a snapshot in progress (the scheduled one, say) rather
# than fail at once; a snapshot of 100,000 pictures takes seconds.
_RESTORE_WAIT = 60.0

log = logging.getLogger(__name__)

WINDOW_CHUNKS = 256  # chunks read, hashed and compressed at a time while taking a snapshot (16 MiB)

Kind = Literal["DAILY", "WEEKLY", "MONTHLY", "MANUAL", "SAFETY"]
RETENTION = {"DAILY": 7, "WEEKLY": 4, "MONTHLY": 12, "SAFETY": 5}
_PERIOD_MS = {"DAILY": 86_400_000, "WEEKLY": 7 * 86_400_000, "MONTHLY": 30 * 86_400_000}


class SnapshotSettings(msgspec.Struct, frozen=True):
    schedule_enabled: bool = True


_ORGANISING = ("set", "character", "project")


class RestoreResource(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    type: Literal["picture", "set", "character", "project"]
    id: Id


class SnapshotService:
    """Snapshots of ``library_db`` kept in ``folder``; a restore also resets what caches the database (the
    vector ``indexes``, the ``near_duplicates``) and checks the originals in ``store``."""

    def __init__(
        self,
        folder: Path,
        library_db: Database,
        pictures: PictureStore,
        vectors: VectorStore,
        store: OriginalStore,
        indexes: VectorIndexes,
        near_duplicates: NearDuplicateIndex,
        events: EventBus,
        *,
        clock: Clock = now_ms,
    ) -> None:
        self.library_db, self.pictures, self.vectors, self.store = library_db, pictures, vectors, store
        self.indexes, self.near_duplicates, self.events = indexes, near_duplicates, events
        self.clock = clock  # stamps snapshots and decides what the schedule owes (simulations set their own)
        self.root = Path(folder)
        (self.root / "chunks").mkdir(parents=True, exist_ok=True)
        self.db = Database(self.root / "catalog.db")
        migrate(self.db.connection, CATALOG_MIGRATIONS)
        self.catalog = SnapshotCatalog(self.db)
        self.settings_store = SettingsStore(self.db, "catalog_settings")
        self.chunks = ChunkStore(self.root / "chunks")
        self._lock = threading.Lock()
        self._lock_chunk_lists = threading.Lock()
        self._chunk_lists: OrderedDict[tuple[int, int], list[tuple[str, int]]] = OrderedDict()
        # Copies of the whole database pass through here: a killed process's copy is swept on start and
        # before each snapshot, so it never sits on the disk for long.
        self.scratch = ScratchArea(self.root / "scratch")  # sweeps what dead processes left in it
        self._sweep_legacy_scratch()

    def close(self) -> None:
        self.scratch.close()
        self.db.close()

    def _sweep_scratch(self) -> None:
        sweep(self.scratch.parent)
        self._sweep_legacy_scratch()

    def _sweep_legacy_scratch(self) -> None:
        for legacy in self.root.glob("tmp*"):  # scratch of versions before per-process folders
            if legacy.is_dir():
                shutil.rmtree(legacy, ignore_errors=True)

    @contextlib.contextmanager
    def _exclusive(self, wait: bool | float) -> Iterator[None]:
        """One snapshot or restore at a time, across threads and processes. ``wait``: True waits as long as
        it takes, a number that many seconds, then (or at once, with False) refuses with ``Conflict``."""
        deadline = None if wait is True else time.monotonic() + float(wait)
        if not self._lock.acquire(timeout=-1 if deadline is None else max(0.0, deadline - time.monotonic())):
            raise Conflict(BUSY)
        try:
            with folder_lock(self.root, deadline):
                yield
        finally:
            self._lock.release()

    # -- taking ---------------------------------------------------------------------------------

    def take(self, kind: Kind = "MANUAL", label: str | None = None) -> SnapshotRow:
        if kind not in ("DAILY", "WEEKLY", "MONTHLY", "MANUAL", "SAFETY"):
            raise BadInput(f"unknown snapshot kind {kind!r}")
        with self._exclusive(wait=True):
            return self._take(kind, label)

    def _take(self, kind: str, label: str | None) -> SnapshotRow:
        started = time.perf_counter()
        self._sweep_scratch()
        with tempfile.TemporaryDirectory(dir=self.scratch.path) as scratch:
            copy = Path(scratch) / "copy.db"
            facts = copy_database(self.library_db.connection, copy)
            picture_count, schema_version, page_size = facts.picture_count, facts.schema_version, facts.page_size
            size = copy.stat().st_size
            digests = self._store_chunks(copy)
        created = self.clock()
        with self.db.write():
            snapshot_id = self.catalog.add_snapshot(
                kind, label, created, picture_count, schema_version, page_size, size, CHUNK_BYTES, digests
            )
        log.info(
            "snapshot %s (%s) of %d pictures in %.2f s", snapshot_id, kind, picture_count, time.perf_counter() - started
        )
        return self.catalog.snapshot(snapshot_id)

    def _store_chunks(self, copy: Path) -> list[str]:
        """The copy's chunk digests; new chunks are compressed and stored. Read a window at a time, so
        memory stays flat however large the library (the whole copy once sat in memory: 1.3 GB at 1M)."""
        digests: list[str] = []
        stored_now: set[str] = set()
        with open(copy, "rb") as source, ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
            while window := _read_window(source):
                named = [(hashlib.blake2b(block, digest_size=32).hexdigest(), block) for block in window]
                digests.extend(digest for digest, _ in named)
                candidates = {digest: block for digest, block in named if digest not in stored_now}
                known = self.catalog.known_chunks(list(candidates))
                new = {digest: block for digest, block in candidates.items() if digest not in known}
                # zstd releases the GIL: the window's new chunks compress on every core.
                sizes = dict(zip(new, pool.map(lambda item: self.chunks.write(*item), new.items()), strict=True))
                with self.db.write():
                    for digest, stored in sizes.items():
                        self.catalog.add_chunk(digest, len(new[digest]), stored)
                stored_now.update(new)
        return digests

    # -- reading back ---------------------------------------------------------------------------

    def list(self) -> list[SnapshotRow]:
        return self.catalog.snapshots()

    def get(self, snapshot_id: int, *, sized: bool = True) -> SnapshotRow:
        row = self.catalog.snapshot(snapshot_id, sized=sized)
        if row is None:
            raise NotFound(f"snapshot {snapshot_id} does not exist")
        return row

    @staticmethod
    def is_compatible(row: SnapshotRow) -> bool:
        """This code can restore it: same or older schema (older ones are upgraded on restore)."""
        return row.schema_version <= SCHEMA_VERSION

    def _materialise(self, row: SnapshotRow, scratch: Path) -> Path:
        """The snapshot's database as a file, checked chunk by chunk and upgraded to the current schema."""
        if not self.is_compatible(row):
            raise Conflict(
                f"snapshot {row.id} was made by a newer PixlStash (schema {row.schema_version}); "
                "upgrade PixlStash to restore it"
            )
        path = scratch / f"snapshot-{row.id}.db"
        with open(path, "wb") as out:
            for digest, raw_bytes in self._chunk_list(row):
                out.write(self.chunks.read(digest, raw_bytes))
        if not check_and_upgrade(path):
            raise SnapshotDamaged(f"snapshot {row.id} does not pass SQLite's integrity check")
        return path

    def verify(self, snapshot_id: int) -> None:
        """Raise ``SnapshotDamaged`` unless every chunk is present and matches its checksum."""
        row = self.get(snapshot_id, sized=False)
        for digest, raw_bytes in self._chunk_list(row):
            self.chunks.read(digest, raw_bytes, full_check=True)

    def _chunk_list(self, row: SnapshotRow) -> list[tuple[str, int]]:
        """The snapshot's chunks, remembered for the last few snapshots opened: a snapshot never changes,
        and (id, creation time) names one even if another process deletes it and reuses the id."""
        key = (row.id, row.created_at)
        with self._lock_chunk_lists:
            chunks = self._chunk_lists.get(key)
            if chunks is not None:
                self._chunk_lists.move_to_end(key)
                return chunks
        chunks = self.catalog.chunk_list(row.id)
        with self._lock_chunk_lists:
            self._chunk_lists[key] = chunks
            while len(self._chunk_lists) > 4:
                self._chunk_lists.popitem(last=False)
        return chunks

    @contextlib.contextmanager
    def _opened(self, row: SnapshotRow) -> Iterator[str]:
        """A name SQLite can open the snapshot by: its chunks through the snapshot VFS when the schema is
        current, else a reassembled copy upgraded by the migrations."""
        if not self.is_compatible(row):
            raise Conflict(
                f"snapshot {row.id} was made by a newer PixlStash (schema {row.schema_version}); "
                "upgrade PixlStash to restore it"
            )
        if row.schema_version == SCHEMA_VERSION:
            placeholder = self.root / "open" / f"{row.id}-{uuid.uuid4().hex}.db"
            snapshot = ChunkedSnapshot(self.chunks, self._chunk_list(row), row.chunk_bytes)
            try:
                yield snapshot_uri(placeholder, snapshot)
            finally:
                forget(placeholder)
            return
        with tempfile.TemporaryDirectory(dir=self.scratch.path) as scratch:
            yield str(self._materialise(row, Path(scratch)))

    @contextlib.contextmanager
    def _attached(self, row: SnapshotRow) -> Iterator[SnapshotDiff]:
        with self._opened(row) as name, SnapshotDiff.attached(self.library_db.path, name) as diff:
            yield diff

    # -- previews -------------------------------------------------------------------------------

    def preview(self, snapshot_id: int) -> dict[str, object]:
        """What a full restore would change, counting only real changes."""
        row = self.get(snapshot_id, sized=False)
        with self._attached(row) as diff:
            candidates, recreate, delete = diff.picture_sets()
            live, snap = diff.signatures("main", candidates), diff.signatures("snap", candidates)
            revert = [pid for pid in candidates if live.get(pid) != snap.get(pid)]
            both = diff.count("snap") - len(recreate)
            missing = self._missing_files(diff, recreate)
            gone, back = diff.organisation_changes()
        warnings = []
        if row.schema_version < SCHEMA_VERSION:
            warnings.append(f"the snapshot has schema {row.schema_version}; it will be upgraded to {SCHEMA_VERSION}")
        if missing:
            warnings.append(f"{missing} pictures in the snapshot have no original file any more")
        return {
            "summary": {
                "pictures_to_revert": len(revert),
                "pictures_to_recreate": len(recreate),
                "pictures_to_delete": len(delete),
                "pictures_unchanged": both - len(revert),
                "missing_files": missing,
                **{f"{kind}s_to_delete": sum(1 for k, _, _ in gone if k == kind) for kind in _ORGANISING},
                **{f"{kind}s_to_recreate": sum(1 for k, _, _ in back if k == kind) for kind in _ORGANISING},
            },
            "to_delete": [{"type": kind, "id": i, "name": name} for kind, i, name in gone],
            "to_recreate": [{"type": kind, "id": i, "name": name} for kind, i, name in back],
            "warnings": warnings,
        }

    def _missing_files(self, diff: SnapshotDiff, recreate: list[int]) -> int:
        missing = diff.missing_in_both()
        for _pid, content_hash, suffix, managed in diff.snapshot_files(recreate):
            if not (managed and self.store.exists(content_hash, suffix)):
                missing += 1
        return missing

    def preview_batch(self, snapshot_id: int, resources: list[RestoreResource]) -> dict[str, object]:
        """For each listed picture, the fields a selective restore would change (before and after)."""
        row = self.get(snapshot_id, sized=False)
        changes, errors = [], []
        with self._attached(row) as diff:
            ids = [r.id for r in resources if r.type == "picture"]
            live, snap = diff.signatures("main", ids), diff.signatures("snap", ids)
            for resource in resources:
                if resource.type != "picture":
                    changes.append(
                        {
                            "type": resource.type,
                            "id": resource.id,
                            "change": "revert"
                            if diff.exists("snap", self._table(resource), resource.id)
                            else "not_in_snapshot",
                        }
                    )
                    continue
                before, after = live.get(resource.id), snap.get(resource.id)
                if after is None:
                    errors.append({"type": "picture", "id": resource.id, "error": "not in the snapshot"})
                    continue
                fields = {
                    k: {"now": (before or {}).get(k), "restored": v}
                    for k, v in after.items()
                    if before is None or before.get(k) != v
                }
                changes.append(
                    {
                        "type": "picture",
                        "id": resource.id,
                        "change": "recreate" if before is None else "revert" if fields else "unchanged",
                        "fields": fields,
                    }
                )
        return {"snapshot_id": snapshot_id, "changes": changes, "errors": errors}

    @staticmethod
    def _table(resource: RestoreResource) -> str:
        return {"picture": "pictures", "set": "collections", "character": "collections", "project": "projects"}[
            resource.type
        ]

    # -- restoring ------------------------------------------------------------------------------

    def restore(self, snapshot_id: int) -> dict[str, object]:
        """Full restore: safety snapshot, then one atomic switch of all metadata."""
        row = self.get(snapshot_id, sized=False)
        with self._exclusive(wait=_RESTORE_WAIT), self._opened(row) as name:
            self.verify(snapshot_id)  # every chunk, before anything happens: a damaged snapshot stops here
            safety = self._take("SAFETY", f"before restoring snapshot {snapshot_id}")  # no safety net, no restore
            # No writes from here to the end: the vector indexes carried over must see the switch alone.
            with self.library_db.write_lock, contextlib.ExitStack() as held:
                with SnapshotDiff.attached(self.library_db.path, name) as diff:
                    carries = carry.plan(self.indexes, diff, held)
                # Saved indexes go before the switch: the switch and the new epoch are two steps, and a
                # crash between them must not leave an index file that looks current for the restored data.
                self.indexes.delete_saved()
                access = self.pictures.visibility.snapshot()  # who may see what stays as it is now
                overwrite_with(self.library_db.connection, name)
                with self.library_db.write():
                    self.pictures.visibility.put_back(access)
                    self.vectors.new_epoch()  # indexes from before the restore no longer count
                    new_history_mark(self.library_db.connection)  # and neither do undo steps
                carry.apply(self.vectors, carries)
            missing = self._count_missing_files()
        self._after_restore()
        self.library_db.optimize()  # every table changed: let SQLite refresh its statistics
        self.events.publish(Event("library.restored", data={"snapshot_id": snapshot_id}))
        return {
            "snapshot_id": snapshot_id,
            "resource_type": "full",
            "missing_files_count": missing,
            "errors": [],
            "safety_snapshot_id": safety.id,
        }

    def _count_missing_files(self) -> int:
        store = self.store
        return sum(
            1
            for content_hash, suffix, managed, missing in self.pictures.file_states()
            if missing or (managed and not store.exists(content_hash, suffix))
        )

    def _after_restore(self) -> None:
        self.near_duplicates.invalidate()  # recreated or removed pictures change the hash set

    def restore_batch(
        self, snapshot_id: int, resources: list[RestoreResource], recreate_missing: bool = False
    ) -> dict[str, object]:
        """Restore only the listed resources; everything else stays exactly as it is."""
        row = self.get(snapshot_id, sized=False)
        errors: list[dict[str, object]] = []
        restored: list[RestoreResource] = []
        with self._exclusive(wait=_RESTORE_WAIT), self._attached(row) as diff:
            listed = [r.id for r in resources if r.type == "picture"]
            in_snapshot = diff.pictures_in_snapshot(listed)
            taken = diff.hashes_taken(listed)
            missing_refs = self._missing_references(diff, resources, in_snapshot)
            if missing_refs and not recreate_missing:
                raise Conflict(
                    "the snapshot refers to things that no longer exist; restore them too or ask to recreate them",
                    missing=missing_refs,
                )
            with diff.transaction():
                for ref in missing_refs:  # projects first: collections may belong to them
                    if ref["type"] == "project":
                        diff.copy_row("projects", ref["id"])
                    else:
                        diff.recreate_collection(ref["id"])
                pictures: list[int] = []
                for resource in resources:
                    error = (
                        self._check_picture(resource, in_snapshot, taken)
                        if resource.type == "picture"
                        else (self._restore_one(diff, resource))
                    )
                    if error:
                        errors.append({"type": resource.type, "id": resource.id, "error": error})
                    else:
                        restored.append(resource)
                        if resource.type == "picture":
                            pictures.append(resource.id)
                diff.restore_pictures(pictures)  # all listed pictures at once
                # Undo steps that changed what came back would now undo over it: they go, the others stay.
                diff.forget_history_touching([r.id for r in restored])
        picture_ids = [r.id for r in restored if r.type == "picture"]
        if picture_ids:
            with self.library_db.write():
                self.pictures.refresh_text(picture_ids)
        self._after_restore()
        self.events.publish(Event("picture.changed", picture_ids, {"restored_from": snapshot_id}))
        return {"snapshot_id": snapshot_id, "upserted_count": len(restored), "errors": errors}

    @staticmethod
    def _check_picture(resource: RestoreResource, in_snapshot: set[int], taken: dict[int, int]) -> str | None:
        if resource.id not in in_snapshot:
            return "not in the snapshot"
        if resource.id in taken:
            return f"its file is now picture {taken[resource.id]}"
        return None

    def _missing_references(
        self, diff: SnapshotDiff, resources: list[RestoreResource], in_snapshot: set[int]
    ) -> list[dict[str, object]]:
        """Sets, characters and projects the restored resources point at that exist only in the snapshot."""
        restoring = {(r.type, r.id) for r in resources}
        wanted_collections, wanted_projects = diff.picture_references(sorted(in_snapshot))
        for resource in resources:
            if resource.type in ("set", "character") and diff.exists("snap", "collections", resource.id):
                project = diff.snapshot_project_of(resource.id)
                if project is not None:
                    wanted_projects.add(project)
        missing = []
        for project_id in sorted(wanted_projects):
            if not diff.exists("main", "projects", project_id) and ("project", project_id) not in restoring:
                name = diff.snapshot_project_name(project_id)
                missing.append({"type": "project", "id": project_id, "name": name})
        for collection_id in sorted(wanted_collections):
            if not diff.exists("main", "collections", collection_id):
                kind, name = diff.snapshot_collection(collection_id)
                if (kind, collection_id) not in restoring:
                    missing.append({"type": kind, "id": collection_id, "name": name})
        return missing

    def _restore_one(self, diff: SnapshotDiff, resource: RestoreResource) -> str | None:
        """Restore a set, character or project (pictures are restored together, set by set)."""
        if not diff.exists("snap", self._table(resource), resource.id):
            return "not in the snapshot"
        if resource.type in ("set", "character"):
            kind = diff.snapshot_collection(resource.id)[0]
            if kind != resource.type:
                return f"{resource.id} is a {kind} in the snapshot"
            gone = diff.restore_collection(resource.id)
            if gone:
                return f"restored without {len(gone)} pictures that no longer exist"
        else:
            gone = diff.restore_project(resource.id)
            if gone:
                return f"restored without {len(gone)} pictures that no longer exist"
        return None

    # -- managing -------------------------------------------------------------------------------

    def relabel(self, snapshot_id: int, label: str | None) -> SnapshotRow:
        with self.db.write():
            if not self.catalog.relabel(snapshot_id, label):
                raise NotFound(f"snapshot {snapshot_id} does not exist")
        return self.get(snapshot_id)

    def delete(self, snapshot_id: int) -> int:
        """Delete a snapshot; frees only chunks no other snapshot uses. Returns bytes freed."""
        with self._exclusive(wait=True):
            with self.db.write():
                if not self.catalog.delete(snapshot_id):
                    raise NotFound(f"snapshot {snapshot_id} does not exist")
            return self._collect_garbage()

    def _collect_garbage(self) -> int:
        orphans = self.catalog.unreferenced_chunks()
        freed = 0
        for digest in orphans:
            path = self.chunks.path(digest)
            with contextlib.suppress(OSError):
                freed += path.stat().st_size
            self.chunks.delete(digest)
        with self.db.write():
            self.catalog.forget_chunks(orphans)
        self.chunks.sweep(self.catalog.all_chunk_hashes())  # files of snapshots a crash cut short
        return freed

    def settings(self) -> SnapshotSettings:
        return self.settings_store.get("settings", SnapshotSettings, SnapshotSettings())

    def configure(self, schedule_enabled: bool) -> SnapshotSettings:
        settings = SnapshotSettings(schedule_enabled=schedule_enabled)
        self.settings_store.put("settings", settings)
        return settings

    def run_schedule(self) -> list[SnapshotRow]:
        """Take the automatic snapshots that are due and prune by grandfather-father-son retention."""
        if not self.settings().schedule_enabled:
            return []
        if not self.pictures.ids_above(0, limit=1):
            # An empty library has nothing to keep, and a snapshot of it is a trap: restoring "snapshot 1"
            # after the first import would empty the library again. The schedule starts with the first picture.
            return []
        taken = []
        with self._exclusive(wait=True):
            now = self.clock()
            for kind in ("MONTHLY", "WEEKLY", "DAILY"):
                newest = self.catalog.newest(kind)
                if newest is None or now - newest >= _PERIOD_MS[kind] - 3_600_000:  # an hour's slack
                    taken.append(self._take(kind, None))
            self._prune()
        return taken

    def _prune(self) -> None:
        doomed = [sid for kind, keep in RETENTION.items() for sid in self.catalog.ids_of_kind(kind)[keep:]]
        if doomed:
            with self.db.write():
                for snapshot_id in doomed:
                    self.catalog.delete(snapshot_id)
            self._collect_garbage()


def _read_window(source) -> list[bytes]:
    window = []
    while len(window) < WINDOW_CHUNKS and (block := source.read(CHUNK_BYTES)):
        window.append(block)
    return window
