"""Enrichment on a Ray cluster: the same queue, the same engines, run on the cluster's machines.

This process stays the only writer. It claims batches from the durable queue as the local worker does,
reads each batch's pictures at the engine's input size, and hands them to an engine stand-in
(``RemoteEngine``) whose task methods run on a pool of Ray actors. Each actor builds the engine from its
plugin's entry point and id on its worker machine (the plugin must be installed there: the same
environment, a ``runtime_env``, or a container image), loads the weights once and keeps them. The
results come back here and go through the same checks and writes as local results, so an engine's code
is the same locally and on a cluster, and nothing reaches the database that this process did not check.

With the originals in a bucket, a picture whose engine reads the original (not a thumbnail) goes to the
actor as an ``OriginalRef``: the actor reads it from the bucket itself, with the store the library's plugin
settings describe (credentials included, as Ray passes every setting), so no original passes through this
machine and the cluster needs no shared filesystem. The actor sends back the size it decoded, which the
results' boxes are scaled from.

Plain actors rather than Ray Data: the queue is already the dataset (durable, resumable, with per-picture
attempts), batches must be written in this process as they finish, and a fixed pool per engine keeps the
weights loaded. An actor runs its engine through the same runtime as the local worker (its device's batch,
a batch that runs out of GPU memory halved), and says the batch its device takes: this process claims
batches of that size for it. Actors of engines that run on a GPU reserve their declared share of one
(``Engine.ray_resources``) where the cluster has GPUs. At most ``max_in_flight`` batches are out at a
time (backpressure): memory stays flat however long the queue. An actor that dies mid-batch is replaced
and the batch retried on the pool; this process killed with -9 leaves its claims in the queue, which the
next worker requeues (``_recover``), and a batch is written once, in one transaction, or not at all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from ..domain import ClusterProgress
from ..engines.inputs import InputFrame, input_rendition
from ..engines.tasks import run_engine
from ..errors import PixlstashError
from ..system.clock import now_ms
from .worker import EnginesUnreachable, EnrichmentWorker, _Batch

__all__ = ["OriginalRef", "RayEnrichmentWorker", "RemoteEngine", "actor_resources", "import_ray"]

log = logging.getLogger(__name__)

_TASK_METHODS = ("embed_images", "tag", "describe", "extract", "score", "read")
_START_SECONDS = 120.0  # how long a new pool's actors may take to start (image pulls and model loads are later)
_RETRIES = 3  # an actor death costs a retry on a fresh actor; a batch that kills this many is not the actor's fault
# Originals an actor decodes itself from the bucket: what Pillow reads without a plugin (RAW, HEIC and
# JPEG XL are read here, through the library's own decoders).
_READ_BY_ACTORS = frozenset((".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"))


class OriginalRef:
    """A picture's original for an actor to read from the bucket; ``size`` is what it decoded (set here
    when the results come back)."""

    __slots__ = ("content_hash", "input_size", "keep_alpha", "size", "suffix")

    def __init__(self, content_hash: str, suffix: str, input_size: int, keep_alpha: bool) -> None:
        self.content_hash, self.suffix, self.input_size, self.keep_alpha = content_hash, suffix, input_size, keep_alpha
        self.size = (1, 1)

    def __getstate__(self):
        return (self.content_hash, self.suffix, self.input_size, self.keep_alpha)

    def __setstate__(self, state) -> None:
        self.content_hash, self.suffix, self.input_size, self.keep_alpha = state
        self.size = (1, 1)


def import_ray():
    """Ray, or a clear error naming how to install it (the embedded default runs without it)."""
    try:
        import ray
    except ImportError:
        raise PixlstashError(
            "enrichment on Ray needs Ray: pip install 'ray>=2.9' here and on the cluster's machines"
        ) from None
    return ray


def _bucket_store(settings: Mapping[str, Any] | None):
    """The library's bucket, built on a Ray worker from the plugin settings the driver sent."""
    import tempfile
    from pathlib import Path

    from pixlstash.plugins import make_plugin_manager

    made = make_plugin_manager().hook.make_original_store(
        library_root=Path(tempfile.gettempdir()), settings=dict(settings or {})
    )
    if made is None or not made.remote:
        raise PixlstashError("this Ray worker cannot read the library's bucket: install pixlstash-s3 on it")
    return made


