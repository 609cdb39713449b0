"""Watched import folders and in-place reference folders.

Import folder: new files are copied into the library, optionally deleted afterwards (only once the
library's own copy is stored). A file is imported only once its modification time is older than the
folder's ``settle_seconds`` and its size did not change while we looked, so a half-written file is
never imported, and a recorded (path, size, mtime) means a file is never imported twice.

Reference folder: files are indexed where they are and never modified, moved or deleted by us (a
purge may delete one only where the folder allows it). A rescan finds new, changed, moved (same
content at a new path) and removed files; sidecar ``.txt`` files are read when they change. A picture
purged from the scrapheap stays out of the library on rescans until its file changes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from ..db.collections import CollectionStore
from ..db.database import Database
from ..db.folders import FolderFile, FolderStore
from ..db.pictures import PictureStore
from ..db.tags import TagStore
from ..db.vectors import VectorStore
from ..domain import Folder, FolderOptions, ImportReport, ImportSkip, PhotoMetadata
from ..errors import BadInput, Conflict, TooLarge, UnsupportedMedia
from ..files.originals import OriginalStore
from ..files.sidecars import read_sidecar, sidecar_path
from ..index.near_duplicates import NearDuplicateIndex
from ..media.analyse import analyse_file, open_image
from ..media.exif import read_exif
from ..media.facts import MediaAnalysis, MediaLimits
from ..media.hashing import content_hash
from ..media.raw import file_exif, raw_info
from ..media.thumbnails import ThumbnailCache
from ..media.xmp import read_photo_metadata, sidecar_stamp
from ..system.clock import now_ms
from ..system.events import Event, EventBus
from ..system.paths import inside
from .folder_claims import FolderClaims
from .importer import Importer, ImportTarget, ReferenceTarget
from .photo_facts import apply_people, apply_photo_metadata
from .sources import COMPANION_SUFFIXES, MEDIA_SUFFIXES, ImportItem, display_name

__all__ = ["FolderScanReport", "FolderService", "FolderWatcher"]

log = logging.getLogger(__name__)


class FolderScanReport(msgspec.Struct):
    folder_id: int
    report: ImportReport
    moved: int = 0
    changed: int = 0
    removed: int = 0
    waiting: int = 0  # files still being written: looked at again next scan


def _walk_media(root: Path, report: ImportReport) -> dict[str, os.stat_result]:
    """rel_path -> stat of every media file under ``root`` (hidden files and folders skipped)."""
    found: dict[str, os.stat_result] = {}

    def on_error(error: OSError) -> None:
        report.skipped.append(
            ImportSkip(display_name(error.filename or root), f"unreadable folder: {error.strerror or error}")
        )

    for folder, dirs, files in os.walk(root, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith("."):
                continue
            path = Path(folder) / name
            suffix = path.suffix.lower()
            if suffix not in MEDIA_SUFFIXES:
                if suffix not in COMPANION_SUFFIXES:
                    report.skipped.append(ImportSkip(display_name(path), "not a picture or video"))
                continue
            if path.is_symlink() and inside(path, root) is None:
                report.skipped.append(ImportSkip(display_name(path), "a link to somewhere outside the folder"))
                continue
            try:
                found[os.path.relpath(path, root)] = path.stat()
            except OSError as error:
                report.skipped.append(ImportSkip(display_name(path), f"cannot read: {error.strerror or error}"))
    return found


class FolderService:
    """Adding, removing and scanning folders. ``new_importer`` makes the importer a scan feeds."""

    def __init__(
        self,
        library_root: Path,
        db: Database,
        folders: FolderStore,
        pictures: PictureStore,
        tags: TagStore,
        collections: CollectionStore,
        store: OriginalStore,
        thumbnails: ThumbnailCache,
        near_duplicates: NearDuplicateIndex,
        events: EventBus,
        *,
        limits: MediaLimits,
        new_importer: Callable[[], Importer],
    ) -> None:
        self.library_root, self.db, self.folders, self.pictures = Path(library_root), db, folders, pictures
        self.tags, self.collections, self.store, self.thumbnails = tags, collections, store, thumbnails
        self.near_duplicates, self.events, self.limits = near_duplicates, events, limits
        self.new_importer = new_importer
        self._scan_lock = threading.Lock()
        self.claims = FolderClaims(self.library_root)  # import folders this process watches (folder_claims.py)

    def close(self) -> None:
        self.claims.release_all()

    def add(self, kind: str, path: Path | str, options: FolderOptions | None = None) -> Folder:
        if kind not in ("import", "reference"):
            raise BadInput("a folder is an 'import' or a 'reference' folder")
        folder = Path(path).expanduser().resolve()
        if not folder.exists():
            raise BadInput(f"{folder} does not exist: make it first (mkdir -p {folder}), then add it")
        if not folder.is_dir():
            raise BadInput(f"{folder} is not a folder")
        library_root = self.library_root.resolve()
        if folder == library_root or library_root in folder.parents or folder in library_root.parents:
            raise BadInput("a library folder cannot contain, or be inside, the library itself")
        options = options or FolderOptions()
        _check_options_fit(kind, options)
        ImportTarget.checked(self.collections, options.project_id, options.collection_ids)
        if kind == "import" and not options.paused:
            self.claims.claim(folder)
        with self.db.write():
            folder_id = self.folders.add(kind, str(folder), options, now_ms())
        self.events.publish(Event("folder.changed", data={"folder_id": folder_id}))
        return self.folders.get(folder_id)

    def remove(self, folder_id: int) -> None:
        """Stop watching a folder. Pictures stay; those only found there become missing."""
        path = self.folders.get(folder_id).path
        with self.db.write():
            orphans = self.folders.picture_ids(folder_id)
            self.folders.remove(folder_id)
            self._mark_missing(orphans)
        self.claims.release(path)
        self.events.publish(Event("folder.changed", data={"folder_id": folder_id, "removed": True}))

    def set_paused(self, folder_id: int, paused: bool) -> Folder:
        """Pause watching a folder, or resume it (refused when another running library watches it)."""
        folder = self.folders.get(folder_id)
        if paused:
            self.claims.release(folder.path)
        elif folder.kind == "import":
            self.claims.claim(folder.path)
        with self.db.write():
            self.folders.set_options(folder_id, msgspec.structs.replace(folder.options, paused=paused))
        self.events.publish(Event("folder.changed", data={"folder_id": folder_id}))
        return self.folders.get(folder_id)

    def set_write_xmp(self, folder_id: int, write_xmp: bool) -> Folder:
        """Keep a reference folder's ``.xmp`` sidecars for photo software as pictures change, or stop."""
        folder = self.folders.get(folder_id)
        # Only what is asked now is checked: a folder stored before add() refused ill-fitting options can
        # still be switched off.
        _check_options_fit(folder.kind, FolderOptions(write_xmp=write_xmp))
        with self.db.write():
            self.folders.set_options(folder_id, msgspec.structs.replace(folder.options, write_xmp=write_xmp))
        self.events.publish(Event("folder.changed", data={"folder_id": folder_id}))
        return self.folders.get(folder_id)

    def _mark_missing(self, picture_ids: list[int]) -> None:
        for picture_id in picture_ids:
            _, _, managed = self.pictures.address(picture_id)
            if not managed and not self.folders.locations(picture_id):
                self.pictures.set_missing(picture_id, True)

    def scan(self, folder_id: int) -> FolderScanReport:
        folder = self.folders.get(folder_id)
        if folder.options.paused:
            raise Conflict(
                f"folder {folder_id} ({folder.path}) is paused: resume it first (pixlstash folders resume {folder_id})"
            )
        if folder.kind == "import":
            self.claims.claim(folder.path)
        with self._scan_lock:
            result = (self._scan_import if folder.kind == "import" else self._scan_reference)(folder)
            with self.db.write():
                self.folders.mark_scanned(folder_id, now_ms())
        return result

    def scan_all(self) -> list[FolderScanReport]:
        """Scan every folder that is not paused."""
        return [self.scan(folder.id) for folder in self.folders.all() if not folder.options.paused]

    # -- import folders -------------------------------------------------------------------------

    def _scan_import(self, folder: Folder) -> FolderScanReport:
        root, options = Path(folder.path), folder.options
        result = FolderScanReport(folder.id, ImportReport())
        if not root.is_dir():
            result.report.skipped.append(ImportSkip(folder.path, "folder is not reachable"))
            return result
        known = self.folders.files(folder.id)
        settle_before = time.time() - options.settle_seconds
        ready: list[ImportItem] = []
        for rel_path, stat in _walk_media(root, result.report).items():
            record = known.get(rel_path)
            if record and (record.file_size, record.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                continue  # imported before and unchanged
            if stat.st_mtime > settle_before or stat.st_size == 0:
                result.waiting += 1
                continue
            path = root / rel_path
            ready.append(ImportItem(path, display_name(path), display_name(path.name)))

        def recorded(item: ImportItem, picture_id: int, is_new: bool) -> None:
            stat = item.path.stat()
            digest, suffix, managed = self.pictures.address(picture_id)
            rel_path = os.path.relpath(item.path, root)
            with self.db.write():
                self.folders.put_file(
                    folder.id, FolderFile(rel_path, picture_id, stat.st_size, stat.st_mtime_ns, digest)
                )
            if options.delete_after_import and managed and self.store.exists(digest, suffix):
                item.path.unlink(missing_ok=True)
                with self.db.write():
                    self.folders.drop_files(folder.id, [rel_path])

        # Sizes are checked again just before import: a file still growing waits for the next scan.
        stable = [item for item in ready if self._unchanged(item)]
        result.waiting += len(ready) - len(stable)
        self.new_importer().run(
            stable,
            source_id=folder.source_id,
            target=ImportTarget(options.project_id, list(options.collection_ids)),
            on_picture=recorded,
            report=result.report,
        )
        return result

    @staticmethod
    def _unchanged(item: ImportItem) -> bool:
        try:
            first = item.path.stat()
            time.sleep(0)  # yield between the two looks
            second = item.path.stat()
        except OSError:
            return False
        return (first.st_size, first.st_mtime_ns) == (second.st_size, second.st_mtime_ns)

    # -- reference folders ----------------------------------------------------------------------

    def _scan_reference(self, folder: Folder) -> FolderScanReport:
        root = Path(folder.path)
        result = FolderScanReport(folder.id, ImportReport())
        if not root.is_dir():
            result.report.skipped.append(ImportSkip(folder.path, "folder is not reachable; nothing changed"))
            return result
        known = self.folders.files(folder.id)
        on_disk = _walk_media(root, result.report)
        vanished = {rel: rec for rel, rec in known.items() if rel not in on_disk}
        vanished_by_hash = {rec.content_hash: rel for rel, rec in vanished.items()}
        to_import: list[ImportItem] = []
        for rel_path, stat in on_disk.items():
            record = known.get(rel_path)
            path = root / rel_path
            if record and (record.file_size, record.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                self._refresh_sidecar(folder, record, path)
                continue
            try:
                digest = content_hash(path)
            except OSError as error:
                result.report.skipped.append(ImportSkip(display_name(path), f"cannot read: {error.strerror}"))
                continue
            if record is None and digest in vanished_by_hash:
                old_rel = vanished_by_hash.pop(digest)
                moved = vanished.pop(old_rel)
                with self.db.write():
                    self.folders.drop_files(folder.id, [old_rel])
                    self.folders.put_file(
                        folder.id,
                        _moved_to(moved, rel_path, stat, digest),
                    )
                result.moved += 1
                continue
            if record is not None and record.content_hash == digest:
                with self.db.write():  # touched, not changed
                    self.folders.put_file(
                        folder.id,
                        _moved_to(record, rel_path, stat, digest),
                    )
                continue
            if record is not None and record.picture_id is not None:
                try:
                    repointed = self._repoint(folder, record, path, digest)
                except (UnsupportedMedia, BadInput, OSError, ValueError) as error:
                    # One damaged file (a sync cut short) must not fail the scan, and with it every later
                    # scan: it is skipped with its reason, its picture keeps what it had, the rest goes on.
                    log.warning("skipping %s in %s: %s", rel_path, folder.path, error)
                    result.report.skipped.append(ImportSkip(display_name(path), f"damaged: {error}"))
                    continue
                if repointed:
                    result.changed += 1
                    continue
            to_import.append(ImportItem(path, display_name(path), display_name(path.name)))

        def recorded(item: ImportItem, picture_id: int, is_new: bool) -> None:
            with self.db.write():
                self.pictures.set_missing(picture_id, False)
            self._apply_sidecar(folder, picture_id, item.path)

        self.new_importer().run(
            to_import,
            source_id=folder.source_id,
            target=ImportTarget(folder.options.project_id, list(folder.options.collection_ids)),
            reference=ReferenceTarget(folder.id, str(root)),
            on_picture=recorded,
            report=result.report,
        )
        if vanished:
            with self.db.write():
                self.folders.drop_files(folder.id, list(vanished))
                self._mark_missing([rec.picture_id for rec in vanished.values() if rec.picture_id is not None])
            result.removed = len(vanished)
            self.events.publish(
                Event(
                    "picture.changed",
                    [r.picture_id for r in vanished.values() if r.picture_id is not None],
                    {"fields": ["missing"]},
                )
            )
        return result

    def _repoint(self, folder: Folder, record: FolderFile, path: Path, digest: str) -> bool:
        """A file changed in place: keep the picture (tags, rating, sets) and point it at the new content,
        unless that content is already another picture or the old one lives elsewhere too."""
        if self.pictures.id_for_hash(digest) is not None:
            return False
        _, _, managed = self.pictures.address(record.picture_id)
        if managed or len(self.folders.locations(record.picture_id)) > 1:
            return False
        analysis = analyse_file(path, self.limits, known_hash=digest)
        self.thumbnails.write_made(digest, analysis.grid_thumbnail, analysis.preview_thumbnail)
        stat = path.stat()
        with self.db.write():
            self.pictures.repoint(record.picture_id, analysis)
            self.folders.put_file(
                folder.id,
                _moved_to(record, record.rel_path, stat, digest),
            )
        self.near_duplicates.invalidate()
        self.events.publish(Event("picture.changed", [record.picture_id], {"fields": ["content"]}))
        return True

    def _refresh_sidecar(self, folder: Folder, record: FolderFile, path: Path) -> None:
        if record.picture_id is None:
            return
        try:
            mtime = sidecar_path(path).stat().st_mtime_ns
        except OSError:
            mtime = None
        if mtime is not None and mtime != record.sidecar_mtime_ns:
            self._apply_sidecar(folder, record.picture_id, path)
        if (stamp := sidecar_stamp(path)) != record.xmp_mtime_ns:
            self._apply_xmp(folder, record.picture_id, path, stamp)

    def _apply_xmp(self, folder: Folder, picture_id: int, path: Path, stamp: int | None) -> None:
        """Photo software changed (or removed) the file's .xmp sidecar: what it says now replaces what the
        last reading gave (with the file's embedded packet under it, as at import)."""
        notes: list[str] = []
        analysis = MediaAnalysis("", "", "image", "", 0, 0, 0)
        try:
            image = open_image(path, self.limits)
        except (OSError, ValueError, SyntaxError, UnsupportedMedia, TooLarge):
            image = None  # a RAW, or a file Pillow cannot open: its sidecar alone
        try:
            try:  # the camera's place, which a sidecar's own place replaces
                analysis.exif = read_exif(image).fields if image is not None else file_exif(path).fields
            except OSError:
                pass
            read_photo_metadata(path, image, analysis, raw_info(path) if image is None else None)
        finally:
            if image is not None:
                image.close()
        with self.db.write():
            photo = analysis.photo or PhotoMetadata()
            apply_photo_metadata(self.tags, self.pictures, picture_id, photo, now_ms(), notes)
            _, width, height, _ = self.pictures.media_inputs([picture_id])[picture_id]
            faces = VectorStore(self.db)
            apply_people(self.collections, faces, picture_id, photo.people, (width, height), now_ms(), notes)
            self.pictures.set_place(picture_id, {k: v for k, v in analysis.exif.items() if k.startswith("gps_")})
            self.pictures.refresh_text([picture_id])
            self.folders.set_xmp_mtime(folder.id, os.path.relpath(path, folder.path), stamp)
        for note in notes:
            log.warning("%s: %s", path, note)
        changed = ["tags", "rating", "captions", "exif", "faces"]
        self.events.publish(Event("picture.changed", [picture_id], {"fields": changed}))

    def _apply_sidecar(self, folder: Folder, picture_id: int, path: Path) -> None:
        tags, caption = read_sidecar(path, folder.options.sidecar_format)
        with self.db.write():
            if tags:
                self.tags.add_to_pictures([picture_id], [self.tags.ensure(t) for t in tags], source="sidecar")
            if caption:
                self.pictures.set_caption(picture_id, "sidecar", caption, None, now_ms())
            try:
                mtime = sidecar_path(path).stat().st_mtime_ns
            except OSError:
                mtime = None
            self.folders.set_sidecar_mtime(folder.id, os.path.relpath(path, folder.path), mtime)


class FolderWatcher:
    """One pass over the watched folders (``tick``): import folders every pass, reference folders once
    ``reference_interval`` seconds have gone by. The running instance calls it periodically."""

    def __init__(self, service: FolderService, reference_interval: float = 300.0) -> None:
        self.service = service
        self.reference_interval = reference_interval
        self._last_reference_scan = 0.0
        self._refused: dict[int, str] = {}  # folders another library watches: said once, tried each pass

    def tick(self) -> None:
        service = self.service
        due_reference = time.monotonic() - self._last_reference_scan >= self.reference_interval
        for folder in service.folders.all():
            if folder.options.paused:
                continue
            if folder.kind == "import" or due_reference:
                try:
                    scan = service.scan(folder.id)
                except Conflict as refused:
                    if self._refused.get(folder.id) != refused.message:
                        log.warning("not watching %s: %s", folder.path, refused.message)
                    self._refused[folder.id] = refused.message
                    continue
                except Exception:  # one bad folder must not keep the others from being watched
                    log.exception("scanning %s failed", folder.path)
                    continue
                self._refused.pop(folder.id, None)
                if scan.report.imported or scan.moved or scan.changed or scan.removed:
                    log.info(
                        "folder %s: %d imported, %d moved, %d changed, %d removed",
                        folder.path,
                        len(scan.report.imported),
                        scan.moved,
                        scan.changed,
                        scan.removed,
                    )
        if due_reference:
            self._last_reference_scan = time.monotonic()


def _moved_to(record: FolderFile, rel_path: str, stat: os.stat_result, digest: str) -> FolderFile:
    """The record of a file now at ``rel_path`` with this size, time and content; its sidecars' stamps kept."""
    return msgspec.structs.replace(
        record, rel_path=rel_path, file_size=stat.st_size, mtime_ns=stat.st_mtime_ns, content_hash=digest
    )


def _check_options_fit(kind: str, options: FolderOptions) -> None:
    """One line for an option the folder's kind would quietly ignore: an import folder's files are copied
    in (no sidecars beside them, nothing of theirs purged); a reference folder's files are never deleted on
    import."""
    if kind == "import":
        asked = [
            said
            for name, said in (
                ("write_sidecars", "writing .txt sidecars"),
                ("write_xmp", "keeping .xmp sidecars"),
                ("allow_purge", "letting a purge delete its files"),
            )
            if getattr(options, name)
        ]
        if asked:
            said = " and ".join(asked)
            raise BadInput(f"{said}: only for a reference folder (an import folder's files are copied in)")
    elif options.delete_after_import:
        raise BadInput(
            "deleting files once imported: only for an import folder (a reference folder's stay where they are)"
        )
