"""A library: one folder holding the database, managed originals, thumbnails and indexes.

``Library`` wires the storage layer, the original store (from the ``make_original_store`` hook), the
thumbnail cache and the event bus together, and is what the CLI, the web app and tests use.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .clock import now_ms
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
from .enrichment import Enrichment
from .errors import BadInput, NotFound, PixlstashError
from .events import Event, EventBus
from .folders import FolderService
from .importing.importer import Importer, ImportTarget
from .importing.sources import ArchiveLimits, ImportItem, iter_items
from .index.near_duplicates import NearDuplicateIndex
from .index.search import SearchService
from .media.analyse import MediaLimits, analyse_file
from .organise import Organiser
from .originals import OriginalStore
from .plugin_settings import PluginSettings
from .scratch import ScratchArea
from .sidecars import SidecarWriter
from .storage.collections import CollectionStore
from .storage.db import Database
from .storage.folders import FolderStore
from .storage.pictures import PictureStore
from .storage.query import PictureQuery
from .storage.schema import migrate
from .storage.settings import SettingsStore
from .storage.stats import statistics
from .storage.tags import TagStore
from .storage.vectors import VectorStore
from .thumbnails import ThumbnailCache, ThumbnailSize

__all__ = ["DATABASE_NAME", "Library"]

log = logging.getLogger(__name__)

DATABASE_NAME = "library.db"


class Library:
    """An open library. Thread-safe: each thread gets its own database connection."""

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
        self.pictures = PictureStore(self.db)
        self.tags = TagStore(self.db)
        self.collections = CollectionStore(self.db)
        self.folders = FolderStore(self.db)
        self.query = PictureQuery(self.db)
        self.thumbnails = ThumbnailCache(self.root / "thumbnails")
        self.events = EventBus()
        self.near_duplicates = NearDuplicateIndex(self.db)
        self.events.subscribe(SidecarWriter(self))
        self.folder_sync = FolderService(self)
        self.organise = Organiser(self)
        self.vectors = VectorStore(self.db)
        self.enrichment = Enrichment(self)
        self.search = SearchService(self)
        self._plugin_settings: tuple[frozenset, PluginSettings] | None = None
        self._store: OriginalStore | None = None

    @classmethod
    def open(cls, root: Path | str, *, create: bool = True, **options) -> Library:
        """Open (and create, and upgrade) the library at ``root``."""
        root = Path(root)
        if not (root / DATABASE_NAME).exists():
            if not create:
                raise NotFound(f"no library at {root} (create one with --library {root})")
            root.mkdir(parents=True, exist_ok=True)
        for folder in ("originals", "thumbnails"):
            (root / folder).mkdir(exist_ok=True)
        library = cls(root, **options)
        try:
            migrate(library.db.connection)
            library.store  # noqa: B018 - made now, so a missing storage plugin is said at once
        except BaseException:
            library.close()
            raise
        return library

    def close(self) -> None:
        self.scratch.close()
        try:
            self.search.save()
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
    def store(self) -> OriginalStore:
        """Where managed originals live: the ``make_original_store`` hook's answer, with the plugin settings
        (made on first use, once the database is current)."""
        if self._store is None:
            store = self.plugin_manager.hook.make_original_store(
                library_root=self.root, settings=self.plugin_settings.all()
            )
            if not isinstance(store, OriginalStore):
                raise PixlstashError("no plugin provides an original store (is local-storage disabled?)")
            self._store = store
        return self._store

    @property
    def plugin_settings(self) -> PluginSettings:
        """The settings plugins declared, stored in this library (made again when the plugins change)."""
        plugins = frozenset(id(p) for p in self.plugin_manager.get_plugins())
        if self._plugin_settings is None or self._plugin_settings[0] != plugins:
            settings = PluginSettings(self.plugin_manager, SettingsStore(self.db, "settings"))
            self._plugin_settings = (plugins, settings)
        return self._plugin_settings[1]

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
    ) -> ImportReport:
        """Import files, folders (recursively) and zip archives. Returns imported / duplicates / skipped."""
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
            Importer(self, workers).run(items, source_id=source_id, target=target, report=report)
        return report

    def import_upload(
        self,
        path: Path,
        filename: str,
        *,
        project_id: int | None = None,
        collection_ids: Sequence[int] = (),
        source_id: int | None = None,
        enrich: bool = True,
    ) -> ImportReport:
        """Import one uploaded file already streamed to ``path`` (inside ``tmp``); it is consumed."""
        target = self.check_target(project_id, collection_ids)
        if source_id is None:
            with self.db.write():
                source_id = self.folders.create_source("upload", filename[:200], now_ms())
        item = ImportItem(path, filename, Path(filename).name, temporary=True)
        return Importer(self, workers=1).run([item], source_id=source_id, target=target, enrich=enrich)

    def new_source(self, kind: str, label: str) -> int:
        with self.db.write():
            return self.folders.create_source(kind, label[:500], now_ms())

    def check_target(self, project_id: int | None, collection_ids: Sequence[int]) -> ImportTarget:
        """Where imports are filed; ``NotFound`` when the project or a collection does not exist."""
        if project_id is not None:
            self.collections.project(project_id)
        for collection_id in collection_ids:
            self.collections.collection(collection_id)
        return ImportTarget(project_id, list(collection_ids))

    def assign_duplicate_group(self, picture_id: int, phash: int) -> None:
        """Join a new picture to the near-duplicate group of the pictures it resembles (inside a write)."""
        matches = [m for m in self.near_duplicates.matches(phash) if m != picture_id]
        if matches:
            groups = self.pictures.dup_groups_of(matches)
            group = min(groups | set(matches))
            members = set(matches) | {picture_id} | set(self.pictures.dup_group_members(groups))
            self.pictures.set_dup_group(sorted(members), group)
        self.near_duplicates.add(picture_id, phash)

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

    def statistics(self, f: PictureFilter | None = None) -> Statistics:
        return statistics(self.db, f or PictureFilter())

    def duplicate_groups(self, limit: int = 1000) -> list[DuplicateGroup]:
        """Groups of live near-duplicate pictures, largest first."""
        return self.pictures.duplicate_groups(limit)

    def original_path(self, picture_id: int) -> Path:
        """A readable path to the picture's original: the managed copy, else a reference-folder file."""
        content_hash, suffix, managed = self.pictures.address(picture_id)
        if managed:
            path = self.store.local_path(content_hash, suffix)
            if path is not None and path.is_file():
                return path
        for _folder_id, root, rel_path in self.folders.locations(picture_id):
            candidate = Path(root) / rel_path
            if candidate.is_file():
                return candidate
        raise NotFound(f"the original of picture {picture_id} is missing")

    def thumbnail_path(self, picture_id: int, size: ThumbnailSize = "grid") -> Path:
        """The thumbnail file, remade from the original when it has gone missing."""
        if size not in ("grid", "preview"):
            raise BadInput("thumbnail size is 'grid' or 'preview'")
        content_hash, _, _ = self.pictures.address(picture_id)
        path = self.thumbnails.path(content_hash, size)
        if not path.is_file():
            analysis = analyse_file(self.original_path(picture_id), self.limits, known_hash=content_hash)
            self.thumbnails.write(content_hash, "grid", analysis.grid_thumbnail)
            self.thumbnails.write(content_hash, "preview", analysis.preview_thumbnail)
        return path

    # -- editing --------------------------------------------------------------------------------

    def require_pictures(self, picture_ids: Sequence[int]) -> list[int]:
        """The sorted, unique ids; ``NotFound`` naming any that do not exist (live or in the scrapheap)."""
        ids = sorted(set(int(i) for i in picture_ids))
        found = self.pictures.existing_ids(ids)
        missing = sorted(set(ids) - set(found))
        if missing:
            raise NotFound(f"no such picture: {', '.join(map(str, missing[:20]))}", missing=missing[:100])
        return ids

    def update_pictures(self, picture_ids: Sequence[int], **fields: object) -> int:
        """Set rating / favourite / flagged / taken_at on several pictures at once."""
        ids = self.require_pictures(picture_ids)
        with self.db.write():
            changed = self.pictures.update(ids, **fields)
        self.events.publish(Event("picture.changed", ids, {"fields": sorted(fields)}))
        return changed

    def tag_pictures(
        self, picture_ids: Sequence[int], add: Sequence[str] = (), remove: Sequence[str] = (), category: str = "general"
    ) -> None:
        ids = self.require_pictures(picture_ids)
        with self.db.write():
            self.tags.add_to_pictures(ids, [self.tags.ensure(name, category) for name in add])
            removable = [t for t in (self.tags.resolve(name) for name in remove) if t is not None]
            self.tags.remove_from_pictures(ids, removable)
        self.events.publish(Event("picture.changed", ids, {"fields": ["tags"]}))

    def set_caption(
        self, picture_id: int, text: str | None, source: str = "user", engine_version: str | None = None
    ) -> None:
        self.require_pictures([picture_id])
        with self.db.write():
            self.pictures.set_caption(picture_id, source, text, engine_version, now_ms())
        self.events.publish(Event("picture.changed", [picture_id], {"fields": ["captions"]}))

    def review_predictions(self, picture_id: int, accept: Sequence[str] = (), reject: Sequence[str] = ()) -> None:
        """Accept predicted tags (they become the picture's tags) or reject them (never proposed again)."""
        self.require_pictures([picture_id])
        with self.db.write():
            self.tags.accept_predictions(picture_id, [t for t in map(self.tags.resolve, accept) if t is not None])
            self.tags.reject_predictions(picture_id, [t for t in map(self.tags.resolve, reject) if t is not None])
        self.events.publish(Event("picture.changed", [picture_id], {"fields": ["tags", "predictions"]}))

    # -- scrapheap ------------------------------------------------------------------------------

    def scrap(self, picture_ids: Sequence[int]) -> list[int]:
        """Soft delete: pictures move to the scrapheap, restorable until purged."""
        ids = self.require_pictures(picture_ids)
        with self.db.write():
            moved = self.pictures.scrap(ids, now_ms())
        self.near_duplicates.invalidate()
        self.events.publish(Event("picture.removed", moved))
        return moved

    def unscrap(self, picture_ids: Sequence[int]) -> list[int]:
        ids = self.require_pictures(picture_ids)
        with self.db.write():
            moved = self.pictures.unscrap(ids)
        self.near_duplicates.invalidate()
        self.events.publish(Event("picture.restored", moved))
        return moved

    def purge(self, picture_ids: Sequence[int] | None = None) -> list[int]:
        """Delete scrapheap pictures for good (all of them when no ids are given).

        Managed originals and thumbnails are removed. Reference-folder files are deleted only when
        their folder allows purging; otherwise they stay untouched on disk.
        """
        if picture_ids is None:
            ids = self.query.ids(PictureFilter(scrapheap=True))
        else:
            ids = self.require_pictures(picture_ids)
            live = set(self.pictures.existing_ids(ids, live_only=True))
            if live:
                raise BadInput(
                    "only pictures in the scrapheap can be purged; delete them first", live=sorted(live)[:100]
                )
        if not ids:
            return []
        doomed = []
        for picture_id in ids:
            content_hash, suffix, managed = self.pictures.address(picture_id)
            files = []
            for folder_id, root, rel_path in self.folders.locations(picture_id):
                if self.folders.get(folder_id).options.allow_purge:
                    files.append(Path(root) / rel_path)
            doomed.append((content_hash, suffix, managed, files))
        with self.db.write():
            self.pictures.delete_rows(ids)
        # Files go only after the rows are gone: a crash in between leaves orphan files, never rows
        # that point at nothing.
        for content_hash, suffix, managed, files in doomed:
            if managed:
                self.store.delete(content_hash, suffix)
            self.thumbnails.delete(content_hash)
            for file in files:
                file.unlink(missing_ok=True)
        self.near_duplicates.invalidate()
        self.events.publish(Event("picture.removed", ids, {"purged": True}))
        return ids
