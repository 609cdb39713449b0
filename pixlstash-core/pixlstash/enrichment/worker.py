"""The enrichment worker: claims batches of queued pictures, runs the engine, writes results.

One worker per library at a time, enforced by an OS file lock (``<library>/jobs.lock``) that dies with
its process: the server runs one, and ``pixlstash enrich`` runs one when no server does. The worker that
takes the lock puts items a dead worker held back in the queue. Results and the item's ``done`` mark
are written in one transaction, so a kill at any moment loses at most the batch in flight, which is
simply done again.

A pipeline of three: the next batch's images are decoded on every core while the engine works on the
current one, and the previous batch's results are written by a thread of their own meanwhile (one batch
at a time, in order), so an engine on a GPU waits neither for JPEG decoding nor for SQLite. ``seconds``
sums where the time goes (read / engine / write, over threads).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from ..db.database import Database
from ..domain.enrichment import EngineRun
from ..engines import Engine, ScoreInput, Task
from ..engines.catalog import EngineCatalog
from ..engines.inputs import InputFrame, load_frames
from ..engines.process_host import EngineInterrupted
from ..engines.tasks import TASKS, TaskSpec, run_engine
from ..errors import EngineNotFound, EngineUnavailable, ModelMissing, NotFound, PixlstashError
from ..files.picture_files import PictureFiles
from ..index.indexes import VectorIndexes
from ..system.clock import now_ms
from ..system.events import Event, EventBus
from .service import Enrichment
from .sink import BatchSink, ResultStores

__all__ = ["CHARACTER_PLACEHOLDER", "EnrichmentWorker", "WorkerBusy"]

# A parameter value the worker replaces, per picture, with the names of the picture's characters.
CHARACTER_PLACEHOLDER = "{character}"

log = logging.getLogger(__name__)

_LOCK_NAME = "jobs.lock"
_JOBS_KEPT_DAYS = 14
_UNAVAILABLE_WAIT = (5.0, 300.0)  # seconds before trying an unavailable engine again: first, most


class _Interrupted(Exception):
    """The batch's engine was interrupted (the worker stopping, Ctrl+C): not the pictures' fault, so the
    batch goes back to the queue untouched."""


class EnginesUnreachable(PixlstashError):
    """Where the engines run went away (a Ray cluster): the batch is not the pictures' fault."""

    code = "engines_unreachable"


class WorkerBusy(RuntimeError):
    """Another process (the server, another ``pixlstash enrich``) is already working on this library."""


class _Batch(msgspec.Struct):
    job_id: int
    task: Task
    engine: Engine
    parameters: dict[str, Any]
    picture_ids: list[int]
    images: list[Future]


