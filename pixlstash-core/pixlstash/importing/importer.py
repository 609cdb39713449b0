"""The import pipeline: analyse files in parallel, commit each one in the order the files came.

Workers (threads: Pillow, hashlib and file copies release the GIL) take the largest waiting file first,
hash it, stop early when the library already has it, else analyse it, write its thumbnails and store the
original. The calling thread commits each file in its own short transaction as soon as every file before
it is committed, so pictures appear while the batch runs, ids follow the files, and a failure in one file
never touches another or anything already stored. Of two files of a run with the same bytes, only one is
analysed (whichever hashed first) and the first is the one recorded, with its name and date.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait

import msgspec

from ..db.collections import CollectionStore
from ..db.database import Database
from ..db.folders import FolderFile, FolderStore
from ..db.pictures import PictureStore
from ..db.tags import TagStore
from ..db.vectors import VectorStore
from ..domain import ImportedPicture, ImportReport, ImportSkip
from ..errors import PixlstashError
from ..files.originals import OriginalStore
from ..index.near_duplicates import NearDuplicateIndex
from ..media.analyse import MediaAnalysis, analyse_file
from ..media.facts import MediaLimits
from ..media.hashing import content_hash
from ..media.thumbnails import ThumbnailCache
from ..media.xmp import sidecar_stamp
from ..pictures.visibility import Audience, seen_by
from ..system.clock import now_ms
from ..system.events import Event, EventBus
from ..system.memory import release_when_quiet
from .arrivals import Hold
from .largest_first import LargestFirstPool
from .photo_facts import apply_people, apply_photo_metadata
from .sources import ImportItem, cleanup

__all__ = ["ImportTarget", "Importer", "ReferenceTarget", "RunningCount"]

log = logging.getLogger(__name__)

# Files prepared and waiting for one before them to be committed: their grid thumbnails are in memory.
_READY_AT_MOST = 64


def _size(item: ImportItem) -> int:
    """A file's size, which orders the workers' queue (largest first)."""
    try:
        return os.path.getsize(item.path)
    except OSError:
        return 0  # reported by ``_prepare``


class ImportTarget(msgspec.Struct, frozen=True):
    """Where imported pictures are filed, besides the library itself."""

    project_id: int | None = None
    collection_ids: list[int] = []
    # Whose pictures they become (None: the library's owner, as before accounts) and whether they stay private
    # to that account. A file already in the library joins that account's own pictures as it is.
    owner_id: int | None = None
    private: bool = False

    @classmethod
    def checked(
        cls,
        collections: CollectionStore,
        project_id: int | None,
        collection_ids: Sequence[int],
        owner_id: int | None = None,
        private: bool = False,
    ) -> ImportTarget:
        """The target; ``NotFound`` when the project or a collection does not exist."""
        if project_id is not None:
            collections.project(project_id)
        for collection_id in collection_ids:
            collections.collection(collection_id)
        return cls(project_id, list(collection_ids), owner_id, private)


class ReferenceTarget(msgspec.Struct, frozen=True):
    """Index files in place (a reference folder): no copy; record where each file lives."""

    folder_id: int
    root: str


class RunningCount:
    """How many imports run now in this process (background work waits until there are none)."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self._count += 1

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._count -= 1

    def __bool__(self) -> bool:
        return self._count > 0


class _InOrder:
    """Puts a run's report lines back in the order its files came: they finish in any order, and a
    client (the ComfyUI saver, a script) pairs what it sent with what came back."""

    _LISTS = ("imported", "duplicates", "restored", "skipped")

    def __init__(self, report: ImportReport) -> None:
        self.report, self.position = report, 0
        self.start = self._lengths()
        self.seen = dict(self.start)
        self.rank: dict[int, int] = {}
        self.later: dict[int, int] = {}  # a file of this batch with the same bytes as another: its position

    def _lengths(self) -> dict[str, int]:
        return {name: len(getattr(self.report, name)) for name in self._LISTS}

    @contextlib.contextmanager
    def lines_of(self, position: int):
        """Lines added inside the block belong to the file at ``position``."""
        self.position = position
        try:
            yield
        finally:
            self.rank_new_lines()

    def rank_new_lines(self) -> None:
        for name in self._LISTS:
            lines = getattr(self.report, name)
            for line in lines[self.seen[name] :]:
                self.rank[id(line)] = self.position
            self.seen[name] = len(lines)

    def apply(self) -> None:
        for name in self._LISTS:
            lines, start = getattr(self.report, name), self.start[name]
            lines[start:] = sorted(lines[start:], key=lambda line: self.rank.get(id(line), 1 << 62))