def _engine_actor_class(ray):
    @ray.remote
    class EngineActor:
        """One engine, built on its worker from the plugins installed there, with its weights loaded once."""

        def __init__(self, engine_id: str, settings: Mapping[str, Any] | None) -> None:
            from pixlstash.engines.registry import EngineRegistry
            from pixlstash.engines.runtime import EngineRuntime
            from pixlstash.plugins import make_plugin_manager

            found = {e.id: e for e in EngineRegistry.from_plugin_manager(make_plugin_manager(), settings).all()}
            if engine_id not in found:
                raise PixlstashError(f"{engine_id} is not installed on this Ray worker: install its plugin there")
            self.engine = found[engine_id]
            self.runtime = EngineRuntime(lambda: "auto")
            self.calls = 0
            self.settings = settings
            self.store = None

        def call(self, method: str, images: Sequence, kwargs: dict[str, Any]):
            """The engine's results, the size of each image read from the bucket here (in order), and the
            batch the engine's device takes."""
            self.calls += 1
            resolved, sizes = [], []
            for image in images:
                if isinstance(image, OriginalRef):
                    image = self.read(image)
                    sizes.append(image.size)
                resolved.append(image)
            engine = self.engine
            parts = self.runtime.call_batched(engine, resolved, lambda part: [getattr(engine, method)(part, **kwargs)])
            return _joined(parts), sizes, self.runtime.batch(engine)

        def read(self, ref: OriginalRef):
            """The original from the bucket, as the driver would have decoded it (a large one spills to disk
            rather than memory)."""
            import shutil
            import tempfile

            from PIL import Image

            from pixlstash.engines.inputs import decoded_input

            if self.store is None:
                self.store = _bucket_store(self.settings)
            with tempfile.SpooledTemporaryFile(max_size=32 << 20) as spool:
                with self.store.open(ref.content_hash, ref.suffix) as stream:
                    shutil.copyfileobj(stream, spool, 1 << 20)
                spool.seek(0)
                with Image.open(spool) as image:  # (as load_input opens an original)
                    return decoded_input(image, ref.input_size, ref.keep_alpha, original=ref.suffix.lower() != ".webp")

        def node(self) -> str:
            return ray.get_runtime_context().get_node_id()

        def device(self) -> str | None:
            """Where the engine runs on its node ("cuda", "cpu", ...), once it has run."""
            return self.runtime.status(self.engine)[1]

    return EngineActor


def _joined(parts: list) -> Any:
    """One result from the results of a batch's parts: arrays stacked, lists joined."""
    if len(parts) == 1:
        return parts[0]
    if all(hasattr(part, "shape") for part in parts):
        import numpy as np

        return np.concatenate(parts)
    return [item for part in parts for item in part]


def actor_resources(settings: Mapping[str, Any], declared: Mapping[str, float], cluster_gpus: float) -> dict:
    """What one actor of an engine reserves: the library's ray settings, the engine's declaration over
    them. An engine that declares a share of a GPU gets the settings' ``num_gpus`` instead when that is
    set, and none on a cluster without GPUs (an actor asking for one there would never start)."""
    options = {**settings, **declared}
    if declared.get("num_gpus"):
        options["num_gpus"] = settings.get("num_gpus") or declared["num_gpus"]
        if cluster_gpus <= 0:
            options["num_gpus"] = 0.0
    return options


class _ActorPool:
    """A fixed pool of actors for one engine, handed out least-busy first; a dead one is replaced."""

    def __init__(self, ray, actor_class, engine_id: str, settings, size: int, options: dict[str, Any]) -> None:
        self.ray, self.engine_id, self.settings, self.options = ray, engine_id, settings, options
        self._make = lambda: actor_class.options(**options).remote(engine_id, settings)
        self._actors = [self._make() for _ in range(size)]
        self._busy = [0] * size
        self._lock = threading.Lock()
        try:  # started, or said why not, rather than a batch waiting forever on an actor that cannot start
            nodes = ray.get([actor.node.remote() for actor in self._actors], timeout=_START_SECONDS)
        except (ray.exceptions.GetTimeoutError, ray.exceptions.RayActorError) as error:
            self.kill()
            raise EnginesUnreachable(
                f"the Ray cluster could not start {size} actors for {engine_id} in {_START_SECONDS:.0f} s "
                f"({options}): too few free resources there, or its plugin does not load on the nodes ({error})"
            ) from error
        self._nodes: dict[int, str] = {id(a): n for a, n in zip(self._actors, nodes, strict=True)}
        self.per_node: dict[str, int] = {}
        self.batch = 0  # the batch the actors' device takes, once one has run
        self.replaced = 0
        self.closed = False  # killed: a batch still out fails rather than starting new actors

    def run(self, method: str, images: Sequence, kwargs: dict[str, Any]):
        ray = self.ray
        for attempt in range(_RETRIES):
            with self._lock:
                slot = min(range(len(self._actors)), key=self._busy.__getitem__)
                actor = self._actors[slot]
                self._busy[slot] += 1
            try:
                result, sizes, self.batch = ray.get(actor.call.remote(method, list(images), kwargs))
                for ref, size in zip([i for i in images if isinstance(i, OriginalRef)], sizes, strict=True):
                    ref.size = size  # the results' boxes are scaled from it
                node = self._nodes.get(id(actor)) or self._nodes.setdefault(id(actor), ray.get(actor.node.remote()))
                with self._lock:
                    self.per_node[node] = self.per_node.get(node, 0) + len(images)
                return result
            except ray.exceptions.RayTaskError as error:  # the engine raised: as it would have here
                raise (error.cause if isinstance(error.cause, Exception) else error) from None
            except (ray.exceptions.RayActorError, ray.exceptions.ActorDiedError) as error:
                if self.closed:
                    raise EnginesUnreachable(f"the Ray actors of {self.engine_id} were ended") from error
                log.warning("a Ray actor of %s died (%s): retrying the batch", self.engine_id, error)
                with self._lock:
                    if self._actors[slot] is actor:
                        self._actors[slot] = self._make()
                        self.replaced += 1
                if attempt == _RETRIES - 1:
                    raise EnginesUnreachable(
                        f"Ray actors of {self.engine_id} died {_RETRIES} times running one batch: {error}"
                    ) from error
            except self.ray.exceptions.RaySystemError as error:
                raise EnginesUnreachable(f"the Ray cluster cannot be reached: {error}") from error
            finally:
                with self._lock:
                    self._busy[slot] -= 1
        raise AssertionError("unreachable")

    def devices(self) -> list[str]:
        """Where each actor runs its engine (for reports)."""
        return [d for d in self.ray.get([actor.device.remote() for actor in self._actors]) if d]

    @property
    def idle(self) -> bool:
        return not any(self._busy)

    def kill(self) -> None:
        self.closed = True
        with self._lock:
            actors = list(self._actors)
        for actor in actors:
            self.ray.kill(actor)


