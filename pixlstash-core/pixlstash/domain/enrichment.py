"""Domain types of enrichment: jobs and their progress, the engines' and previews' settings. Part of
``pixlstash.domain`` (which re-exports every name here), kept apart to keep each module short."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

JobState = Literal["queued", "running", "done", "failed", "cancelled"]


class Job(msgspec.Struct, frozen=True):
    """One request for enrichment: an engine over some pictures, with its progress."""

    id: int
    task: str
    engine_id: str
    engine_version: str
    state: JobState
    reason: str
    total: int
    done: int
    failed: int
    queued: int
    created_at: int
    started_at: int | None = None
    finished_at: int | None = None
    error: str | None = None
    parameters: dict[str, Any] = {}


class JobItemError(msgspec.Struct, frozen=True):
    picture_id: int
    error: str
    attempts: int


class EngineProgress(msgspec.Struct, frozen=True):
    """Queue counts and throughput of one engine (``pixlstash jobs`` and ``GET /jobs/progress``)."""

    engine_id: str
    task: str
    queued: int
    running: int
    done: int
    failed: int
    pictures_per_second: float
    seconds_left: float | None = None  # at that speed, for what is queued and running (None: not started)
    device: str | None = None  # where the worker runs it now ("cuda", "cpu"), once it has loaded it
    batch: int | None = None  # how many pictures it runs at once there (sized from the GPU's free memory)
    note: str = ""  # how it runs there ("bfloat16, static cache", why not the GPU) or why its batch changed


class EngineRun(msgspec.Struct, frozen=True):
    """Where the worker runs a loaded engine and at what batch: reported for other processes."""

    device: str
    batch: int
    note: str = ""


class ClusterProgress(msgspec.Struct, frozen=True):
    """What a worker running engines on a Ray cluster last reported (``GET /jobs/cluster``)."""

    address: str | None  # None: a Ray started by the worker on its own machine
    nodes: dict[str, int]  # node id -> pictures it ran
    in_flight: int  # batches out now
    pictures_per_second: float  # since the worker started
    local: bool  # the cluster went away and the work went on in the worker's process
    updated_at: int  # Unix ms


class RaySettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Enrichment on a Ray cluster (``backend: ray``; needs the core's ``ray`` extra here and on the cluster)."""

    address: Annotated[str, Meta(max_length=500)] | None = None  # "auto", "ray://host:10001"; None: a local Ray
    max_in_flight: Annotated[int, Meta(ge=1, le=1024)] = 4  # batches out at once (memory stays flat)
    actors_per_engine: Annotated[int, Meta(ge=1, le=1024)] = 2  # the most actors one engine gets
    actors: dict[Annotated[str, Meta(max_length=200)], Annotated[int, Meta(ge=1, le=1024)]] = {}  # per engine id
    num_cpus: Annotated[float, Meta(ge=0, le=1024)] = 1.0  # what each actor reserves on its node
    num_gpus: Annotated[float, Meta(ge=0, le=64)] = 0.0
    memory_gb: Annotated[float, Meta(ge=0, le=4096)] | None = None
    when_lost: Literal["local", "pause"] = "local"  # the cluster went away: go on here, or stop and wait
    # Ray's runtime environment for the actors, e.g. {"pip": ["ray", "/wheels/pixlstash_core-0.1.0-py3-none-any.whl",
    # "/wheels/pixlstash_clip-0.1.0-py3-none-any.whl"]} (our wheels, built from the repository) or
    # {"env_vars": {"PIXLSTASH_MODELS_DIR": "/shared/models"}}; or bake the plugins into the cluster's image.
    runtime_env: dict[str, Any] | None = None


class EnrichmentSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Which engine each task uses by default, what runs on import, and where engines run."""

    defaults: dict[Annotated[str, Meta(max_length=20)], Annotated[str, Meta(max_length=200)]] = {}  # task -> engine
    # Run on each new picture: tasks (with their default engine) or engine ids (several scorers, say).
    on_import: list[str] = msgspec.field(default_factory=lambda: ["embedder", "tagger", "faces"])
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    idle_unload_seconds: Annotated[float, Meta(ge=0, le=604_800)] = 300.0  # unload a model this long after last use
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 3  # a picture that crashed the worker this often: failed
    backend: Literal["local", "ray"] = "local"  # where engines run: this process, or a Ray cluster
    ray: RaySettings = msgspec.field(default_factory=lambda: RaySettings())
    # engine id -> the parameters it runs with (on import too) unless a request gives its own
    parameters: dict[Annotated[str, Meta(max_length=200)], dict[Annotated[str, Meta(max_length=100)], Any]] = {}


class PreviewSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Previews (1024 px) are made on a picture's first view. ``ahead`` also makes the missing ones in the
    background while the library is idle: overlays open at once, for about 80 KB per photo of disk."""

    ahead: bool = False


class PreviewProgress(msgspec.Struct, frozen=True):
    """What the background preview pass did since the process started, and whether it is at work now."""

    settings: PreviewSettings
    running: bool
    made: int
    failed: int


class PeopleSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How faces become people: the likeness at which two unnamed faces are one person, and whether a new
    face that is clearly one character's is named as it automatically (marked so, and undoable)."""

    cluster_threshold: Annotated[float, Meta(ge=0, le=1)] = 0.5
    # Per face engine, the likeness at which two faces are one person (and at which automatic naming
    # names), over the above; an engine with a learned metric (CCIP) not named here uses its model's own.
    engine_thresholds: dict[str, Annotated[float, Meta(ge=0, le=1)]] = {}
    auto_assign: bool = False
    auto_assign_threshold: Annotated[float, Meta(ge=0, le=1)] = 0.6
