"""How fast each engine runs on this machine (``pixlstash doctor --bench``): a batch of made-up pictures at the
engine's input size, through the same runtime the worker uses (its device, its process), timed after a first
call that loads it. Engines that read stored vectors get made-up vectors of their embedder's size."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec
import numpy as np
from PIL import Image

from .base import Engine, ScoreInput
from .tasks import run_engine

__all__ = ["EngineSpeed", "measure_speed"]


class EngineSpeed(msgspec.Struct, frozen=True):
    engine_id: str
    pictures_per_second: float
    batch: int
    first_call_seconds: float  # starting its process and loading its model, with one picture
    device: str | None = None


def _pictures(count: int, side: int) -> list[Image.Image]:
    """Noise pictures: no model finds them easy (a flat picture can make a decoder stop at once)."""
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (side, side * 4 // 3, 3), dtype=np.uint8)) for _ in range(count)]


def _inputs(engine: Engine, count: int, dimensions: Callable[[str], int]) -> list:
    if getattr(engine, "reads", "image") == "embedding":
        rng = np.random.default_rng(0)
        vectors = rng.normal(size=(count, dimensions(engine.embedder_id))).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return [ScoreInput(vector, f"a photo of subject {n}") for n, vector in enumerate(vectors)]
    return _pictures(count, max(32, min(engine.input_size, 1024)))


def measure_speed(
    engine: Engine,
    call: Callable[[Engine, Callable], object],
    dimensions: Callable[[str], int],
    batch: int | None = None,
    batch_for: Callable[[Engine], int] | None = None,
) -> EngineSpeed:
    """``call(engine, work)`` runs work with the engine loaded (``EngineCatalog.call``); ``dimensions`` gives
    an embedder's vector size by id; ``batch_for``, once it is loaded, the batch to time it at. Raises what
    the engine raises (a missing model, a server that is down)."""
    started = time.perf_counter()
    call(engine, lambda: run_engine(engine, _inputs(engine, 1, dimensions), {}))
    first = time.perf_counter() - started
    if batch is None:
        batch = batch_for(engine) if batch_for else min(engine.preferred_batch_size, 16)
    batch = max(1, batch)
    items = _inputs(engine, batch, dimensions)
    started = time.perf_counter()
    call(engine, lambda: run_engine(engine, items, {}))
    seconds = time.perf_counter() - started
    return EngineSpeed(engine.id, round(batch / seconds, 2), batch, round(first, 2))
