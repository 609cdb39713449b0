"""The enrichment front door: engines and settings, queueing work, cancelling it, reporting progress.

Work is queued here (on import, or on request for a selection) and done by an ``EnrichmentWorker``:
in the server's process, or in ``pixlstash enrich`` when no server runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import numpy as np

from ..clock import now_ms
from ..domain import EngineProgress, EnrichmentSettings, Job, JobItemError, PictureFilter
from ..engines import Embedder, Engine, Task
from ..engines.registry import EngineRegistry
from ..engines.runtime import EngineRuntime
from ..errors import BadInput, EngineNotFound
from ..events import Event
from ..plugin_settings import PluginSettings
from ..storage.jobs import JobStore
from ..storage.settings import SettingsStore
from .inputs import load_input

if TYPE_CHECKING:
    from ..library import Library

__all__ = ["Enrichment"]

T = TypeVar("T")

_SETTINGS_KEY = "enrichment"


class Enrichment:
    def __init__(self, library: Library) -> None:
        self.library = library
        self.jobs = JobStore(library.db)
        self.settings_store = SettingsStore(library.db, "settings")
        self._registry: tuple[PluginSettings, bytes, EngineRegistry] | None = None
        self.runtime = EngineRuntime(lambda: self.settings().device)
        self.wake = threading.Event()  # set when work is queued, so an idle worker starts at once

    # -- settings and engines -------------------------------------------------------------------

    @property
    def registry(self) -> EngineRegistry:
        """The installed engines, collected again when plugins come or go (the library then makes a new
        ``plugin_settings``) or their settings change, in this process or another."""
        plugin_settings = self.library.plugin_settings
        settings = plugin_settings.all()
        encoded = msgspec.json.encode(settings)
        cached = self._registry
        if cached is None or cached[0] is not plugin_settings or cached[1] != encoded:
            registry = EngineRegistry.from_plugin_manager(self.library.plugin_manager, settings)
            self._registry = cached = (plugin_settings, encoded, registry)
        return cached[2]

    def settings(self) -> EnrichmentSettings:
        return self.settings_store.get(_SETTINGS_KEY, EnrichmentSettings, EnrichmentSettings())

    def configure(self, settings: EnrichmentSettings) -> EnrichmentSettings:
        for task, engine_id in settings.defaults.items():
            self.engine(_task(task), engine_id)
        for task in settings.on_import:
            _task(task)
        self.settings_store.put(_SETTINGS_KEY, settings)
        return settings

    def engines(self, task: Task | None = None) -> list[Engine]:
        tasks = [task] if task else list(Task)
        return [engine for t in tasks for engine in self.registry.engines(t)]

    def engine(self, task: Task, engine_id: str | None = None) -> Engine:
        """The engine asked for, else the task's default from settings, else the first one ready to run."""
        engine_id = engine_id or self.settings().defaults.get(task.value)
        if engine_id:
            return self.registry.get(task, engine_id)
        installed = self.registry.engines(task)
        if not installed:
            raise EngineNotFound(
                f"no {task.value} engine is installed (pip install a plugin such as pixlstash-clip, then restart)",
                task=task.value,
            )
        # The first engine whose model is here; else the first (its error then says how to get the model).
        return next((e for e in installed if e.model_status().present), installed[0])

    def engine_by_id(self, engine_id: str) -> Engine:
        for engine in self.engines():
            if engine.id == engine_id:
                return engine
        raise EngineNotFound(f"no engine {engine_id!r} is installed", engine_id=engine_id)

    # -- running engines outside jobs (search encodes queries on the fly) -------------------------

    def run_engine(self, engine: Engine, work: Callable[[], T]) -> T:
        return self.runtime.call(engine, work)

    def embed_pictures(self, engine: Embedder, picture_ids: Sequence[int]) -> list[np.ndarray]:
        """Vectors for stored pictures computed now (not stored: their jobs store them)."""
        inputs = self.library.pictures.media_inputs(picture_ids)
        images = [load_input(self.library, pid, *inputs[pid], engine.input_size) for pid in picture_ids]
        vectors = self.runtime.call(engine, lambda: engine.embed_images(images))
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    # -- queueing -------------------------------------------------------------------------------

    def enqueue(
        self,
        task: Task,
        picture_ids: Sequence[int] | None = None,
        *,
        engine_id: str | None = None,
        f: PictureFilter | None = None,
        parameters: dict[str, Any] | None = None,
        force: bool = False,
        reason: str = "request",
    ) -> Job | None:
        """Queue ``task`` for pictures (ids, or every picture a filter matches) with one engine.

        Pictures this engine version already did are skipped unless ``force``; so are pictures already
        queued for it. Returns the job, or None when nothing was left to do.
        """
        engine = self.engine(task, engine_id)
        self._check_parameters(engine, parameters or {})
        if picture_ids is not None:
            ids = self.library.require_pictures(picture_ids)
        else:
            ids = self.library.query.ids(f or PictureFilter())
        with self.library.db.write():
            if not force:
                ids = self.jobs.not_enriched(engine.id, engine.version, ids)
            job_id = self.jobs.create(
                task.value, engine.id, engine.version, ids, parameters=parameters, reason=reason, now=now_ms()
            )
        if job_id is None:
            return None
        self.wake.set()
        return self.publish_progress(job_id)

    def queue_imported(self, picture_ids: Sequence[int]) -> list[Job]:
        """Queue every on-import task with its default engine for new pictures (engines with their model)."""
        if not picture_ids:
            return []
        queued = []
        for task in self._import_tasks():
            job = self.enqueue(task[0], picture_ids, engine_id=task[1].id, reason="import")
            if job is not None:
                queued.append(job)
        return queued

    def queue_missing(self) -> list[Job]:
        """Catch up: live pictures never queued for an on-import engine (a crash mid-import, a new plugin)."""
        queued = []
        for task, engine in self._import_tasks():
            ids = self.jobs.never_queued(engine.id)
            if ids:
                job = self.enqueue(task, ids, engine_id=engine.id, reason="import")
                if job is not None:
                    queued.append(job)
        return queued

    def _import_tasks(self) -> list[tuple[Task, Engine]]:
        settings = self.settings()
        chosen = []
        for name in settings.on_import:
            try:
                engine = self.engine(Task(name))
            except EngineNotFound:
                continue
            if engine.model_status().present:  # queueing work that cannot run would only fail it
                chosen.append((Task(name), engine))
        return chosen

    @staticmethod
    def _check_parameters(engine: Engine, parameters: dict[str, Any]) -> None:
        declared = {p.name for p in engine.parameters()}
        unknown = sorted(set(parameters) - declared)
        if unknown:
            raise BadInput(f"{engine.id} has no parameter {', '.join(unknown)}", accepted=sorted(declared))

    # -- managing -------------------------------------------------------------------------------

    def cancel(self, job_id: int) -> Job:
        with self.library.db.write():
            self.jobs.cancel(job_id, now_ms())
        return self.publish_progress(job_id)

    def retry(self, job_id: int) -> Job:
        with self.library.db.write():
            self.jobs.retry(job_id)
        self.wake.set()
        return self.jobs.get(job_id)

    def publish_progress(self, job_id: int) -> Job:
        """The job as it is now, announced on the live stream (``job.progress``)."""
        job = self.jobs.get(job_id)
        self.library.events.publish(
            Event(
                "job.progress",
                data={
                    "job_id": job.id,
                    "engine_id": job.engine_id,
                    "state": job.state,
                    "total": job.total,
                    "done": job.done,
                    "failed": job.failed,
                },
            )
        )
        return job

    def job(self, job_id: int) -> Job:
        return self.jobs.get(job_id)

    def list_jobs(self, *, open_only: bool = False, limit: int = 100) -> list[Job]:
        return self.jobs.list(open_only=open_only, limit=limit)

    def job_errors(self, job_id: int) -> list[JobItemError]:
        self.jobs.get(job_id)
        return self.jobs.item_errors(job_id)

    def progress(self) -> list[EngineProgress]:
        return self.jobs.progress(now_ms())


def _task(name: str) -> Task:
    try:
        return Task(name)
    except ValueError:
        raise BadInput(f"unknown task {name!r}; tasks are {', '.join(t.value for t in Task)}") from None
