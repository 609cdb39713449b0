"""A library: one folder holding the database, managed originals, thumbnails and indexes.

``Library`` wires the storage layer, the original store (from the ``make_original_store`` hook), the
thumbnail cache and the event bus together, and is what the CLI, the web app and tests use.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from .clock import Clock, now_ms
from .comfy.runs import ComfyRuns
from .domain import (
    DuplicateGroup,
    ImportReport,
    ImportSkip,
    Page,
    Picture,
    PictureBadges,
    PictureFilter,
    Sort,
    Statistics,
)
from .edits import Edits
from .engines.catalog import EngineCatalog
from .enrichment import Enrichment, EnrichmentWorker
from .enrichment.sink import ResultStores
from .errors import BadInput, NotFound, PixlstashError
from .events import EventBus
from .face_clusters import FaceClustering
from .folders import FolderService, FolderWatcher
from .importing.importer import Importer, ImportTarget, RunningCount
from .importing.sources import ArchiveLimits, ImportItem, iter_items, upload_items
from .index.indexes import VectorIndexes
from .index.near_duplicates import NearDuplicateIndex
from .index.search import SearchService
from .likeness import LikenessService
from .media.facts import MediaLimits
from .memory import release_freed_memory
from .organise import Organiser
from .originals import OriginalStore
from .people import People
from .picture_edits import PictureEditor
from .picture_files import PictureFiles
from .plugin_settings import PluginSettings, PluginSettingsSource
from .previews import PreviewPass
from .scrapheap import Scrapheap
from .scratch import ScratchArea
from .sharing.service import ShareService
from .sharing.transforms import ShareTransform
from .sidecars import SidecarWriter
from .snapshots import SnapshotService
from .stacks import Stacks
from .storage.collections import CollectionStore
from .storage.db import Database
from .storage.faces import FaceStore
from .storage.folders import FolderStore
from .storage.history_log import HistoryLog
from .storage.history_outbox import HistoryOutbox
from .storage.jobs import JobStore
from .storage.ocr import TextStore
from .storage.pictures import PictureStore
from .storage.query import PictureQuery
from .storage.schema import migrate
from .storage.scores import ScoreStore
from .storage.settings import SettingsStore
from .storage.stacks import StackStore
from .storage.stats import statistics
from .storage.tags import TagStore
from .storage.vectors import VectorStore
from .thumbnails import ThumbnailCache, ThumbnailSize
from .training import TrainingExport
from .undo_journal import UndoJournal

if TYPE_CHECKING:
    from .auth import Authenticator

__all__ = ["DATABASE_NAME", "Library"]

log = logging.getLogger(__name__)

DATABASE_NAME = "library.db"


class Library:
    """An open library. Thread-safe: each thread gets its own database connection.

    The one place that builds the object graph: the stores over the database, then (once the database
    is current) the original store and the services, each from the stores, the event bus and the
    original store it uses. What is made per process or per run (snapshots, shares, the enrichment
    worker, an importer, the folder watcher) comes from the ``new_*`` methods."""

    def __init__(
        self,
        root: Path,
        *,
        plugin_manager=None,
        limits: MediaLimits | None = None,
        archive_limits: ArchiveLimits | None = None,
    ) -> None:
        self.root = Path(root)
        if plugin_manager is None:
            from .plugins import make_plugin_manager

            plugin_manager = make_plugin_manager()
        self.plugin_manager = plugin_manager
        self.limits = limits or MediaLimits.from_environment()
        self.archive_limits = archive_limits or ArchiveLimits()
        # Other processes may be importing into this library right now: only what dead ones left is swept.
        self.scratch = ScratchArea(self.root / "tmp")
        self.db = Database(self.root / DATABASE_NAME)
        self.history_log = HistoryLog(self.root)  # the undo history, in its own file (see edits.py)
        self.pictures = PictureStore(self.db)
        self.tags = TagStore(self.db)
        self.collections = CollectionStore(self.db)
        self.folders = FolderStore(self.db)
        self.query = PictureQuery(self.db)
        self.vectors = VectorStore(self.db)
        self.scores = ScoreStore(self.db)
        self.texts = TextStore(self.db)
        self.jobs = JobStore(self.db)
        self.thumbnails = ThumbnailCache(self.root / "thumbnails")
        self.events = EventBus()
        self.near_duplicates = NearDuplicateIndex(self.db)
        self.indexes = VectorIndexes(self.root / "indexes", self.vectors)
        self._plugin_settings = PluginSettingsSource(plugin_manager, SettingsStore(self.db, "settings"))
        # Reads nothing until used; made here so that close() can always end the engine processes, even
        # of a library whose opening failed (a newer schema, say).
        self.engines = EngineCatalog(self.plugin_manager, self._plugin_settings, SettingsStore(self.db, "settings"))

    def _build_services(self) -> None:
        """The services, once the database is current (plugin settings and the original store are read
        from it)."""
        self.store = self._make_original_store()
        self.files = PictureFiles(self.pictures, self.folders, self.store, self.thumbnails, self.limits, self.vectors)
        self.enrichment = Enrichment(self.db, self.jobs, self.pictures, self.query, self.engines, self.events)
        self.search = SearchService(self.indexes, self.engines, self.vectors, self.pictures, self.query, self.files)
        self.likeness = LikenessService(self.search, self.engines, self.vectors, self.collections)
        self.imports_running = RunningCount()
        self.previews = PreviewPass(self.pictures, self.files, SettingsStore(self.db, "settings"), self.busy)
        self.training = TrainingExport(
            self.query, self.pictures, self.files, SettingsStore(self.db, "settings"), self.limits
        )
        self.scrapheap = Scrapheap(
            self.db,
            self.pictures,
            self.folders,
            self.query,
            self.store,
            self.thumbnails,
            self.near_duplicates,
            self.events,
        )
        self.organise = Organiser(self.db, self.collections, self.tags, self.pictures, self.vectors, self.events)
        self.folder_sync = FolderService(
            self.root,
            self.db,
            self.folders,
            self.pictures,
            self.tags,
            self.collections,
            self.store,
            self.thumbnails,
            self.near_duplicates,
            self.events,
            limits=self.limits,
            new_importer=self.new_importer,
        )
        self.events.subscribe(SidecarWriter(self.db, self.folders, self.pictures))
        self.editor = PictureEditor(self.db, self.pictures, self.tags, self.events)
        self.edits = Edits(
            self.db,
            self.events,
            UndoJournal(HistoryOutbox(self.db), self.history_log),
            self.pictures,
            self.tags,
            self.editor,
            self.scrapheap,
            self.organise,
            stack_store=StackStore(self.db),
            near_duplicates=self.near_duplicates,
        )
        faces = FaceStore(self.db)
        clustering = FaceClustering(self.db, faces, self.vectors, self.indexes)
        self.people = People(
            self.db,
            self.vectors,
            self.collections,
            self.search,
            self.organise,
            self.edits,
            self.events,
            faces,
            clustering,
            SettingsStore(self.db, "settings"),
        )
        self.stacks = Stacks(self.db, StackStore(self.db), self.pictures, self.edits)
        self.comfy = ComfyRuns(self)

    @classmethod
    def open(cls, root: Path | str, *, create: bool = True, **options) -> Library:
        """Open (and create, and upgrade) the library at ``root``."""
        root = Path(root)
        if not (root / DATABASE_NAME).exists():
            if not create:
                raise NotFound(
                    f"no library at {root}: check the path (--library or PIXLSTASH_LIBRARY); "
                    f"`pixlstash import --library {root} FILES` makes one there"
                )
            root.mkdir(parents=True, exist_ok=True)
        for folder in ("originals", "thumbnails"):
            (root / folder).mkdir(exist_ok=True)
        library = cls(root, **options)
        try:
            migrate(library.db.connection)
            library._build_services()
        except BaseException:
            library.close()
            raise
        return library

    def close(self) -> None:
        self.engines.close()  # engine processes end with the library that started them
        self.scratch.close()
        self.history_log.close()
        self.indexes.stop_building()
        try:
            self.indexes.save()
        except Exception:  # an index is a cache: failing to save it costs a rebuild, never data
            log.exception("could not save vector indexes")
        try:
            self.db.optimize()
        except Exception:  # closing must not fail because the optimiser did
            pass
        self.db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _make_original_store(self) -> OriginalStore:
        """Where managed originals live: the ``make_original_store`` hook's answer, with the plugin settings."""
        store = self.plugin_manager.hook.make_original_store(
            library_root=self.root, settings=self.plugin_settings.all()
        )
        if not isinstance(store, OriginalStore):
            raise PixlstashError("no plugin provides an original store (is local-storage disabled?)")
        return store

    @property
    def plugin_settings(self) -> PluginSettings:
        """The settings plugins declared, stored in this library (made again when the plugins change)."""
        return self._plugin_settings.current()

    # -- services made per process or per run ---------------------------------------------------

    def new_importer(self, workers: int | None = None) -> Importer:
        return Importer(
            self.db,
            self.pictures,
            self.folders,
            self.collections,
            self.store,
            self.thumbnails,
            self.near_duplicates,
            self.events,
            limits=self.limits,
            unscrap=self.scrapheap.unscrap,
            after_import=self.enrichment.queue_imported,
            workers=workers,
            running=self.imports_running,
        )

    def new_snapshot_service(self, *, clock: Clock = now_ms) -> SnapshotService:
        return SnapshotService(
            self.root / "snapshots",
            self.db,
            self.pictures,
            self.vectors,
            self.store,
            self.indexes,
            self.near_duplicates,
            self.events,
            clock=clock,
        )

    def new_share_service(self, auth: Authenticator) -> ShareService:
        transforms: list[ShareTransform] = []
        self.plugin_manager.hook.register_share_transforms(register=transforms.append)
        return ShareService(
            auth,
            self.pictures,
            self.collections,
            self.query,
            self.files,
            watermark_folder=self.root / "watermarks",
            transforms=transforms,
            renders_folder=self.root / "thumbnails" / "shared",
        )

    def new_enrichment_worker(self, *, ray_address: str | None = None, **options) -> EnrichmentWorker:
        """The worker that runs queued jobs (options: ``poll_seconds``, ``index_save_seconds``,
        ``decode_threads``): on a Ray cluster when the settings' backend is ``ray`` or ``ray_address`` is
        given ("local" starts a Ray on this machine), else in this process."""
        results = ResultStores(self.pictures, self.tags, self.vectors, self.scores, self.texts)
        parts = (self.root, self.db, self.enrichment, self.engines, self.files, results, self.indexes, self.events)
        settings = self.engines.settings()
        if ray_address is None and settings.backend != "ray":
            return EnrichmentWorker(*parts, **options)
        from .enrichment.ray_worker import RayEnrichmentWorker

        ray = settings.ray
        address = ray_address if ray_address is not None else ray.address
        resources = {"num_cpus": ray.num_cpus, "num_gpus": ray.num_gpus}
        if ray.memory_gb:
            resources["memory"] = int(ray.memory_gb * 1e9)
        return RayEnrichmentWorker(
            *parts,
            address=None if address == "local" else address,
            max_in_flight=ray.max_in_flight,
            actors_per_engine=ray.actors_per_engine,
            actors=ray.actors,
            actor_options=resources,
            plugin_settings=self.plugin_settings.all(),
            when_lost=ray.when_lost,
            init_options={"runtime_env": ray.runtime_env} if ray.runtime_env else None,
            **options,
        )

    def new_folder_watcher(self, reference_interval: float = 300.0) -> FolderWatcher:
        return FolderWatcher(self.folder_sync, reference_interval)

    @property
    def tmp(self) -> Path:
        """This process's scratch folder for uploads and archive entries in flight."""
        return self.scratch.path

    # -- import ---------------------------------------------------------------------------------

    def import_paths(
        self,
        paths: Sequence[Path | str],
        *,
        project_id: int | None = None,
        collection_ids: Sequence[int] = (),
        source_kind: str | None = None,
        workers: int | None = None,
        on_picture: Callable[[ImportItem, int, bool], None] | None = None,
    ) -> ImportReport:
        """Import files, folders (recursively) and zip archives. Returns imported / duplicates / skipped;
        ``on_picture(item, picture_id, is_new)`` follows each file stored or found a duplicate."""
        target = self.check_target(project_id, collection_ids)
        paths = [Path(p) for p in paths]
        report = ImportReport()
        kind = source_kind or (
            "archive"
            if all(p.suffix.lower() == ".zip" for p in paths)
            else "folder"
            if any(p.is_dir() for p in paths)
            else "file"
        )
        with self.db.write():
            source_id = self.folders.create_source(kind, ", ".join(str(p) for p in paths)[:500], now_ms())

        def skip(path: str, reason: str) -> None:
            report.skipped.append(ImportSkip(path, reason))

        with tempfile.TemporaryDirectory(dir=self.tmp) as scratch:
            items = iter_items(paths, Path(scratch), skip, self.archive_limits, exclude=self.root.resolve())
            self.new_importer(workers).run(
                items, source_id=source_id, target=target, report=report, on_picture=on_picture
            )
        return report

    def import_uploads(
        self,
        files: Sequence[tuple[Path, str]],
        *,
        project_id: int | None = None,
        collection_ids: Sequence[int] = (),
        source_id: int | None = None,
        enrich: bool = True,
    ) -> ImportReport:
        """Import uploaded files already streamed to disk (inside ``tmp``), as ``(path, filename)``; they
        are consumed. They go through the same parallel pipeline as a folder; a zip's pictures are imported."""
        target = self.check_target(project_id, collection_ids)
        if source_id is None:
            source_id = self.new_source("upload", ", ".join(name for _, name in files))
        report = ImportReport()

        def skip(path: str, reason: str) -> None:
            report.skipped.append(ImportSkip(path, reason))

        with tempfile.TemporaryDirectory(dir=self.tmp) as scratch:
            items = upload_items(list(files), Path(scratch), skip, self.archive_limits)
            self.new_importer().run(items, source_id=source_id, target=target, report=report, enrich=enrich)
        return report

    def busy(self) -> bool:
        """Whether an import runs in this process or enrichment jobs are open (background work waits)."""
        return bool(self.imports_running) or bool(self.enrichment.list_jobs(open_only=True, limit=1))

    def tidy(self) -> None:
        """What a long-running process does now and then: fold the WAL into the database (imports do it
        when they end; this catches every other writer, so the WAL never sits at many times the
        database's size) and give freed memory back (previews and enrichment decode large images too)."""
        self.db.checkpoint()
        release_freed_memory()

    def new_source(self, kind: str, label: str) -> int:
        with self.db.write():
            return self.folders.create_source(kind, label[:500], now_ms())

    def check_target(self, project_id: int | None, collection_ids: Sequence[int]) -> ImportTarget:
        """Where imports are filed; ``NotFound`` when the project or a collection does not exist."""
        return ImportTarget.checked(self.collections, project_id, collection_ids)

    # -- reading --------------------------------------------------------------------------------

    def get(self, picture_id: int) -> Picture:
        return self.pictures.get(picture_id)

    def badges(self, picture_ids: Sequence[int]) -> list[PictureBadges]:
        """Tags and counts for grid tiles; ids that do not exist are left out."""
        return self.pictures.badges(picture_ids)

    def page(
        self, f: PictureFilter | None = None, sort: Sort | None = None, cursor: str | None = None, limit: int = 100
    ) -> Page:
        return self.query.page(f or PictureFilter(), sort or Sort(), cursor, limit)

    def count(self, f: PictureFilter | None = None) -> int:
        return self.query.count(f or PictureFilter())

    def prune(
        self,
        engine_id: str,
        f: PictureFilter,
        *,
        lowest: int | None = None,
        below: float | None = None,
        dry_run: bool = False,
    ) -> list[int]:
        """Scrap the pictures of a view (a set, a selection) that a scorer ranks lowest: the ``lowest`` N,
        or those scored under ``below``; one undoable step. ``dry_run``: only say which they would be.
        Pictures a person rated or marked favourite are kept, unless the filter itself asks about ratings
        or favourites (``--rating-max 1``, say)."""
        if lowest is None and below is None:
            raise BadInput("say how many to scrap (lowest) or below which score (below)")
        if lowest is not None and lowest < 1:
            raise BadInput("lowest must be at least 1")
        kept: dict[str, object] = {"scrapheap": False}
        if f.rating_min is None and f.rating_max is None and f.unrated is None:
            kept["unrated"] = True
        if f.favourite is None:
            kept["favourite"] = False
        chosen = self.scores.lowest(engine_id, msgspec.structs.replace(f, **kept), count=lowest, below=below)
        if dry_run or not chosen:
            return chosen
        how = f"the {len(chosen)} lowest" if lowest is not None else f"{len(chosen)} scored under {below:g}"
        return self.edits.scrap(chosen, label=f"Scrap {how} by {engine_id}")

    def statistics(self, f: PictureFilter | None = None) -> Statistics:
        return statistics(self.db, f or PictureFilter())

    def duplicate_groups(self, limit: int = 1000) -> list[DuplicateGroup]:
        """Groups of live near-duplicate pictures, largest first."""
        return self.pictures.duplicate_groups(limit)

    def original_path(self, picture_id: int) -> Path:
        return self.files.original_path(picture_id)

    def thumbnail_path(self, picture_id: int, size: ThumbnailSize = "grid") -> Path:
        return self.files.thumbnail_path(picture_id, size)

    # -- editing --------------------------------------------------------------------------------

    def require_pictures(self, picture_ids: Sequence[int]) -> list[int]:
        return self.pictures.require(picture_ids)

    def update_pictures(self, picture_ids: Sequence[int], **fields: object) -> int:
        """Set rating / favourite / flagged / taken_at on several pictures at once (not an undo step:
        ``edits`` records a person's edits)."""
        return self.editor.update(picture_ids, **fields)

    def tag_pictures(
        self, picture_ids: Sequence[int], add: Sequence[str] = (), remove: Sequence[str] = (), category: str = "general"
    ) -> None:
        self.editor.tag(picture_ids, add, remove, category)

    def set_caption(
        self, picture_id: int, text: str | None, source: str = "user", engine_version: str | None = None
    ) -> None:
        self.editor.set_caption(picture_id, text, source, engine_version)

    def accept_caption(self, picture_id: int, source: str) -> None:
        self.editor.accept_caption(picture_id, source)

    def review_predictions(self, picture_id: int, accept: Sequence[str] = (), reject: Sequence[str] = ()) -> None:
        self.editor.review_predictions(picture_id, accept, reject)

    # -- scrapheap ------------------------------------------------------------------------------

    def scrap(self, picture_ids: Sequence[int]) -> list[int]:
        return self.scrapheap.scrap(picture_ids)

    def unscrap(self, picture_ids: Sequence[int]) -> list[int]:
        return self.scrapheap.unscrap(picture_ids)

    def purge(self, picture_ids: Sequence[int] | None = None) -> list[int]:
        return self.scrapheap.purge(picture_ids)
