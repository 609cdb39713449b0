"""A library: one folder holding the database, managed originals, thumbnails and indexes.

``Library`` wires the storage layer, the original store (from the ``make_original_store`` hook), the
thumbnail cache and the event bus together, and is what the CLI, the web app and tests use.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from .auth import Forbidden
from .db.collections import CollectionStore
from .db.database import Database
from .db.folders import FolderStore
from .db.history_log import HistoryLog
from .db.jobs import JobStore
from .db.pictures import PictureStore
from .db.query import PictureQuery
from .db.schema import migrate
from .db.secrets_db import SecretStore
from .db.settings import SettingsStore
from .db.stats import statistics
from .db.tags import TagStore
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
from .errors import BadInput, NotFound
from .library_services import LibraryServices
from .media.facts import MediaLimits
from .pictures.visibility import current_audience
from .plugin_settings import SCRUB_OWED, PluginSettings, PluginSettingsSource, move_secrets_out
from .system.clock import Clock, now_ms
from .system.events import Event, EventBus
from .system.scratch import ScratchArea

if TYPE_CHECKING:
    from .auth import Authenticator
    from .backups.service import BackupSource
    from .enrichment import EnrichmentWorker
    from .importing.arrivals import Arrivals, Hold
    from .importing.folders import FolderWatcher
    from .importing.importer import Importer, ImportTarget
    from .importing.sources import ArchiveLimits, ImportItem
    from .media.thumbnails import ThumbnailSize
    from .sharing.service import ShareService
    from .snapshots import SnapshotService

__all__ = ["DATABASE_NAME", "Library"]

log = logging.getLogger(__name__)

DATABASE_NAME = "library.db"


class Library(LibraryServices):
    """An open library. Thread-safe: each thread gets its own database connection.

    The one place that builds the object graph: the stores over the database when it opens, then the
    original store and the services (library_services.py), each when first used, from the stores, the
    event bus and the original store it uses. What is made per process or per run (snapshots, shares,
    the enrichment worker, an importer, the folder watcher) comes from the ``new_*`` methods."""

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
        self._services_lock = threading.RLock()
        self.limits = limits or MediaLimits.from_environment()
        self._archive_limits = archive_limits
        # Other processes may be importing into this library right now: only what dead ones left is swept.
        self.scratch = ScratchArea(self.root / "tmp")
        self.db = Database(self.root / DATABASE_NAME)
        self.history_log = HistoryLog(self.root)  # the undo history, in its own file (see history/undo.py)
        self.pictures = PictureStore(self.db)
        self.tags = TagStore(self.db)
        self.collections = CollectionStore(self.db)
        self.folders = FolderStore(self.db)
        self.query = PictureQuery(self.db)
        self.jobs = JobStore(self.db)
        self.events = EventBus()
        self.secrets = SecretStore(self.root)  # the plugins' secrets, apart from what snapshots copy
        self._plugin_settings = PluginSettingsSource(plugin_manager, SettingsStore(self.db, "settings"), self.secrets)
        # Everything else (library_services.py) is made when first used.

    def _subscribe(self) -> None:
        """What must hear every event from the start, once the database is current: sidecar files, and
        the undo history (which a restore clears; the edits service is made when one arrives)."""
        from .files.sidecars import SidecarWriter

        self.events.subscribe(SidecarWriter(self.db, self.folders, self.pictures, self.collections))
        self.events.subscribe(lambda event: self.edits.on_event(event))

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
        (root / "thumbnails").mkdir(exist_ok=True)  # (originals/: made by the local store, when it is the one)
        library = cls(root, **options)
        try:
            migrate(library.db.connection)
            library._keep_secrets_apart()
            library._subscribe()
        except BaseException:
            library.close()
            raise
        return library

    def _keep_secrets_apart(self) -> None:
        """Secrets that an earlier version kept in library.db move to secrets.db; then, once, the copies of
        them are overwritten: library.db's free pages (VACUUM) and the snapshots' chunks."""
        settings = SettingsStore(self.db, "settings")
        move_secrets_out(settings, self.secrets)
        if not settings.get(SCRUB_OWED, bool, False):
            return
        from .snapshots.scrub import scrub_secrets

        self.db.vacuum()
        self.db.checkpoint()  # the old pages leave the write-ahead log too
        known = [value for fields in self.secrets.all().values() for value in fields.values()]
        chunks = scrub_secrets(self.root / "snapshots", known)
        settings.delete(SCRUB_OWED)
        log.warning(
            "plugin secrets (API keys, a bucket's secret key) moved from library.db to secrets.db; %d snapshot "
            "chunks that held them were cleaned. Backups made before now may still hold them: replace those "
            "backups, or change the keys",
            chunks,
        )

    def close(self) -> None:
        if self.built("folder_sync"):
            self.folder_sync.close()  # the import folders this process claimed are free again
        if self.built("engines"):
            self.engines.close()  # engine processes end with the library that started them
        self.scratch.close()
        self.history_log.close()
        self.secrets.close()
        if self.built("indexes"):
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

    @property
    def plugin_settings(self) -> PluginSettings:
        """The settings plugins declared, stored in this library (made again when the plugins change)."""
        return self._plugin_settings.current()

    # -- services made per process or per run ---------------------------------------------------

    def new_importer(self, workers: int | None = None) -> Importer:
        from .importing.importer import Importer

        return Importer(
            self.db,
            self.pictures,
            self.folders,
            self.collections,
            self.store,
            self.thumbnails,
            self.near_duplicates,
            self.events,
            self.tags,
            limits=self.limits,
            unscrap=self.scrapheap.unscrap,
            after_import=self.enrichment.queue_imported,
            workers=workers,
            running=self.imports_running,
        )

    def new_snapshot_service(self, *, clock: Clock = now_ms) -> SnapshotService:
        from .snapshots import SnapshotService

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
        from .sharing.service import ShareService

        transforms: list = []
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
        from .enrichment import EnrichmentWorker
        from .enrichment.sink import ResultStores

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
        from .importing.folders import FolderWatcher

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
        owner_id: int | None = None,
        private: bool = False,
    ) -> ImportReport:
        """Import files, folders (recursively) and zip archives. Returns imported / duplicates / skipped;
        ``on_picture(item, picture_id, is_new)`` follows each file stored or found a duplicate. They become
        ``owner_id``'s pictures (None: the owner's), private to that account when ``private``."""
        target = self.check_target(project_id, collection_ids, owner_id, private)
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

        from .importing.sources import iter_items

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
        owner_id: int | None = None,
        private: bool = False,
    ) -> ImportReport:
        """Import uploaded files already streamed to disk (inside ``tmp``), as ``(path, filename)``; they
        are consumed. They go through the same parallel pipeline as a folder; a zip's pictures are imported."""
        target = self.check_target(project_id, collection_ids, owner_id, private)
        if source_id is None:
            source_id = self.new_source("upload", ", ".join(name for _, name in files))
        report = ImportReport()

        def skip(path: str, reason: str) -> None:
            report.skipped.append(ImportSkip(path, reason))

        from .importing.sources import upload_items

        with tempfile.TemporaryDirectory(dir=self.tmp) as scratch:
            items = upload_items(list(files), Path(scratch), skip, self.archive_limits)
            self.new_importer().run(items, source_id=source_id, target=target, report=report, enrich=enrich)
        return report

    def import_arriving(self, arrivals: Arrivals, hold: Hold, *, enrich: bool = True) -> ImportReport:
        """Import an upload's files, ``(path, filename)`` inside ``tmp``, while they still arrive: they are
        prepared at once and committed when ``hold`` is released (see ``importing.arrivals``)."""
        report = ImportReport()

        def skip(path: str, reason: str) -> None:
            report.skipped.append(ImportSkip(path, reason))

        from .importing.sources import upload_items

        with tempfile.TemporaryDirectory(dir=self.tmp) as scratch:
            items = upload_items(arrivals, Path(scratch), skip, self.archive_limits)
            self.new_importer().run(items, report=report, enrich=enrich, hold=hold)
        return report

    def busy(self) -> bool:
        """Whether an import runs in this process or enrichment jobs are open (background work waits)."""
        return bool(self.imports_running) or bool(self.enrichment.list_jobs(open_only=True, limit=1))

    def tidy(self) -> None:
        """What a long-running process does now and then: fold the WAL into the database (imports do it
        when they end; this catches every other writer, so the WAL never sits at many times the
        database's size) and give freed memory back (previews and enrichment decode large images too)."""
        from .system.memory import release_freed_memory

        self.db.checkpoint()
        release_freed_memory()

    def new_source(self, kind: str, label: str) -> int:
        with self.db.write():
            return self.folders.create_source(kind, label[:500], now_ms())

    def check_target(
        self, project_id: int | None, collection_ids: Sequence[int], owner_id: int | None = None, private: bool = False
    ) -> ImportTarget:
        """Where imports are filed and whose they become; ``NotFound`` when the project or a collection does not
        exist."""
        from .importing.importer import ImportTarget

        return ImportTarget.checked(self.collections, project_id, collection_ids, owner_id, private)

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
        return self.pictures.duplicates.duplicate_groups(limit)

    def original_path(self, picture_id: int) -> Path:
        return self.files.original_path(picture_id)

    def thumbnail_path(self, picture_id: int, size: ThumbnailSize = "grid") -> Path:
        return self.files.thumbnail_path(picture_id, size)

    # -- editing --------------------------------------------------------------------------------

    def backup_source(self) -> BackupSource:
        """What ``create_backup`` reads from this library."""
        from .backups.service import BackupSource

        return BackupSource(self.root, self.store, self.scratch.path, self.secrets)

    def set_private(self, picture_ids: Sequence[int], private: bool) -> list[int]:
        """Keep pictures to the accounts holding them, or share them with the library; the ids changed. Only
        who brought a picture in, or an administrator, decides (``Forbidden`` otherwise, changing none)."""
        ids = self.pictures.require(picture_ids)
        audience = current_audience()
        if audience is not None and not audience.sees_all:
            owners = self.pictures.visibility.owners(ids)
            if any(owners[i] != audience.user_id for i in ids):
                raise Forbidden("only whoever brought a picture in, or an admin, shares it or makes it private")
        with self.db.write():
            changed = self.pictures.visibility.set_private(ids, private)
        if changed:
            self.events.publish(Event("picture.changed", changed, {"private": private}))
        return changed

    def add_to_own(self, picture_ids: Sequence[int]) -> list[int]:
        """ "Add to my library": pictures the account in force may see become its own (listed under "My
        pictures", and still its to see should their uploader keep them private later); one copy of the bytes,
        their tags, captions and generation data as they are. The ids added (not already its own)."""
        audience = current_audience()
        if audience is None:
            raise BadInput("adding to one's own pictures needs an account (pixlstash --as NAME)")
        ids = self.pictures.require(picture_ids)
        with self.db.write():
            added = self.pictures.visibility.add_holders(audience.user_id, ids, now_ms())
        if added:
            self.events.publish(Event("picture.changed", added, {"mine": True}))
        return added

    def hand_over_pictures(self, user_id: int) -> int:
        """An account is removed: the pictures it brought in become the owner's (private ones stay private);
        returns how many."""
        from .db.curation_rows import CurationStore

        with self.db.write():
            CurationStore(self.db).drop_roles_of(user_id)  # its roles in curated sets go with it
            return self.pictures.visibility.hand_over(user_id)

    def require_pictures(self, picture_ids: Sequence[int]) -> list[int]:
        return self.pictures.require(picture_ids)

    # A person's changes (ratings, tags, captions, predictions, the scrapheap) go through ``edits``: each is
    # an undo step there, and there is no second path around the history.

    def purge(self, picture_ids: Sequence[int] | None = None) -> list[int]:
        return self.scrapheap.purge(picture_ids)
