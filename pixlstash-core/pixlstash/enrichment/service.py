"""The enrichment front door: queueing work (the engine chosen through the ``EngineCatalog``), cancelling
it, reporting progress.

Work is queued here (on import, or on request for a selection) and done by an ``EnrichmentWorker``:
in the server's process, or in ``pixlstash enrich`` when no server runs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import msgspec

from ..db.database import Database
from ..db.jobs import JobStore
from ..db.pictures import PictureStore
from ..db.query import PictureQuery
from ..db.settings import SettingsStore
from ..domain import ClusterProgress, EngineProgress, Job, JobItemError, PictureFilter
from ..domain.enrichment import EngineRun
from ..engines import Engine, Task
from ..engines.catalog import EngineCatalog
from ..errors import BadInput, EngineNotFound, ModelMissing
from ..system.clock import now_ms
from ..system.events import Event, EventBus

__all__ = ["Enrichment"]


_CLUSTER_KEY = "enrichment.cluster"
_ENGINES_KEY = "enrichment.engines"


class Enrichment:
    def __init__(
        self,
        db: Database,
        jobs: JobStore,
        pictures: PictureStore,
        query: PictureQuery,
        engines: EngineCatalog,
        events: EventBus,
    ) -> None:
        self.db, self.jobs, self.pictures, self.query = db, jobs, pictures, query
        self.engines, self.events = engines, events
        self.wake = threading.Event()  # set when work is queued, so an idle worker starts at once
        self._settings = SettingsStore(db, "settings")

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
        engine = self.engines.get(task, engine_id)
        status = engine.model_status()
        if not status.present:  # said now, not as a job that can only fail
            raise ModelMissing(
                f"the model of {engine.id} ({status.model}) is not on this machine: {status.how_to_get}",
                engine_id=engine.id,
                location=status.location,
            )
        parameters = self.engines.parameters_for(engine, parameters)
        ids = self.pictures.require(picture_ids) if picture_ids is not None else self.query.ids(f or PictureFilter())
        with self.db.write():
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
        chosen = []
        for name in self.engines.settings().on_import:
            try:
                task, engine_id = self.engines.import_choices([name])[0]
                engine = self.engines.get(task, engine_id)
            except (EngineNotFound, BadInput):  # a plugin uninstalled since: its entry waits for it
                continue
            if engine.model_status().present:  # queueing work that cannot run would only fail it
                chosen.append((task, engine))
        return chosen

    # -- managing -------------------------------------------------------------------------------

    def cancel(self, job_id: int) -> Job:
        with self.db.write():
            self.jobs.cancel(job_id, now_ms())
        return self.publish_progress(job_id)

    def retry(self, job_id: int) -> Job:
        with self.db.write():
            self.jobs.retry(job_id)
        self.wake.set()
        return self.jobs.get(job_id)

    def publish_progress(self, job_id: int) -> Job:
        """The job as it is now, announced on the live stream (``job.progress``)."""
        job = self.jobs.get(job_id)
        self.events.publish(
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
        """Each engine's queue and speed, with where the worker runs it and at what batch (once loaded)."""
        runs = self._settings.get(_ENGINES_KEY, dict[str, EngineRun], {})
        return [
            msgspec.structs.replace(p, device=run.device, batch=run.batch, note=run.note)
            if (run := runs.get(p.engine_id))
            else p
            for p in self.jobs.progress(now_ms())
        ]

    def report_engines(self, running: dict[str, EngineRun]) -> None:
        """Where the worker runs its loaded engines and at what batch, for other processes (``jobs``, the API)."""
        self._settings.put(_ENGINES_KEY, running)

    def report_cluster(self, progress: ClusterProgress) -> None:
        """A Ray worker's figures, for ``pixlstash jobs``, the API and the task manager in other processes."""
        self._settings.put(_CLUSTER_KEY, progress)

    def cluster(self) -> ClusterProgress | None:
        """The last figures a Ray worker reported, while they are fresh (a minute)."""
        progress = self._settings.get(_CLUSTER_KEY, ClusterProgress | None, None)
        return progress if progress is not None and now_ms() - progress.updated_at < 60_000 else None
