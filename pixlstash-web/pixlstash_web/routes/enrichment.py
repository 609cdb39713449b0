"""Engines and enrichment jobs: what is installed, the settings, queueing work and watching it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from pixlstash.domain import ClusterProgress, EngineProgress, EnrichmentSettings, Job, JobItemError, PictureFilter
from pixlstash.engines import Embedder, Engine, EngineParameter, ModelStatus, Scorer, Task
from pixlstash.engines.model_pulls import ModelPull
from pixlstash.engines.tasks import TASKS

from ..api import Api, RequestContext
from ..schemas import IdList
from ..security import Policy
from ..state import AppState

TaskName = Literal[tuple(task.value for task in Task)]  # the engine layer's table of tasks decides


class EngineInfo(msgspec.Struct):
    id: str
    task: str
    version: str
    label: str
    parameters: list[EngineParameter]
    model: ModelStatus
    is_default: bool
    loaded: bool
    device: str | None
    batch_size: int
    dimensions: int | None = None
    supports_text: bool | None = None
    # Scorers: the range of their scores, and what they read ("image", or "embedding" of ``embedder_id``).
    score_range: tuple[float, float] | None = None
    reads: str | None = None
    embedder_id: str | None = None


class EnqueueRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Queue a task for pictures: ``picture_ids``, or every picture ``filter`` matches (the whole library
    when neither is given). ``engine`` defaults to the task's default engine."""

    task: TaskName
    engine: Annotated[str, Meta(max_length=200)] | None = None
    picture_ids: IdList | None = None
    filter: PictureFilter | None = None
    parameters: dict[str, Any] = {}
    force: bool = False  # also pictures this engine version already did


class PullRequest(msgspec.Struct, forbid_unknown_fields=True):
    engine_id: Annotated[str, Meta(max_length=200)]


class EnqueueResult(msgspec.Struct):
    job: Job | None  # None: every picture was already done (or queued) with this engine


class JobDetail(msgspec.Struct):
    job: Job
    errors: list[JobItemError]


class ClusterStatus(msgspec.Struct):
    cluster: ClusterProgress | None


class JobsQuery(msgspec.Struct, forbid_unknown_fields=True):
    open_only: bool = False
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


def engine_info(state: AppState, engine: Engine) -> EngineInfo:
    engines = state.library.engines
    try:
        default = engines.get(engine.task).id == engine.id
    except Exception:  # a default naming an uninstalled engine: nothing here is the default
        default = False
    loaded, device = engines.runtime.status(engine)
    return EngineInfo(
        id=engine.id,
        task=engine.task.value,
        version=engine.version,
        label=engine.label or engine.id,
        parameters=engine.parameters(),
        model=engine.model_status(),
        is_default=default,
        loaded=loaded,
        device=device,
        batch_size=engine.preferred_batch_size,
        dimensions=getattr(engine, "dimensions", None) if TASKS[engine.task].vector_kind else None,
        supports_text=engine.supports_text if isinstance(engine, Embedder) else None,
        score_range=(engine.low, engine.high) if isinstance(engine, Scorer) else None,
        reads=engine.reads if isinstance(engine, Scorer) else None,
        embedder_id=(engine.embedder_id or None) if isinstance(engine, Scorer) else None,
    )


def register(api: Api) -> None:
    @api.get(
        "/engines",
        policy=Policy.READ,
        tag="engines",
        summary="Installed engines per task, with parameters, model status and which is the default",
    )
    def engines(ctx: RequestContext) -> list[EngineInfo]:
        return [engine_info(ctx.state, engine) for engine in ctx.library.engines.installed()]

    @api.get(
        "/engines/pulls",
        policy=Policy.READ,
        tag="engines",
        summary="Model downloads started from the browser: running (bytes so far), done or failed (why)",
    )
    def pulls(ctx: RequestContext) -> list[ModelPull]:
        return ctx.state.model_pulls.all()

    @api.post(
        "/engines/pulls",
        policy=Policy.ADMIN,
        status=202,
        tag="engines",
        summary="Download an engine's model in the background (the only way the server fetches model files)",
        extra_responses={409: "its model is being pulled already"},
    )
    def pull(ctx: RequestContext, body: PullRequest) -> ModelPull:
        return ctx.state.model_pulls.start(ctx.library.engines.by_id(body.engine_id))

    @api.get(
        "/engines/settings",
        policy=Policy.READ,
        tag="engines",
        summary="Default engine per task, tasks run on import, device and idle unload time",
    )
    def get_settings(ctx: RequestContext) -> EnrichmentSettings:
        return ctx.library.engines.settings()

    @api.put(
        "/engines/settings",
        policy=Policy.ADMIN,
        tag="engines",
        summary="Change the enrichment settings",
    )
    def put_settings(ctx: RequestContext, body: EnrichmentSettings) -> EnrichmentSettings:
        return ctx.library.engines.configure(body)

    @api.get(
        "/jobs",
        policy=Policy.READ,
        tag="jobs",
        summary="Enrichment jobs, newest first",
    )
    def jobs(ctx: RequestContext, query: JobsQuery) -> list[Job]:
        return ctx.library.enrichment.list_jobs(open_only=query.open_only, limit=query.limit)

    @api.post(
        "/jobs",
        policy=Policy.WRITE,
        status=202,
        tag="jobs",
        summary="Queue work for a selection with a chosen engine (re-tag, describe, embed, find faces)",
    )
    def enqueue(ctx: RequestContext, body: EnqueueRequest) -> EnqueueResult:
        job = ctx.library.enrichment.enqueue(
            Task(body.task),
            body.picture_ids,
            engine_id=body.engine,
            f=body.filter,
            parameters=body.parameters,
            force=body.force,
        )
        return EnqueueResult(job)

    @api.get(
        "/jobs/progress",
        policy=Policy.READ,
        tag="jobs",
        summary="Queued, running, done and failed pictures and throughput per engine",
    )
    def progress(ctx: RequestContext) -> list[EngineProgress]:
        return ctx.library.enrichment.progress()

    @api.get(
        "/jobs/cluster",
        policy=Policy.READ,
        tag="jobs",
        summary="A Ray cluster's part: pictures per node, batches out, throughput (null when none reports)",
    )
    def cluster(ctx: RequestContext) -> ClusterStatus:
        return ClusterStatus(ctx.library.enrichment.cluster())

    @api.get(
        "/jobs/{job_id:int}",
        policy=Policy.READ,
        tag="jobs",
        summary="One job and the pictures that failed in it",
    )
    def job(ctx: RequestContext) -> JobDetail:
        job_id = ctx.path["job_id"]
        return JobDetail(ctx.library.enrichment.job(job_id), ctx.library.enrichment.job_errors(job_id))

    @api.post(
        "/jobs/{job_id:int}/cancel",
        policy=Policy.WRITE,
        tag="jobs",
        summary="Cancel a job's unfinished pictures",
    )
    def cancel(ctx: RequestContext) -> Job:
        return ctx.library.enrichment.cancel(ctx.path["job_id"])

    @api.post(
        "/jobs/{job_id:int}/retry",
        policy=Policy.WRITE,
        tag="jobs",
        summary="Queue a job's failed and cancelled pictures again",
    )
    def retry(ctx: RequestContext) -> Job:
        return ctx.library.enrichment.retry(ctx.path["job_id"])
