"""Engines at run time: which device each one uses, loading on first use, CPU fallback, idle unloading."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..errors import ModelDamaged, PixlstashError
from ..system.memory import release_freed_memory
from .base import Engine, is_out_of_memory

__all__ = ["EngineRuntime"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Loaded:
    __slots__ = ("batch", "device", "last_used", "note")

    def __init__(self, device: str, batch: int) -> None:
        self.device, self.batch = device, batch
        self.note = ""  # how it runs (the engine's word), or what changed the batch (it ran out of memory)
        self.last_used = time.monotonic()


class EngineRuntime:
    """Runs engine calls: one call at a time per engine, on the best device, loaded when first needed."""

    def __init__(self, preferred_device: Callable[[], str]) -> None:
        self._preferred_device = preferred_device
        self._loaded: dict[str, _Loaded] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, engine: Engine) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(engine.id, threading.Lock())

    def device_for(self, engine: Engine) -> str:
        """The setting's device when the engine supports it, else the engine's best."""
        available = engine.devices() or ["cpu"]
        preferred = self._preferred_device()
        return preferred if preferred != "auto" and preferred in available else available[0]

    def _ready(self, engine: Engine) -> _Loaded:
        """The engine loaded (on first use: on its device, with the batch that device takes); under its lock."""
        loaded = self._loaded.get(engine.id)
        if loaded is None:
            device = self.device_for(engine)
            started = time.perf_counter()
            _load(engine, device)
            batch = max(1, int(engine.batch_size(device)))
            loaded = self._loaded[engine.id] = _Loaded(device, batch)
            loaded.note = engine.device_note()
            log.info(
                "loaded %s on %s in %.1f s (batches of %d)", engine.id, device, time.perf_counter() - started, batch
            )
        return loaded

    def call(self, engine: Engine, work: Callable[[], T]) -> T:
        """Run ``work`` with the engine loaded; on out-of-memory off the CPU, reload on the CPU and retry once."""
        with self._lock(engine):
            loaded = self._ready(engine)
            try:
                return work()
            except Exception as error:
                if loaded.device == "cpu" or not is_out_of_memory(error):
                    raise
                self._to_cpu(engine, loaded)
                return work()
            finally:
                loaded.last_used = time.monotonic()

    def call_batched(self, engine: Engine, items: Sequence[Any], run: Callable[[Sequence[Any]], list[T]]) -> list[T]:
        """``run`` over ``items`` with the engine loaded, at most its device's batch at a time. Out of memory
        on an accelerator, a batch is halved and each half tried once (batches of that size from then on,
        said once); what does not fit alone goes to the CPU. Nothing is lost or failed for it."""
        with self._lock(engine):
            loaded = self._ready(engine)
            try:
                results: list[T] = []
                start = 0
                while start < len(items):  # (a batch claimed before a halving is run in smaller parts)
                    part = items[start : start + loaded.batch]
                    results += self._fitted(engine, loaded, part, run)
                    start += len(part)
                return results
            finally:
                loaded.last_used = time.monotonic()

    def _fitted(self, engine: Engine, loaded: _Loaded, part: Sequence[Any], run: Callable) -> list:
        try:
            return run(part)
        except Exception as error:
            if loaded.device == "cpu" or not is_out_of_memory(error):
                raise
            if len(part) < 2:
                self._to_cpu(engine, loaded)
                return run(part)
            half = (len(part) + 1) // 2
            loaded.batch = min(loaded.batch, half)
            loaded.note = f"ran out of memory on {loaded.device} at {len(part)}: batches of {loaded.batch}"
            log.warning("%s %s", engine.id, loaded.note)
            results = []
            for smaller in (part[:half], part[half:]):
                try:
                    results += run(smaller)
                except Exception as again:
                    if loaded.device == "cpu" or not is_out_of_memory(again):
                        raise
                    self._to_cpu(engine, loaded)
                    results += run(smaller)
            return results

    def _to_cpu(self, engine: Engine, loaded: _Loaded) -> None:
        log.warning("%s ran out of memory on %s: falling back to the CPU", engine.id, loaded.device)
        engine.unload()
        _load(engine, "cpu")
        loaded.device = "cpu"
        loaded.batch = max(1, int(engine.batch_size("cpu")))
        loaded.note = "ran out of memory on the GPU with one picture: on the CPU now"

    def batch(self, engine: Engine) -> int:
        """How many pictures to give ``engine`` at once: its device's batch once loaded, else what it prefers."""
        loaded = self._loaded.get(engine.id)
        return loaded.batch if loaded is not None else max(1, engine.preferred_batch_size)

    def status(self, engine: Engine) -> tuple[bool, str | None]:
        """(loaded, device)."""
        loaded = self._loaded.get(engine.id)
        return (loaded is not None, loaded.device if loaded else None)

    def running(self) -> dict[str, tuple[str, int, str]]:
        """Each loaded engine's (device, batch, note): what ``jobs`` and ``doctor`` say it runs with."""
        return {engine_id: (loaded.device, loaded.batch, loaded.note) for engine_id, loaded in self._loaded.items()}

    def unload_idle(self, engines: dict[str, Engine], idle_seconds: float) -> list[str]:
        """Unload engines unused for ``idle_seconds``; returns their ids."""
        now = time.monotonic()
        unloaded = []
        for engine_id, loaded in list(self._loaded.items()):
            engine = engines.get(engine_id)
            if engine is None or now - loaded.last_used < idle_seconds:
                continue
            lock = self._lock(engine)
            if not lock.acquire(blocking=False):
                continue  # in use right now
            try:
                engine.unload()
                self._loaded.pop(engine_id, None)
                unloaded.append(engine_id)
                log.info("unloaded %s after %.0f s idle", engine_id, now - loaded.last_used)
            finally:
                lock.release()
        if unloaded:
            # The weights are garbage now; give their pages back to the system rather than keep them in
            # the allocator's arenas (tens to hundreds of MB for a model).
            gc.collect()
            release_freed_memory()
        return unloaded

    def unload_all(self, engines: dict[str, Engine]) -> None:
        self.unload_idle(engines, 0.0)


def _load(engine: Engine, device: str) -> None:
    """Load ``engine``; files that are there but do not load (cut short, damaged) are reported as such, with
    where they are and how to get them again, instead of the loading library's own exception."""
    try:
        engine.load(device)  # ModelMissing propagates: the caller reports it
    except PixlstashError:
        raise
    except Exception as error:
        status = engine.model_status()
        where = f" at {status.location}" if status.location else ""
        again = f"; get them again: {status.how_to_get}" if status.how_to_get else ""
        raise ModelDamaged(
            f"the model files of {engine.id}{where} do not load ({type(error).__name__}: {error}){again}",
            engine_id=engine.id,
            location=status.location,
        ) from error