class _Prepared(msgspec.Struct):
    item: ImportItem
    analysis: MediaAnalysis


class _Duplicate(msgspec.Struct):
    item: ImportItem
    content_hash: str
    picture_id: int | None  # None: another file of this batch holds the same bytes
    adopted: bool = False  # the picture was only referenced; its original is now stored too
    claimant: int | None = None  # the position of the file of this run preparing those bytes


class _Skipped(msgspec.Struct):
    item: ImportItem
    reason: str


def _skipped(item: ImportItem, reason: str) -> _Skipped:
    """A skip whose reason names the file as the user knows it: a decoder's message (FFmpeg's, libraw's)
    quotes the path it opened, which for an upload is a temporary file of the server's."""
    return _Skipped(item, reason.replace(str(item.path), item.display))


class Importer:
    """One import run's pipeline. ``unscrap`` brings back a scrapped picture imported again;
    ``after_import`` gets the ids of new pictures (the library queues their on-import enrichment)."""

    def __init__(
        self,
        db: Database,
        pictures: PictureStore,
        folders: FolderStore,
        collections: CollectionStore,
        store: OriginalStore,
        thumbnails: ThumbnailCache,
        near_duplicates: NearDuplicateIndex,
        events: EventBus,
        tags: TagStore,
        *,
        limits: MediaLimits,
        unscrap: Callable[[list[int]], object],
        after_import: Callable[[list[int]], object],
        workers: int | None = None,
        running: RunningCount | None = None,
    ) -> None:
        self.db, self.pictures, self.folders, self.collections = db, pictures, folders, collections
        self.store, self.thumbnails, self.near_duplicates, self.events = store, thumbnails, near_duplicates, events
        self.limits, self.unscrap, self.after_import, self.tags = limits, unscrap, after_import, tags
        self.vectors = VectorStore(db)  # the face boxes a picture's XMP names
        # PIXLSTASH_IMPORT_WORKERS caps the files prepared at once (a NAS kept responsive; 1 gives ids in
        # the order the files came).
        cores = max(2, os.cpu_count() or 2) * (2 if store.remote else 1)  # (uploads wait on the network)
        self.workers = workers or int(os.environ.get("PIXLSTASH_IMPORT_WORKERS") or 0) or cores
        self.running = running if running is not None else RunningCount()
        # content hash: the run preparing it (a token) and its file's position there. Claims last as long as
        # their run; a committed picture is found by its hash anyway.
        self._claims: dict[str, tuple[object, int]] = {}
        self._claim_lock = threading.Lock()

    # -- worker side (no writes to the database) ------------------------------------------------

    def _prepare(
        self, item: ImportItem, reference: ReferenceTarget | None, run: object, position: int
    ) -> _Prepared | _Duplicate | _Skipped:
        try:
            if os.path.getsize(item.path) == 0:
                return _Skipped(item, "empty file")
            digest = content_hash(item.path)
            with self._claim_lock:
                # One analysis for the same bytes: a file before the claimant still becomes the picture
                # (``_in_turn``), so no second analysis (and no second decoded image in memory) is needed.
                if (claim := self._claims.get(digest)) is not None:
                    return _Duplicate(item, digest, None, claimant=claim[1] if claim[0] is run else None)
                self._claims[digest] = (run, position)
            # Looked up after the claim: a run lets its claims go once its pictures are committed.
            existing = self.pictures.id_for_hash(digest)
            if existing is not None:
                _, suffix, managed = self.pictures.address(existing)
                if managed or reference is not None:
                    return _Duplicate(item, digest, existing)
                # Known only through a reference folder, now imported for real: keep a copy, so the
                # picture survives that folder going away.
                self.store.put(digest, item.path, suffix)
                return _Duplicate(item, digest, existing, adopted=True)
            analysis = analyse_file(item.path, self.limits, known_hash=digest)
            self.thumbnails.write_made(digest, analysis.grid_thumbnail, analysis.preview_thumbnail)
            if reference is None:
                try:
                    self.store.put(digest, item.path, analysis.suffix, move=item.temporary)
                except BaseException:  # not stored (a store that is down, a file gone meanwhile): no thumbnails
                    if self.pictures.id_for_hash(digest) is None:
                        self.thumbnails.delete(digest)
                    raise
            return _Prepared(item, analysis)
        except PixlstashError as error:
            return _skipped(item, error.message)
        except OSError as error:
            return _Skipped(item, f"cannot read: {error.strerror or error}")
        except Exception as error:  # one strange file must not stop the batch
            log.exception("unexpected error importing %s", item.display)
            return _skipped(item, f"unexpected error: {type(error).__name__}: {error}")

    # -- committing (the calling thread) --------------------------------------------------------

    def _commit(
        self, prepared: _Prepared, source_id: int | None, target: ImportTarget, reference: ReferenceTarget | None
    ) -> int:
        a = prepared.analysis
        imported_at = now_ms()
        with self.db.write():
            picture_id = self.pictures.insert(
                {
                    "content_hash": a.content_hash,
                    "suffix": a.suffix,
                    "media_type": a.media_type,
                    "mime": a.mime,
                    "file_size": a.file_size,
                    "width": a.width,
                    "height": a.height,
                    "pixels": a.width * a.height,
                    "duration": a.duration,
                    "codec": a.codec,
                    "taken_at": a.taken_at or a.file_mtime or imported_at,
                    "taken_from": a.taken_from if a.taken_at else "file" if a.file_mtime else "import",
                    "imported_at": imported_at,
                    "phash": a.phash,
                    "source_id": source_id,
                    "original_name": prepared.item.original_name[:500],
                    "managed": int(reference is None),
                    "camera": a.camera,
                    "orientation": a.orientation,
                    "exif": msgspec.json.encode(a.exif).decode() if a.exif else None,
                    "digital_source_type": (a.photo and a.photo.digital_source_type)
                    or (a.credentials and a.credentials.digital_source_type),
                    "credentials": msgspec.json.encode(a.credentials).decode() if a.credentials else None,
                    "owner_id": target.owner_id,
                    "private": int(target.private),
                }
            )
            if a.generation is not None:
                self.pictures.set_generation(picture_id, a.generation)
            if a.photo is not None:
                apply_photo_metadata(self.tags, self.pictures, picture_id, a.photo, imported_at, a.notes)
                if a.photo.people:
                    self._name_people(picture_id, a, target, imported_at)
            self.pictures.refresh_text([picture_id])
            self._file(picture_id, target, imported_at)
            if reference is not None:
                self._record_reference(reference, prepared.item, a.content_hash, picture_id)
            if a.phash is not None:
                self.near_duplicates.assign(picture_id, a.phash)
        return picture_id

    def _name_people(self, picture_id: int, a: MediaAnalysis, target: ImportTarget, now: int) -> None:
        """The people its XMP names, found and made as the uploader: among the characters they see, theirs
        (private when the picture is)."""
        assert a.photo is not None
        uploader = Audience(target.owner_id, sees_all=False) if target.owner_id is not None else None
        with seen_by(uploader) if uploader else contextlib.nullcontext():
            size = (a.width, a.height)
            apply_people(self.collections, self.vectors, picture_id, a.photo.people, size, now, a.notes, target.private)

    def _file(self, picture_id: int, target: ImportTarget, now: int) -> None:
        if target.owner_id is not None:
            self.pictures.visibility.add_holders(target.owner_id, [picture_id], now)
        if target.project_id is not None:
            self.collections.add_to_project(target.project_id, [picture_id])
        for collection_id in target.collection_ids:
            self.collections.add_members(collection_id, [picture_id], now)

    def _record_reference(self, reference: ReferenceTarget, item: ImportItem, digest: str, picture_id: int) -> None:
        stat = os.stat(item.path)
        rel_path = os.path.relpath(item.path, reference.root)
        record = FolderFile(
            rel_path, picture_id, stat.st_size, stat.st_mtime_ns, digest, None, sidecar_stamp(item.path)
        )
        self.folders.put_file(reference.folder_id, record)

    def run(
        self,
        items: Iterable[ImportItem],
        *,
        source_id: int | None = None,
        target: ImportTarget | None = None,
        reference: ReferenceTarget | None = None,
        on_picture: Callable[[ImportItem, int, bool], None] | None = None,
        report: ImportReport | None = None,
        enrich: bool = True,
        hold: Hold | None = None,
    ) -> ImportReport:
        """Import ``items``; ``on_picture(item, picture_id, is_new)`` runs after each commit.

        New pictures are queued for the on-import enrichment tasks unless ``enrich`` is False (the caller
        queues a larger batch itself). With a ``hold`` (files still arriving), files are prepared at once
        and committed after its release, which gives the source, the target and the modified times; an
        abandoned hold undoes everything prepared."""
        # An import is the library's own work: it sees every picture (a file already there, though private to
        # someone else, is that picture); whose the new pictures become is the target's owner.
        with self.running, seen_by(None):
            return self._run(items, source_id, target, reference, on_picture, report, enrich, hold)

    def _run(self, items, source_id, target, reference, on_picture, report, enrich, hold) -> ImportReport:
        started = time.perf_counter()
        report = report if report is not None else ImportReport()
        imported_before = len(report.imported)
        target = target or ImportTarget()
        batch_duplicates: list[_Duplicate] = []
        modified_ms: dict[str, int] = {}
        window = self.workers * 3
        iterator = enumerate(items)
        pending: set[Future] = set()
        positions: dict[Future, int] = {}
        ready: dict[int, _Prepared | _Duplicate | _Skipped] = {}  # prepared, by position, waiting their turn
        turn = 0  # the position committed next
        order = _InOrder(report)
        run = object()  # whose claims are whose (``_prepare``)
        try:
            with LargestFirstPool(self.workers, thread_name_prefix="pixlstash-import") as pool:
                exhausted = False
                while pending or not exhausted:
                    while not exhausted and len(pending) < window and len(ready) < _READY_AT_MOST:
                        try:
                            position, item = next(iterator)
                        except StopIteration:
                            exhausted = True
                            break
                        order.position = position
                        order.rank_new_lines()  # files the sources skipped on the way come before this one
                        future = pool.submit(_size(item), self._prepare, item, reference, run, position)
                        pending.add(future)
                        positions[future] = position
                    if not pending:
                        break
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    ready.update((positions.pop(future), future.result()) for future in done)
                    if hold is not None:
                        released = hold.wait()
                        if released is None:  # the request failed: nothing it sent is kept
                            for result in [*ready.values(), *(future.result() for future in pending)]:
                                self._undo(result, reference)
                            return report
                        hold, modified_ms = None, released.modified_ms
                        source_id = released.source_id
                        target = ImportTarget(
                            released.project_id, released.collection_ids, released.owner_id, released.private
                        )
                    # In file order: ids follow the files, and of two with the same bytes the first is recorded.
                    while turn in ready and (result := self._in_turn(turn, ready)) is not None:
                        with order.lines_of(turn):
                            if isinstance(result, _Prepared) and str(result.item.path) in modified_ms:
                                result.analysis.file_mtime = modified_ms[str(result.item.path)]
                            self._finish(result, report, source_id, target, reference, batch_duplicates, on_picture)
                            if isinstance(result, _Duplicate) and result.picture_id is None:
                                order.later[id(result)] = order.position
                        turn += 1
        finally:
            with self._claim_lock:
                for digest in [digest for digest, (owner, _) in self._claims.items() if owner is run]:
                    del self._claims[digest]
        for duplicate in batch_duplicates:
            order.position = order.later.get(id(duplicate), order.position)
            picture_id = self.pictures.id_for_hash(duplicate.content_hash)
            if picture_id is None:
                report.skipped.append(ImportSkip(duplicate.item.display, "same content as a file that failed"))
            else:
                self._report_duplicate(duplicate.item, picture_id, report, target, reference, on_picture)
            cleanup(duplicate.item)
            order.rank_new_lines()
        order.apply()
        if enrich:
            self.after_import([p.picture_id for p in report.imported[imported_before:]])
        self.db.checkpoint()
        release_when_quiet()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    @staticmethod
    def _in_turn(position: int, ready: dict) -> _Prepared | _Duplicate | _Skipped | None:
        """What to commit at ``position``, taken from ``ready``; None while it must wait. A file whose bytes a
        later file of the run was analysing takes that analysis: the first copy is the picture (its name,
        its date) and the later one its duplicate, whichever worker hashed first."""
        result = ready[position]
        later = result.claimant if isinstance(result, _Duplicate) else None
        if later is None or later < position:
            return ready.pop(position)
        if later not in ready:
            return None  # still being analysed
        del ready[position]
        claimant = ready[later]
        if not isinstance(claimant, _Prepared):
            return result  # those bytes failed: reported as the same content as a file that failed
        ready[later] = _Duplicate(claimant.item, result.content_hash, None, claimant=position)
        with contextlib.suppress(OSError):  # (an upload's time comes with its release instead)
            claimant.analysis.file_mtime = int(os.stat(result.item.path).st_mtime * 1000)
        return _Prepared(result.item, claimant.analysis)

    def _finish(self, result, report: ImportReport, source_id, target, reference, batch_duplicates, on_picture) -> None:
        item = result.item
        try:
            if isinstance(result, _Prepared):
                try:
                    picture_id = self._commit(result, source_id, target, reference)
                except Exception as error:
                    log.exception("could not record %s", item.display)
                    self._discard(result.analysis, reference)
                    report.skipped.append(ImportSkip(item.display, f"could not record: {error}"))
                    return
                report.imported.append(ImportedPicture(item.display, picture_id, list(result.analysis.notes)))
                self.events.publish(Event("picture.added", [picture_id]))
                if on_picture:
                    on_picture(item, picture_id, True)
            elif isinstance(result, _Duplicate):
                if result.picture_id is None:
                    batch_duplicates.append(result)
                    return
                if result.adopted:
                    with self.db.write():
                        self.pictures.adopt(result.picture_id)
                self._report_duplicate(item, result.picture_id, report, target, reference, on_picture)
            else:
                report.skipped.append(ImportSkip(item.display, result.reason))
                log.info("skipped %s: %s", item.display, result.reason)
        finally:
            if not (isinstance(result, _Duplicate) and result.picture_id is None):
                cleanup(item)

    def _undo(self, result, reference: ReferenceTarget | None) -> None:
        """Forget a prepared file whose upload failed after it arrived."""
        if isinstance(result, _Prepared):
            self._discard(result.analysis, reference)
        cleanup(result.item)

    def _discard(self, analysis: MediaAnalysis, reference: ReferenceTarget | None) -> None:
        """Undo what ``_prepare`` stored for a file whose commit failed: its original and thumbnails,
        unless a picture (another process's import of the same bytes) owns them by now."""
        if self.pictures.id_for_hash(analysis.content_hash) is not None:
            return
        if reference is None:
            self.store.delete(analysis.content_hash, analysis.suffix)
        self.thumbnails.delete(analysis.content_hash)

    def _report_duplicate(
        self,
        item: ImportItem,
        picture_id: int,
        report: ImportReport,
        target: ImportTarget,
        reference: ReferenceTarget | None,
        on_picture,
    ) -> None:
        report.duplicates.append(ImportedPicture(item.display, picture_id))
        # Importing a scrapped picture again means the user wants it back. A reference folder's rescan
        # (a file moved inside it) is no such request: scrapping there must stick.
        if reference is None and not self.pictures.existing_ids([picture_id], live_only=True):
            self.unscrap([picture_id])
            report.restored.append(ImportedPicture(item.display, picture_id))
        if target.project_id is not None or target.collection_ids or target.owner_id is not None or reference:
            with self.db.write():
                self._file(picture_id, target, now_ms())
                if reference is not None:
                    digest = self.pictures.address(picture_id)[0]
                    self._record_reference(reference, item, digest, picture_id)
        if on_picture:
            on_picture(item, picture_id, False)
