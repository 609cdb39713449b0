"""The library's services, each made the first time it is asked for (``built_once``).

Opening a library used to import and build every service: numpy, Pillow, usearch, the engine layer, the
ComfyUI client, every plugin (for the original store). A command that only reads the database (`ls`,
`history`) paid for all of it on every start. Now the stores over the database are made when the library
opens, and everything else, with its imports, when something first uses it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .db.settings import SettingsStore
from .errors import PixlstashError
from .files.originals import OriginalStore
from .files.store_choice import check_store_installed

if TYPE_CHECKING:
    from .comfy.runs import ComfyRuns
    from .db.ocr import TextStore
    from .db.scores import ScoreStore
    from .db.vectors import VectorStore
    from .engines.catalog import EngineCatalog
    from .enrichment import Enrichment
    from .files.picture_files import PictureFiles
    from .files.previews import PreviewPass
    from .history.undo import Edits
    from .importing.folders import FolderService
    from .importing.importer import RunningCount
    from .importing.sources import ArchiveLimits
    from .index.indexes import VectorIndexes
    from .index.near_duplicates import NearDuplicateIndex
    from .insights.service import Insights
    from .media.thumbnails import ThumbnailCache
    from .organising.curation import Curation
    from .organising.organiser import Organiser
    from .organising.stacks import Stacks
    from .people.service import People
    from .pictures.editor import PictureEditor
    from .pictures.scrapheap import Scrapheap
    from .search.likeness import LikenessService
    from .search.service import SearchService
    from .training import TrainingExport
    from .training.caption_tokens import CaptionTokenizer

__all__ = ["LibraryServices", "built_once"]

T = TypeVar("T")


class built_once(Generic[T]):  # lower case: a decorator, like functools.cached_property
    """A service its owner makes the first time it is asked for, then keeps. Unlike cached_property, an
    instance lock makes it exactly once when threads ask together (Python 3.12 dropped cached_property's)."""

    def __init__(self, factory: Callable[[Any], T]) -> None:
        self.factory = factory
        self.name = factory.__name__
        self.__doc__ = factory.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]
        made = instance.__dict__.get(self.name, _MISSING)
        if made is _MISSING:
            with instance._services_lock:
                made = instance.__dict__.get(self.name, _MISSING)
                if made is _MISSING:
                    made = instance.__dict__[self.name] = self.factory(instance)
        return made


_MISSING = object()