class EnrichmentWorker:
    def __init__(
        self,
        lock_folder: Path,
        db: Database,
        enrichment: Enrichment,
        engines: EngineCatalog,
        files: PictureFiles,
        results: ResultStores,
        indexes: VectorIndexes,
        events: EventBus,
        *,
        poll_seconds: float = 2.0,
        index_save_seconds: float = 60.0,
        decode_threads: int | None = None,
    ) -> None:
        self.lock_folder, self.db, self.enrichment, self.engines = Path(lock_folder), db, enrichment, engines
        self.files, self.results, self.indexes, self.events = files, results, indexes, events
        self.poll_seconds = poll_seconds
        self.index_save_seconds = index_save_seconds
        self._decoders = ThreadPoolExecutor(
            decode_threads or os.cpu_count() or 1, thread_name_prefix="pixlstash-decode"
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_file: int | None = None
        self._last_save = time.monotonic()
        self._ahead: _Batch | None = None
        self._running: _Batch | None = None  # the batch being computed now
        # A computed batch's results are written by a thread of their own while the next batch runs (on a
        # GPU the card would otherwise wait for SQLite and the vector index): one write at a time, in order.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="pixlstash-write")
        self._writing: tuple[_Batch, Future] | None = None
        self.processed = 0
        # Where the time goes (summed over threads): waiting for pictures to be read, running the engine
        # (on a cluster: sending, running, receiving), checking and writing results.
        self.seconds = {"read": 0.0, "engine": 0.0, "write": 0.0}
        self._seconds_lock = threading.Lock()
        # Engines whose service is down: engine id -> (when to try again, seconds waited last).
        self._unavailable: dict[str, tuple[float, float]] = {}
        self._reported_engines: dict[str, EngineRun] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Work in a background thread until ``stop()`` (the server)."""
        self._thread = threading.Thread(target=self._serve, name="pixlstash-enrichment", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.enrichment.wake.set()
        # An engine call can take minutes (a model loading, a long batch of captions): the processes of
        # engines that run in their own are ended, so the call fails now and its batch goes back to the
        # queue (`_compute`, `_finish`): the server stops within a second, not after the batch.
        self.engines.hosts.interrupt()
        if self._thread is not None:
            self._thread.join(timeout)
        self._decoders.shutdown(wait=False, cancel_futures=True)
        self._writer.shutdown(wait=False)

    def run_until_idle(self, on_batch: Callable[[], None] | None = None) -> int:
        """Work in this thread until nothing is queued (``pixlstash enrich``); returns pictures processed."""
        if not self._acquire_lock():
            raise WorkerBusy(
                f"another process is already running jobs for {self.lock_folder} "
                "(the server?): the queued work will be done there"
            )
        try:
            self._recover()
            while not self._stop.is_set() and self.step():
                if on_batch:
                    on_batch()
        except _Interrupted:
            pass
        finally:
            self._finish()
        return self.processed

    def _serve(self) -> None:
        while not self._acquire_lock():  # a CLI worker holds it: take over when it ends
            if self._stop.wait(self.poll_seconds):
                return
        try:
            self._recover()
            while not self._stop.is_set():
                try:
                    busy = self.step()
                except _Interrupted:  # the loop ends if stopping; else the batch runs again later
                    self._put_back(self._running)
                    self._running = None
                    continue
                except Exception:  # never let one bad batch stop the worker
                    log.exception("enrichment step failed")
                    busy = False
                if not busy:
                    self._housekeeping()
                    self.enrichment.wake.wait(self.poll_seconds)
                    self.enrichment.wake.clear()
        finally:
            self._finish()

    def _acquire_lock(self) -> bool:
        path = self.lock_folder / _LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # no flock (Windows): one process per library is the user's to ensure
            pass
        except OSError:
            os.close(fd)
            return False
        self._lock_file = fd
        return True

    def _recover(self) -> None:
        """Take over from a worker that died: requeue what it held, give up on pictures that keep crashing it."""
        settings = self.engines.settings()
        with self.db.write():
            requeued = self.enrichment.jobs.reset_running()
            exhausted = self.enrichment.jobs.fail_exhausted(settings.max_attempts)
            for job_id in {job for job, _ in exhausted}:
                self.enrichment.jobs.close_if_finished(job_id, now_ms())
            self.enrichment.jobs.prune_finished(now_ms() - _JOBS_KEPT_DAYS * 86_400_000)
        if requeued:
            log.info("resuming %d pictures a stopped worker left unfinished", requeued)
        try:
            self.enrichment.queue_missing()
        except Exception:  # catching up must not keep queued work from running
            log.exception("could not queue pictures missed by on-import enrichment")

    def _finish(self) -> None:
        # Stopped from outside (Ctrl+C, the server stopping) or by a bug, not by a picture: what was claimed
        # goes back to the queue untouched, without counting towards a picture's quarantine. Only a worker
        # that dies outright (a native crash, or kill -9, which cannot be told apart) leaves its batch
        # counted, for the next worker's recovery. A batch being written is written first (one transaction).
        writing = self._writing[0] if self._writing else None
        with contextlib.suppress(Exception):
            self._written()
        for batch in (writing, self._running, self._ahead):
            self._put_back(batch)
        self._running = self._ahead = None
        with contextlib.suppress(Exception), self.db.write():  # nothing runs now: its jobs say queued
            self.enrichment.jobs.reset_running()
        with contextlib.suppress(Exception):
            self.indexes.save()
        with contextlib.suppress(Exception):  # its engines leave with it
            self.enrichment.report_engines({})
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None

    def _put_back(self, batch: _Batch | None) -> None:
        """A claimed batch back to the queue, its pictures' attempts untouched."""
        if batch is not None:
            with contextlib.suppress(Exception), self.db.write():
                self.enrichment.jobs.release(batch.job_id, batch.picture_ids)

    def _housekeeping(self) -> None:
        settings = self.engines.settings()
        self.engines.runtime.unload_idle({e.id: e for e in self.engines.installed()}, settings.idle_unload_seconds)
        self._report_engines()
        if time.monotonic() - self._last_save >= self.index_save_seconds:
            self.indexes.save()
            self._last_save = time.monotonic()

    # -- one batch ------------------------------------------------------------------------------

    def step(self) -> bool:
        """Run one batch (claiming the next while this one computes); False when nothing is queued."""
        batch = self._ahead or self._claim()
        self._ahead = None
        if batch is None:
            if self._writing is None:
                return False
            # Idle only once everything computed is written; the written batch may have held work back
            # (a scorer waits until its embedder's vectors are in).
            self._written()
            batch = self._claim()
            if batch is None:
                return False
        self._ahead = self._claim()  # its images decode while this batch runs
        self._running = batch
        self._run(batch)
        self._running = None
        self._report_engines()
        return True

    def _report_engines(self) -> None:
        """Where each loaded engine runs and at what batch, written when it changed (for ``jobs``, the API)."""
        running = {k: EngineRun(*v) for k, v in self.engines.runtime.running().items()}
        if running != self._reported_engines:
            self.enrichment.report_engines(running)
            self._reported_engines = running

    def _batch_for(self, engine: Engine) -> int:
        """How many pictures to claim for ``engine``: the batch its device takes (the runtime's)."""
        return self.engines.runtime.batch(engine)

    def _claim(self) -> _Batch | None:
        jobs = self.enrichment.jobs
        for job_id, task, engine_id, parameters in jobs.runnable_jobs():
            if self._unavailable.get(engine_id, (0.0, 0.0))[0] > time.monotonic():
                continue  # its service is down: its items wait in the queue
            try:
                engine = self.engines.get(Task(task), engine_id)
            except EngineNotFound as error:
                with self.db.write():
                    jobs.fail_job(job_id, str(error), now_ms())
                continue
            reads = getattr(engine, "embedder_id", "") if getattr(engine, "reads", "image") == "embedding" else ""
            if reads and jobs.engine_busy(reads):
                continue  # it reads that embedder's vectors: they come first
            with self.db.write():
                ids = jobs.claim(job_id, self._batch_for(engine), now_ms())
                if not ids:
                    jobs.close_if_finished(job_id, now_ms())
                    continue
            if getattr(engine, "reads", "image") == "embedding":
                images = self._stored_inputs(engine, ids)
            else:
                inputs = self.results.pictures.media_inputs(ids)
                frames = TASKS[Task(task)].video_frames
                images = [self._decoders.submit(self._load, pid, inputs.get(pid), engine, frames) for pid in ids]
            return _Batch(job_id, Task(task), engine, msgspec.json.decode(parameters), ids, images)
        return None

    def _stored_inputs(self, engine, picture_ids: list[int]) -> list[Future]:
        """What a scorer that reads stored data gets: each picture's vector from its embedder (and its
        positive prompt), read here at once: no image is decoded."""
        vectors = self.results.vectors.embeddings(engine.embedder_id, picture_ids)
        prompts = self.results.pictures.positive_prompts(picture_ids) if engine.needs_prompt else {}
        inputs = []
        for picture_id in picture_ids:
            future: Future = Future()
            if picture_id in vectors:
                stored = ScoreInput(vectors[picture_id], prompts.get(picture_id, ""))
                future.set_result([InputFrame(0, None, stored)])  # type: ignore[arg-type]
            else:
                future.set_exception(
                    NotFound(f"it has no {engine.embedder_id} embedding yet: run that embedder on it first")
                )
            inputs.append(future)
        return inputs

    def _load(self, picture_id: int, media: tuple | None, engine, video_frames: int) -> list[InputFrame]:
        if media is None:  # purged between the claim and now
            raise NotFound(f"picture {picture_id} no longer exists")
        keep_alpha = bool(getattr(engine, "keeps_alpha", False))
        return load_frames(self.files, picture_id, *media, engine.input_size, video_frames, keep_alpha)

    def _run(self, batch: _Batch) -> None:
        computed = self._computed(batch, batch.engine)
        if computed is not None:
            self._written()
            self._writing = (batch, self._writer.submit(self._timed_write, batch, computed))

    def _timed_write(self, batch: _Batch, computed: tuple) -> None:
        started = time.perf_counter()
        self._write(batch, *computed)
        self._count("write", started)

    def _written(self) -> None:
        """Wait for the batch being written; raises what its write raised (its claims then stay, as a
        batch whose write failed in this thread would leave them)."""
        if self._writing is not None:
            _, future = self._writing
            self._writing = None
            future.result()

    def _computed(self, batch: _Batch, engine: Engine) -> tuple | None:
        """(images, outcomes, errors, parameters used) of a batch run by ``engine`` (the batch's, or a
        stand-in running it elsewhere); None when its model is missing (the job then fails whole)."""
        images: list[tuple[int, list[InputFrame]]] = []
        errors: dict[int, str] = {}
        started = time.perf_counter()
        for picture_id, future in zip(batch.picture_ids, batch.images, strict=True):
            try:
                images.append((picture_id, future.result()))
            except Exception as error:
                said = str(error) if isinstance(error, NotFound) else f"could not read the picture: {error}"
                errors[picture_id] = said
        self._count("read", started)
        started = time.perf_counter()
        used = self._per_picture(batch.parameters, [pid for pid, _ in images])
        groups: dict[str, list[tuple[int, list[InputFrame]]]] = {}
        for item in images:  # pictures asking for the same parameters run together
            groups.setdefault(msgspec.json.encode(used[item[0]]).decode(), []).append(item)
        try:
            outcomes = {}
            for group in groups.values():
                parameters = used[group[0][0]]
                outcomes.update(self._compute(engine, TASKS[batch.task], group, parameters, errors))
        except ModelMissing as error:
            log.warning("%s", error)
            with self.db.write():
                self.enrichment.jobs.release(batch.job_id, batch.picture_ids)
                self.enrichment.jobs.fail_job(batch.job_id, str(error), now_ms())
            return None
        except EngineUnavailable as error:
            self._wait_for(batch, error)
            return None
        self._unavailable.pop(engine.id, None)
        self._count("engine", started)
        return images, outcomes, errors, used

    def _wait_for(self, batch: _Batch, error: EngineUnavailable) -> None:
        """The engine's service is down: the batch goes back to the queue and the engine's jobs wait,
        longer each time it is still down; said once per outage, not once per try."""
        with self.db.write():
            self.enrichment.jobs.release(batch.job_id, batch.picture_ids)
        engine_id = batch.engine.id
        waited = self._unavailable.get(engine_id, (0.0, 0.0))[1]
        wait = min(_UNAVAILABLE_WAIT[1], waited * 2) if waited else _UNAVAILABLE_WAIT[0]
        if not waited:
            log.warning("%s: %s; its pictures wait in the queue and it is tried again", engine_id, error)
        self._unavailable[engine_id] = (time.monotonic() + wait, wait)

    def _count(self, what: str, started: float) -> None:
        with self._seconds_lock:
            self.seconds[what] += time.perf_counter() - started

    def _per_picture(self, parameters: dict[str, Any], picture_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Each picture's parameters: a value of ``{character}`` becomes the names of the picture's
        characters ("Alice and Bob"; empty when it has none), so an engine stays pure."""
        asks = [name for name, value in parameters.items() if value == CHARACTER_PLACEHOLDER]
        if not asks:
            return {pid: parameters for pid in picture_ids}
        names = self.results.pictures.character_names(picture_ids)
        return {pid: {**parameters, **dict.fromkeys(asks, " and ".join(names.get(pid, [])))} for pid in picture_ids}

    def _compute(
        self,
        engine: Engine,
        spec: TaskSpec,
        images: list[tuple[int, list[InputFrame]]],
        parameters: dict[str, Any],
        errors: dict[int, str],
    ) -> dict[int, Any]:
        """Results by picture (a video's frames merged into one); a batch that fails is retried picture by
        picture so one bad picture fails alone."""
        if not images:
            return {}
        if self._stop.is_set():  # no new engine call once stopping (picture by picture, below)
            raise _Interrupted
        flat = [frame.image for _, frames in images for frame in frames]
        try:
            results = iter(self._run_engine(engine, flat, parameters))
            return {
                pid: spec.merge_frames([(f.index, f.seconds) for f in frames], [next(results) for _ in frames])
                for pid, frames in images
            }
        except (ModelMissing, EnginesUnreachable, EngineUnavailable):
            raise
        except EngineInterrupted as error:
            raise _Interrupted from error
        except Exception as error:
            if len(images) == 1:
                log.warning("%s failed on picture %d: %s", engine.id, images[0][0], error)
                errors[images[0][0]] = f"{type(error).__name__}: {error}"
                return {}
        outcomes = {}
        for picture_id, image in images:
            outcomes.update(self._compute(engine, spec, [(picture_id, image)], parameters, errors))
        return outcomes

    def _run_engine(self, engine: Engine, images: list[Any], parameters: dict[str, Any]) -> list[Any]:
        """The engine over ``images``, loaded here (the runtime picks the device and the batch, one call at a
        time, and halves a batch that runs out of the GPU's memory)."""
        runtime = self.engines.runtime
        return runtime.call_batched(engine, images, lambda part: run_engine(engine, list(part), parameters))

    def _write(
        self,
        batch: _Batch,
        images: list[tuple[int, list[InputFrame]]],
        outcomes: dict[int, Any],
        errors: dict[int, str],
        parameters: dict[int, dict[str, Any]],
    ) -> None:
        jobs, engine, spec, vectors = self.enrichment.jobs, batch.engine, TASKS[batch.task], self.results.vectors
        sizes = {pid: getattr(frames[0].image, "size", (1, 1)) for pid, frames in images}
        media = self.results.pictures.media_inputs(list(outcomes))
        originals = {pid: (w, h) for pid, (_, w, h, _) in media.items()}
        kind = spec.vector_kind
        index = None
        if kind is not None:
            index = self.indexes.get(engine.id, kind)
            # Loaded before the write, so the new vectors are added, not rebuilt; a rebuild that is needed
            # runs in the background (the work goes on; it catches up with these writes when done).
            index.ensure_current(wait=False)
        now = now_ms()
        sink = BatchSink(self.results, engine, now, sizes, originals, parameters)
        written: list[int] = []
        with self.db.write():
            stamp_before = vectors.stamp(engine.id, kind) if kind else None
            for picture_id, result in outcomes.items():
                if not jobs.finish_item(batch.job_id, picture_id):
                    continue  # cancelled, or rolled back by a restore, while the engine ran
                spec.store(sink, picture_id, result)
                jobs.mark_enriched(picture_id, engine.id, engine.version, now)
                written.append(picture_id)
            for picture_id, error in errors.items():
                jobs.finish_item(batch.job_id, picture_id, error)
            jobs.close_if_finished(batch.job_id, now)
            stamp_after = vectors.stamp(engine.id, kind) if kind else None
        if index is not None:
            if sink.removed_keys:
                index.apply(
                    np.asarray(sink.removed_keys, dtype=np.uint64),
                    None,
                    stamp_before=stamp_before,
                    stamp_after=stamp_before,
                )
            if sink.added_keys:
                index.apply(
                    np.asarray(sink.added_keys, dtype=np.uint64),
                    np.stack(sink.added_vectors),
                    stamp_before=stamp_before,
                    stamp_after=stamp_after,
                )
        self.processed += len(outcomes) + len(errors)
        if written:
            self.events.publish(Event("picture.changed", written, {"fields": [spec.field], "engine_id": engine.id}))
        self.enrichment.publish_progress(batch.job_id)