class RemoteEngine:
    """Stands in for an engine here: its description (id, version, dimensions, parameters, ...) is the
    local engine's, its task methods run on the cluster. ``load`` is the actors' business."""

    def __init__(self, local, pool: _ActorPool) -> None:
        self._local, self._pool = local, pool

    def __getattr__(self, name: str):
        if name in _TASK_METHODS:
            return lambda images, **kwargs: self._pool.run(name, images, kwargs)
        return getattr(self._local, name)

    def devices(self) -> list[str]:
        return ["cpu"]  # where this process "loads" it; the actors choose their own devices

    def load(self, device: str = "cpu") -> None:
        pass

    def unload(self) -> None:
        pass


class RayEnrichmentWorker(EnrichmentWorker):
    """The enrichment worker with engines run by Ray actors, several batches in flight."""

    def __init__(
        self,
        *args,
        address: str | None = None,
        max_in_flight: int = 4,
        actors_per_engine: int = 2,
        actors: Mapping[str, int] | None = None,
        actor_options: Mapping[str, Any] | None = None,
        plugin_settings: Mapping[str, Any] | None = None,
        init_options: Mapping[str, Any] | None = None,
        when_lost: str = "local",
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ray = import_ray()
        if not self.ray.is_initialized():
            options = dict(init_options or {})
            if address is None:  # a Ray started here, for this process: quiet
                options = {"include_dashboard": False, **options}
            self.ray.init(address=address, log_to_driver=False, **options)
        self.max_in_flight = max(1, max_in_flight)
        self.actors_per_engine = max(1, actors_per_engine)
        self.actors = dict(actors or {})  # per engine id, over actors_per_engine
        self.actor_options = dict(actor_options or {"num_cpus": 1})
        self.plugin_settings = plugin_settings
        self._actor_class = _engine_actor_class(self.ray)
        self._pools: dict[str, _ActorPool] = {}
        self._retired: list[_ActorPool] = []  # pools whose actors gave their place up (their counts stay)
        self._senders = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="pixlstash-ray")
        self._flights: list[tuple[_Batch, Future]] = []
        self.when_lost = when_lost  # "local": go on in this process; "pause": stop, the queue kept
        self.local = False  # the cluster went away and the work goes on here
        self.address = address
        self.most_in_flight = 0
        self.started = time.monotonic()
        self._reported = 0.0

    def pool(self, engine) -> _ActorPool:
        if engine.id not in self._pools:
            declared = dict(getattr(engine, "ray_resources", {}) or {})
            gpus = self.ray.cluster_resources().get("GPU", 0.0) if declared.get("num_gpus") else 0.0
            options = actor_resources(self.actor_options, declared, gpus)
            size = self.actors.get(engine.id, self.actors_per_engine)
            # The queue moved on to another engine: actors of engines with nothing out give their place up.
            busy = {batch.engine.id for batch, _ in self._flights}
            for engine_id in [e for e, pool in self._pools.items() if e not in busy and pool.idle]:
                self._retired.append(self._pools.pop(engine_id))
                self._retired[-1].kill()
            self._pools[engine.id] = _ActorPool(
                self.ray, self._actor_class, engine.id, self.plugin_settings, size, options
            )
        return self._pools[engine.id]

    def _load(self, picture_id: int, media: tuple | None, engine, video_frames: int) -> list[InputFrame]:
        """An original in a bucket that the engine reads whole goes to the actor as a reference."""
        if self.local or media is None or not self.files.store.remote:
            return super()._load(picture_id, media, engine, video_frames)
        content_hash, width, height, media_type = media
        if input_rendition(self.files, picture_id, width, height, media_type, engine.input_size) != "original":
            return super()._load(picture_id, media, engine, video_frames)
        _, suffix, managed = self.results.pictures.address(picture_id)
        if not managed or suffix.lower() not in _READ_BY_ACTORS:
            return super()._load(picture_id, media, engine, video_frames)
        keep_alpha = bool(getattr(engine, "keeps_alpha", False))
        return [InputFrame(0, None, OriginalRef(content_hash, suffix, engine.input_size, keep_alpha))]  # type: ignore[arg-type]

    def per_node(self) -> dict[str, int]:
        """Pictures each cluster node has run, summed over engines."""
        counts: dict[str, int] = {}
        for pool in [*self._retired, *self._pools.values()]:
            for node, n in pool.per_node.items():
                counts[node] = counts.get(node, 0) + n
        return counts

    def step(self) -> bool:
        """Keep up to ``max_in_flight`` batches on the cluster; write each as it comes back."""
        if self.local:
            return super().step()
        while len(self._flights) < self.max_in_flight:
            batch = self._claim()
            if batch is None:
                break
            remote = RemoteEngine(batch.engine, self.pool(batch.engine))
            self._flights.append((batch, self._senders.submit(self._computed, batch, remote)))
        self.most_in_flight = max(self.most_in_flight, len(self._flights))
        if not self._flights:
            return False
        wait([future for _, future in self._flights], return_when=FIRST_COMPLETED)
        for flight in [f for f in self._flights if f[1].done()]:
            batch, future = flight
            try:
                computed = future.result()
            except EnginesUnreachable as error:
                self._lost(error)
                return True
            self._flights.remove(flight)
            if computed is not None:
                started = time.perf_counter()
                self._write(batch, *computed)
                self._count("write", started)
        if time.monotonic() - self._reported >= 1.0:
            self._report()
        return True

    def _report(self) -> None:
        """Per-node counts and throughput where other processes see them (jobs CLI, API, task manager)."""
        self._reported = time.monotonic()
        nodes = self.per_node()
        rate = sum(nodes.values()) / max(time.monotonic() - self.started, 1e-9)
        progress = ClusterProgress(self.address, nodes, len(self._flights), round(rate, 2), self.local, now_ms())
        try:
            self.enrichment.report_cluster(progress)
        except Exception:  # figures for people: never worth stopping the work for
            log.exception("could not record the cluster's progress")

    def _batch_for(self, engine) -> int:
        pool = None if self.local else self._pools.get(engine.id)
        return pool.batch if pool is not None and pool.batch else super()._batch_for(engine)

    def _run_engine(self, engine, images, parameters):
        if isinstance(engine, RemoteEngine):  # the actors load and run it; several batches may be out at once
            return run_engine(engine, list(images), parameters)
        return super()._run_engine(engine, images, parameters)

    def _lost(self, error: EnginesUnreachable) -> None:
        """The cluster went away: its batches go back to the queue, then the work goes on here or stops."""
        for batch, future in self._flights:
            future.cancel()
            with self.db.write():
                self.enrichment.jobs.release(batch.job_id, batch.picture_ids)
        count = len(self._flights)
        self._flights.clear()
        if self.when_lost == "local":
            log.warning("%s: %d batches put back in the queue; going on in this process", error.message, count)
            self.local = True
            return
        raise EnginesUnreachable(
            f"{error.message}; {count} batches were put back in the queue: run again when the cluster is back, "
            "or without --ray"
        ) from error

    def _finish(self) -> None:
        for batch, future in self._flights:  # sent but never written: back to the queue
            future.cancel()
            try:
                with self.db.write():
                    self.enrichment.jobs.release(batch.job_id, batch.picture_ids)
            except Exception:
                log.exception("could not put batch of job %d back in the queue", batch.job_id)
        self._flights.clear()
        if self._pools or self._retired:
            self._report()
        # The actors give their resources back to the cluster, and a batch still out on one (after the
        # cluster was lost) fails at once rather than holding a sender thread and a Ray call forever.
        for pool in self._pools.values():
            pool.kill()
        self._retired.extend(self._pools.values())
        self._pools.clear()
        self._senders.shutdown(wait=False, cancel_futures=True)
        self._senders = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="pixlstash-ray")
        super()._finish()

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        self._senders.shutdown(wait=False, cancel_futures=True)
        for pool in self._pools.values():
            pool.kill()