class LibraryServices:
    """What :class:`~pixlstash.library.Library` makes on demand. Its ``__init__`` sets the stores these
    are made from (``db``, ``pictures``, ``tags``, ``collections``, ``folders``, ``query``, ``jobs``,
    ``events``, ``history_log``, ``limits``, ``root``, ``plugin_manager``)."""

    _services_lock: threading.RLock

    def built(self, name: str) -> bool:
        """Whether the service ``name`` has been made (closing leaves alone what was never made)."""
        return name in self.__dict__

    # -- stores and caches that pull numpy, Pillow or usearch -------------------------------------

    @built_once
    def vectors(self) -> VectorStore:
        from .db.vectors import VectorStore

        return VectorStore(self.db)

    @built_once
    def scores(self) -> ScoreStore:
        from .db.scores import ScoreStore

        return ScoreStore(self.db)

    @built_once
    def texts(self) -> TextStore:
        from .db.ocr import TextStore

        return TextStore(self.db)

    @built_once
    def thumbnails(self) -> ThumbnailCache:
        from .media.thumbnails import ThumbnailCache

        return ThumbnailCache(self.root / "thumbnails")

    @built_once
    def near_duplicates(self) -> NearDuplicateIndex:
        from .index.near_duplicates import NearDuplicateIndex

        return NearDuplicateIndex(self.db)

    @built_once
    def indexes(self) -> VectorIndexes:
        from .index.indexes import VectorIndexes

        return VectorIndexes(self.root / "indexes", self.vectors)

    @built_once
    def engines(self) -> EngineCatalog:
        from .engines.catalog import EngineCatalog

        return EngineCatalog(self.plugin_manager, self._plugin_settings, SettingsStore(self.db, "settings"))

    @built_once
    def archive_limits(self) -> ArchiveLimits:
        from .importing.sources import ArchiveLimits

        return self._archive_limits or ArchiveLimits()

    @built_once
    def imports_running(self) -> RunningCount:
        from .importing.importer import RunningCount

        return RunningCount()

    # -- the services ---------------------------------------------------------------------------

    @built_once
    def store(self) -> OriginalStore:
        """Where managed originals live: the ``make_original_store`` hook's answer, with the plugin settings
        (asking it loads the plugins)."""
        store = self.plugin_manager.hook.make_original_store(
            library_root=self.root, settings=self.plugin_settings.all()
        )
        if not isinstance(store, OriginalStore):
            raise PixlstashError("no plugin provides an original store (is local-storage disabled?)")
        check_store_installed(store, SettingsStore(self.db, "settings").get("plugin:s3", dict, {}))
        return store

    @built_once
    def files(self) -> PictureFiles:
        from .files.picture_files import PictureFiles
        from .files.staged import StagedOriginals

        staged = StagedOriginals(self.root / "cache" / "originals", self.store)
        return PictureFiles(
            self.pictures, self.folders, self.store, self.thumbnails, self.limits, self.vectors, staged=staged
        )

    @built_once
    def enrichment(self) -> Enrichment:
        from .enrichment import Enrichment

        return Enrichment(self.db, self.jobs, self.pictures, self.query, self.engines, self.events)

    @built_once
    def search(self) -> SearchService:
        from .search.service import SearchService

        return SearchService(self.indexes, self.engines, self.vectors, self.pictures, self.query, self.files)

    @built_once
    def likeness(self) -> LikenessService:
        from .search.likeness import LikenessService

        return LikenessService(self.search, self.engines, self.vectors, self.collections)

    @built_once
    def previews(self) -> PreviewPass:
        from .files.previews import PreviewPass

        return PreviewPass(self.pictures, self.files, SettingsStore(self.db, "settings"), self.busy)

    @built_once
    def training(self) -> TrainingExport:
        from .people.clusters import DEFAULT_THRESHOLD
        from .training import TrainingExport
        from .training.caption_tokens import TokenCache
        from .training.picture_quality import MeasureCache

        settings = SettingsStore(self.db, "settings")
        # Faces are alike at the library's cluster threshold (a learned metric's own threshold is not cosine).
        return TrainingExport(
            self.query,
            self.pictures,
            self.files,
            settings,
            self.limits,
            self.vectors,
            self.collections,
            lambda _: DEFAULT_THRESHOLD,
            MeasureCache(self.thumbnails.root / "measures.v1.msgpack"),
            self._caption_tokenizers,
            TokenCache(self.root / "indexes" / "caption-tokens.v1.msgpack"),
        )

    def _caption_tokenizers(self) -> list[CaptionTokenizer]:
        """The plugins' tokenizers, asked for each check (a plugin's settings may have changed)."""
        found: list[CaptionTokenizer] = []
        self.plugin_manager.hook.register_caption_tokenizers(register=found.append, settings=self.plugin_settings.all())
        return found

    @built_once
    def insights(self) -> Insights:
        from .db.outcomes import OutcomeStore
        from .insights.feature_cache import FeatureCache
        from .insights.service import Insights

        cache = FeatureCache(self.root / "indexes" / "insights.v1.npz")
        return Insights(self.query, OutcomeStore(self.db), self.collections, cache)

    @built_once
    def scrapheap(self) -> Scrapheap:
        from .pictures.scrapheap import Scrapheap

        return Scrapheap(
            self.db,
            self.pictures,
            self.folders,
            self.query,
            self.store,
            self.thumbnails,
            self.near_duplicates,
            self.events,
        )

    @built_once
    def organise(self) -> Organiser:
        from .organising.organiser import Organiser

        return Organiser(self.db, self.collections, self.tags, self.pictures, self.vectors, self.events)

    @built_once
    def folder_sync(self) -> FolderService:
        from .importing.folders import FolderService

        return FolderService(
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

    @built_once
    def editor(self) -> PictureEditor:
        from .pictures.editor import PictureEditor

        return PictureEditor(self.db, self.pictures, self.tags, self.events)

    @built_once
    def edits(self) -> Edits:
        from .db.history_outbox import HistoryOutbox
        from .db.picture_edit_rows import PictureEditRows
        from .db.stacks import StackStore
        from .history.journal import UndoJournal
        from .history.undo import Edits
        from .pictures.looks import PictureLooks

        return Edits(
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
            looks=PictureLooks(self.db, PictureEditRows(self.db), self.events),
        )

    @built_once
    def people(self) -> People:
        from .db.faces import FaceStore
        from .people.clusters import FaceClustering
        from .people.service import People

        faces = FaceStore(self.db)
        return People(
            self.db,
            self.vectors,
            self.collections,
            self.search,
            self.organise,
            self.edits,
            self.events,
            faces,
            FaceClustering(self.db, faces, self.vectors, self.indexes, self.search.face_likeness),
            SettingsStore(self.db, "settings"),
        )

    @built_once
    def curation(self) -> Curation:
        from .organising.curation import Curation

        return Curation(self.db, self.collections, self.pictures, self.edits, self.events)

    @built_once
    def stacks(self) -> Stacks:
        from .db.stacks import StackStore
        from .organising.stacks import Stacks

        return Stacks(self.db, StackStore(self.db), self.pictures, self.edits)

    @built_once
    def comfy(self) -> ComfyRuns:
        from .comfy.runs import ComfyRuns

        return ComfyRuns(self)

    # Declared for type checkers; Library sets or defines them.
    if TYPE_CHECKING:
        root: Path
        _archive_limits: ArchiveLimits | None

        def new_importer(self, workers: int | None = None) -> Any: ...

        def busy(self) -> bool: ...
