"""Batches sized by the device and halved when it runs out of memory, through the real worker and runtime:
an engine on a (stand-in) GPU reports the batch its memory takes; a batch that does not fit is halved and
tried again, the smaller batch kept and said (``pixlstash jobs``, the API's progress); a picture that does
not fit alone goes to the CPU. Nothing is lost or failed for it. The numbers a GPU gets are tested in
``test_precision.py`` (``batch_for_memory``)."""

from __future__ import annotations

import threading

import pytest
from conftest import run_cli
from live_server import make_pictures

from pixlstash import OutOfDeviceMemory, hookimpl
from pixlstash.domain import EnrichmentSettings
from pixlstash.engines import Task
from pixlstash.testing import FakeEmbedder


class SmallCard(FakeEmbedder):
    """The colour embedder on a card that holds ``fits`` pictures at a time (0: not even one)."""

    id = "fake/small-card"
    preferred_batch_size = 4

    def __init__(self, fits: int, device_batch: int) -> None:
        super().__init__()
        self.fits, self.device_batch = fits, device_batch
        self.device = "none"
        self.runs: list[tuple[str, int]] = []

    def devices(self) -> list[str]:
        return ["cuda", "cpu"]

    def load(self, device: str = "cpu") -> None:
        self.device = device

    def unload(self) -> None:
        self.device = "none"

    def batch_size(self, device: str) -> int:
        return self.device_batch if device == "cuda" else 8

    def device_note(self) -> str:
        return "bfloat16" if self.device == "cuda" else ""

    def embed_images(self, images):
        if self.device == "cuda" and len(images) > self.fits:
            raise OutOfDeviceMemory(f"CUDA out of memory. Tried to allocate {len(images) * 512} MiB")
        self.runs.append((self.device, len(images)))
        return super().embed_images(images)


class _Plugin:
    def __init__(self, engine: SmallCard) -> None:
        self.engine = engine

    @hookimpl
    def register_embedders(self, register) -> None:
        register(self.engine)


@pytest.mark.parametrize(("fits", "expected_device"), [(10, "cuda"), (0, "cpu")])
def test_a_batch_that_runs_out_of_memory_is_halved_and_nothing_is_lost(
    library, plugin_manager, tmp_path, fits, expected_device
):
    engine = SmallCard(fits=fits, device_batch=16)
    plugin_manager.register(_Plugin(engine), name="small-card")
    library.engines.configure(EnrichmentSettings(on_import=[]))  # the test queues its own work
    ids = make_pictures(library, tmp_path / "in", 40)
    job = library.enrichment.enqueue(Task.EMBEDDER, ids, engine_id=engine.id)
    library.new_enrichment_worker(decode_threads=2).run_until_idle()
    finished = library.enrichment.job(job.id)
    assert (finished.state, finished.done, finished.failed) == ("done", 40, 0)
    assert len(library.vectors.embeddings(engine.id, ids)) == 40
    if fits:
        # The first two batches (claimed before the engine was loaded) at what it prefers; then the device's
        # 16, which did not fit: halved to 8, each half tried once, and 8 from then on.
        assert engine.runs == [("cuda", 4), ("cuda", 4), ("cuda", 8), ("cuda", 8), ("cuda", 8), ("cuda", 8)]
    else:  # not even one picture fits: the CPU takes everything, at its own batch
        assert {device for device, _ in engine.runs} == {"cpu"} and sum(n for _, n in engine.runs) == 40
    runtime = library.engines.runtime
    assert runtime.running()[engine.id][0] == expected_device
    progress = {p.engine_id: p for p in library.enrichment.progress()}
    assert engine.id not in progress or progress[engine.id].device in (None, expected_device)


def test_the_worker_reports_where_an_engine_runs_and_why_its_batch_changed(library, plugin_manager, tmp_path):
    engine = SmallCard(fits=10, device_batch=16)
    plugin_manager.register(_Plugin(engine), name="small-card")
    library.engines.configure(EnrichmentSettings(on_import=[]))
    ids = make_pictures(library, tmp_path / "in", 40)
    library.enrichment.enqueue(Task.EMBEDDER, ids[:32], engine_id=engine.id)  # 4, 4, then 16 (too many)
    worker = library.new_enrichment_worker(decode_threads=2)
    assert worker._acquire_lock()
    try:
        while worker.step():
            pass
        # Another job of the same engine, queued now: the progress others see says where and at what batch.
        library.enrichment.enqueue(Task.EMBEDDER, ids[32:], engine_id=engine.id)
        [progress] = [p for p in library.enrichment.progress() if p.engine_id == engine.id]
        assert (progress.device, progress.batch) == ("cuda", 8)
        assert progress.note == "ran out of memory on cuda at 16: batches of 8"
        # What a person sees in another process while the worker holds the engine.
        shown = run_cli("jobs", "--library", str(tmp_path / "library")).stdout
        assert "    on cuda, 8 at a time (ran out of memory on cuda at 16: batches of 8)" in shown.splitlines()
    finally:
        worker._finish()


def test_the_engine_s_own_word_on_how_it_runs_is_reported_beside_its_device_and_batch():
    from pixlstash.engines.runtime import EngineRuntime

    engine, runtime = SmallCard(fits=64, device_batch=32), EngineRuntime(lambda: "auto")
    assert len(runtime.call_batched(engine, list(range(40)), lambda part: list(part))) == 40
    assert runtime.running() == {engine.id: ("cuda", 32, "bfloat16")}


def test_a_batch_s_results_are_written_while_the_next_batch_runs(library, plugin_manager, tmp_path):
    """The first batch's write waits until the engine has started on the second batch: a worker that wrote
    before running the next batch would never get there (the wait gives up and the test fails)."""
    engine = SmallCard(fits=64, device_batch=4)
    plugin_manager.register(_Plugin(engine), name="small-card")
    library.engines.configure(EnrichmentSettings(on_import=[]))
    ids = make_pictures(library, tmp_path / "in", 12)
    job = library.enrichment.enqueue(Task.EMBEDDER, ids, engine_id=engine.id)
    worker = library.new_enrichment_worker(decode_threads=2)
    second_batch_started, waited = threading.Event(), []
    embed, write = engine.embed_images, worker._write

    def embedding(images):
        if engine.runs:  # the first batch ran: this is a later one
            second_batch_started.set()
        return embed(images)

    def writing(*args):
        if not waited:
            waited.append(second_batch_started.wait(120))
        return write(*args)

    engine.embed_images, worker._write = embedding, writing
    assert worker.run_until_idle() == 12
    assert waited == [True]
    finished = library.enrichment.job(job.id)
    assert (finished.state, finished.done, finished.failed) == ("done", 12, 0)
    assert worker.seconds["write"] > 0
