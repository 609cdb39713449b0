"""Enrichment jobs: queueing on import and on request, the worker, results, failures, devices, indexes."""

from __future__ import annotations

import numpy as np
import pytest
from corpus import solid

from pixlstash.domain import EnrichmentSettings, PictureFilter
from pixlstash.engines import Embedder, OutOfDeviceMemory, Tagger, TagScore, Task
from pixlstash.enrichment.worker import WorkerBusy
from pixlstash.errors import BadInput, EngineNotFound, ModelMissing
from pixlstash.hookspecs import hookimpl
from pixlstash.testing import COLOURS, colour_vector, mean_rgb

PALETTE = {name: tuple(int(c * 255) for c in rgb) for name, rgb in COLOURS.items()}


def import_colours(library, tmp_path, names=("red", "green", "blue", "yellow", "black")) -> dict[str, int]:
    folder = tmp_path / "colours"
    folder.mkdir(parents=True, exist_ok=True)
    for n, name in enumerate(names):
        solid(200 + n, 150, PALETTE[name]).save(folder / f"{name}.png")
    report = library.import_paths([folder])
    by_name = {item.path.rsplit("/", 1)[-1].removesuffix(".png"): item.picture_id for item in report.imported}
    assert len(by_name) == len(names)
    return by_name


def run_jobs(library) -> int:
    return library.new_enrichment_worker(decode_threads=2).run_until_idle()


def test_import_queues_the_on_import_tasks_and_the_worker_stores_every_result(fake_engines, library, tmp_path):
    events = []
    library.events.subscribe(events.append)
    ids = import_colours(library, tmp_path)
    jobs = {job.task: job for job in library.enrichment.list_jobs()}
    assert set(jobs) == {"embedder", "tagger", "faces"}  # captioning is not on import by default
    assert all(job.state == "queued" and job.total == 5 and job.reason == "import" for job in jobs.values())

    assert run_jobs(library) == 15
    assert {job.state for job in library.enrichment.list_jobs()} == {"done"}
    vectors = library.vectors.embeddings("fake/colour", list(ids.values()))
    for name, picture_id in ids.items():
        thumbnail = library.thumbnail_path(picture_id, "grid")
        from PIL import Image

        expected = colour_vector(mean_rgb(Image.open(thumbnail)))
        assert np.allclose(vectors[picture_id], expected, atol=1e-6), name
    red = library.get(ids["red"])
    assert {p.name for p in red.predictions} == {"red", "dark"}
    assert all(p.engine_id == "fake/colour-tagger" and p.engine_version == "1" for p in red.predictions)
    faces = library.db.query("SELECT picture_id, x0, y0, x1, y1 FROM faces ORDER BY picture_id")
    assert ids["black"] not in {f[0] for f in faces}  # too dark for the fake detector
    w, h = library.get(ids["red"]).width, library.get(ids["red"]).height
    red_face = next(f for f in faces if f[0] == ids["red"])
    assert red_face[1:] == pytest.approx((w / 4, h / 4, 3 * w / 4, 3 * h / 4), abs=1.0)  # in original pixels
    kinds = {e.kind for e in events}
    assert "job.progress" in kinds
    changed = [e for e in events if e.kind == "picture.changed" and e.data.get("engine_id") == "fake/colour"]
    assert sorted(pid for e in changed for pid in e.picture_ids) == sorted(ids.values())


def test_requests_skip_done_pictures_unless_forced_and_pass_parameters(fake_engines, library, tmp_path):
    ids = import_colours(library, tmp_path, ("red", "blue"))
    run_jobs(library)
    assert library.enrichment.enqueue(Task.EMBEDDER, list(ids.values())) is None
    forced = library.enrichment.enqueue(Task.EMBEDDER, list(ids.values()), force=True)
    assert forced is not None and forced.total == 2
    job = library.enrichment.enqueue(Task.CAPTIONER, [ids["red"]], parameters={"prompt": "for training"})
    run_jobs(library)
    assert library.enrichment.job(job.id).state == "done"
    caption = library.get(ids["red"]).captions[0]
    assert (
        caption.source == "fake/captioner"
        and caption.text.startswith("a red picture")
        and "(for training)" in (caption.text)
    )
    with pytest.raises(BadInput, match="no parameter"):
        library.enrichment.enqueue(Task.CAPTIONER, [ids["red"]], parameters={"x": 1})
    by_filter = library.enrichment.enqueue(Task.TAGGER, f=PictureFilter(), force=True)
    assert by_filter.total == 2


def test_saved_engine_parameters_apply_on_import_and_a_request_overrides_them(fake_engines, library, tmp_path):
    with pytest.raises(BadInput, match="no parameter temperature"):
        library.engines.configure(EnrichmentSettings(parameters={"fake/captioner": {"temperature": 1}}))
    with pytest.raises(EngineNotFound):
        library.engines.configure(EnrichmentSettings(parameters={"no/such": {"prompt": "x"}}))
    saved = library.engines.configure(
        EnrichmentSettings(on_import=["captioner"], parameters={"fake/captioner": {"prompt": "house style"}})
    )
    assert saved.parameters == {"fake/captioner": {"prompt": "house style"}}
    ids = import_colours(library, tmp_path, ("red", "blue"))  # queued on import with the saved parameters
    run_jobs(library)
    assert "(house style)" in library.get(ids["red"]).captions[0].text
    library.enrichment.enqueue(Task.CAPTIONER, [ids["blue"]], parameters={"prompt": "asked"}, force=True)
    run_jobs(library)
    assert "(asked)" in library.get(ids["blue"]).captions[0].text


class PickyTagger(Tagger):
    """Fails on blue pictures only."""

    id = "picky/tagger"
    preferred_batch_size = 8

    def tag(self, images):
        if any(mean_rgb(image)[2] > 0.5 for image in images):
            raise ValueError("blue is not allowed")
        return [[TagScore("ok", 1.0)] for _ in images]


class MissingModel(Tagger):
    id = "missing/tagger"

    def load(self, device="cpu"):
        raise ModelMissing(
            "the model missing/tagger is not on this machine: run `pixlstash models pull missing/tagger`"
        )

    def tag(self, images):
        raise AssertionError("never called without a model")


class GreedyEmbedder(Embedder):
    """Runs out of memory on the GPU, works on the CPU."""

    id = "greedy/embedder"
    dimensions = 4

    def __init__(self):
        self.device = None
        self.loads = []
        self.unloads = 0

    def devices(self):
        return ["cuda", "cpu"]

    def load(self, device="cpu"):
        self.device = device
        self.loads.append(device)

    def unload(self):
        self.unloads += 1
        self.device = None

    def embed_images(self, images):
        if self.device == "cuda":
            raise OutOfDeviceMemory("CUDA out of memory")
        return np.stack([colour_vector(mean_rgb(image)) for image in images])


class ExtraEngines:
    def __init__(self):
        self.greedy = GreedyEmbedder()

    @hookimpl
    def register_taggers(self, register):
        register(PickyTagger())
        register(MissingModel())

    @hookimpl
    def register_embedders(self, register):
        register(self.greedy)


@pytest.fixture
def extra_engines(plugin_manager):
    plugin = ExtraEngines()
    plugin_manager.register(plugin, name="extra-engines")
    yield plugin
    plugin_manager.unregister(plugin)


def test_one_failing_picture_fails_alone_and_can_be_retried(fake_engines, extra_engines, library, tmp_path):
    library.engines.configure(EnrichmentSettings(on_import=[]))
    ids = import_colours(library, tmp_path, ("red", "blue", "green"))
    job = library.enrichment.enqueue(Task.TAGGER, list(ids.values()), engine_id="picky/tagger")
    run_jobs(library)
    job = library.enrichment.job(job.id)
    assert (job.state, job.done, job.failed) == ("done", 2, 1)
    [error] = library.enrichment.job_errors(job.id)
    assert error.picture_id == ids["blue"] and "blue is not allowed" in error.error
    assert {p.name for p in library.get(ids["red"]).predictions if p.engine_id == "picky/tagger"} == {"ok"}
    assert library.enrichment.retry(job.id).queued == 1


def test_a_missing_model_fails_the_job_with_how_to_get_it_and_keeps_its_pictures(
    fake_engines, extra_engines, library, tmp_path
):
    library.engines.configure(EnrichmentSettings(on_import=[]))
    ids = import_colours(library, tmp_path, ("red",))
    job = library.enrichment.enqueue(Task.TAGGER, list(ids.values()), engine_id="missing/tagger")
    run_jobs(library)
    job = library.enrichment.job(job.id)
    assert job.state == "failed" and "pixlstash models pull missing/tagger" in job.error
    assert job.queued == 1 and job.failed == 0  # nothing was attempted: a retry after the pull does it all


def test_out_of_memory_on_the_gpu_falls_back_to_the_cpu(fake_engines, extra_engines, library, tmp_path):
    library.engines.configure(EnrichmentSettings(on_import=[]))
    ids = import_colours(library, tmp_path, ("red", "green"))
    library.enrichment.enqueue(Task.EMBEDDER, list(ids.values()), engine_id="greedy/embedder")
    run_jobs(library)
    greedy = extra_engines.greedy
    assert greedy.loads == ["cuda", "cpu"] and greedy.unloads == 1
    assert set(library.vectors.embeddings("greedy/embedder", list(ids.values()))) == set(ids.values())
    assert library.engines.runtime.status(greedy) == (True, "cpu")
    # The device setting overrides the engine's preference; idle engines are unloaded.
    assert library.engines.runtime.unload_idle({greedy.id: greedy}, 0.0) == [greedy.id]
    library.engines.configure(EnrichmentSettings(device="cpu"))
    assert library.engines.runtime.device_for(greedy) == "cpu"


def test_cancelled_jobs_stop_and_a_second_worker_is_refused(fake_engines, library, tmp_path):
    ids = import_colours(library, tmp_path, ("red", "green"))
    for job in library.enrichment.list_jobs(open_only=True):
        library.enrichment.cancel(job.id)
    assert {job.state for job in library.enrichment.list_jobs()} == {"cancelled"}
    assert run_jobs(library) == 0
    assert library.vectors.embeddings("fake/colour", list(ids.values())) == {}
    server = library.new_enrichment_worker()
    assert server._acquire_lock()
    try:
        with pytest.raises(WorkerBusy, match="already running jobs"):
            library.new_enrichment_worker().run_until_idle()
    finally:
        server._finish()


def test_settings_choose_default_engines_and_on_import_tasks(fake_engines, extra_engines, library, tmp_path):
    library.engines.configure(EnrichmentSettings(defaults={"tagger": "picky/tagger"}, on_import=["tagger"]))
    import_colours(library, tmp_path, ("red",))
    [job] = library.enrichment.list_jobs()
    assert (job.task, job.engine_id) == ("tagger", "picky/tagger")
    with pytest.raises(EngineNotFound, match="unknown tagger engine"):
        library.engines.configure(EnrichmentSettings(defaults={"tagger": "nope/none"}))
    with pytest.raises(BadInput, match="unknown task"):
        library.engines.configure(EnrichmentSettings(on_import=["painter"]))


def test_vector_index_is_saved_reloaded_caught_up_and_rebuilt_when_damaged(fake_engines, library, tmp_path):
    ids = import_colours(library, tmp_path)
    run_jobs(library)
    index = library.indexes.get("fake/colour")
    assert len(index) == 5 and index.path.is_file()
    library.indexes.save()

    library.indexes.invalidate()
    assert len(index) == 5 and index.rebuilds == 0  # loaded from disk: its stamp still matches
    assert not index.dirty  # nothing to write back

    library.indexes.invalidate()
    with library.db.write():  # someone else changes a vector after the index was saved
        library.vectors.put_embedding(ids["red"], "fake/colour", "1", colour_vector((0, 0, 1)), 0)
    hits = library.search.similar(picture_ids=[ids["blue"]], limit=1).hits
    assert hits[0].picture.id == ids["red"] and hits[0].similarity == pytest.approx(1, 1e-3)
    assert (index.rebuilds, index.caught_up, len(index)) == (0, 1, 5)  # read that one vector, nothing else
    assert index.dirty

    with library.db.write():  # and while it is loaded: the next search reads the change too
        library.vectors.put_embedding(ids["red"], "fake/colour", "1", colour_vector((0, 1, 0)), 0)
    hits = library.search.similar(picture_ids=[ids["green"]], limit=1).hits
    assert hits[0].picture.id == ids["red"] and hits[0].similarity == pytest.approx(1, 1e-3)
    assert (index.rebuilds, index.caught_up) == (0, 2)

    library.indexes.save()
    library.indexes.invalidate()
    with library.db.write():
        library.vectors.new_epoch()  # what a full restore does: the saved index is no longer a starting point
    assert len(index) == 5 and index.rebuilds == 1

    library.indexes.invalidate()
    index.path.write_bytes(b"garbage")
    assert len(index) == 5 and index.rebuilds == 2


def test_an_index_saved_ahead_of_the_database_is_rebuilt(fake_engines, library, tmp_path):
    """A crash can lose writes an index already saw: an index further on than the database is not trusted."""
    import_colours(library, tmp_path)
    run_jobs(library)
    index = library.indexes.get("fake/colour")
    _epoch, seq = library.vectors.stamp("fake/colour", "image")
    meta = index.meta_path.read_bytes().replace(f'"seq":{seq}'.encode(), f'"seq":{seq + 7}'.encode())
    assert meta != index.meta_path.read_bytes()
    index.meta_path.write_bytes(meta)
    library.indexes.invalidate()
    assert len(index) == 5 and index.rebuilds == 1


def test_catch_up_queues_pictures_an_interrupted_import_never_queued(fake_engines, library, tmp_path):
    ids = import_colours(library, tmp_path, ("red", "green"))
    with library.db.write():
        library.db.execute("DELETE FROM jobs")  # as if the process died between the import and the queueing
    queued = library.enrichment.queue_missing()
    assert {job.task for job in queued} == {"embedder", "tagger", "faces"}
    assert all(job.total == len(ids) for job in queued)
    run_jobs(library)
    assert library.enrichment.queue_missing() == []


def test_a_killed_worker_resumes_with_nothing_lost_or_duplicated(tmp_path):
    import random
    import subprocess
    import sys
    import time
    from pathlib import Path

    import enrich_child

    from pixlstash.library import Library

    root = tmp_path / "library"
    with Library.open(root, plugin_manager=enrich_child.plugin_manager()) as library:
        # kill -9 cannot be told from a native crash, so each counts towards a picture's quarantine; more
        # tries than kills keep quarantine (tested on its own) out of this test of durability, however the
        # kills fall on a busy machine.
        library.engines.configure(EnrichmentSettings(on_import=["embedder", "faces"], max_attempts=9))
        folder = tmp_path / "pictures"
        folder.mkdir()
        for n in range(60):
            solid(64 + n, 48, (40 + 3 * n, 250 - 3 * n, 128)).save(folder / f"{n}.png")
        ids = sorted(i.picture_id for i in library.import_paths([folder]).imported)
    assert len(ids) == 60

    rng = random.Random(7)
    tests_dir = str(Path(__file__).parent)
    kills = 0
    for _ in range(8):
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {tests_dir!r}); "
                f"import runpy; sys.argv = ['x', {str(root)!r}]; "
                "runpy.run_module('enrich_child', run_name='__main__')",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        if child.poll() is None:
            child.kill()  # SIGKILL: no cleanup of any kind
            kills += 1
        child.wait()
    assert kills >= 3

    with Library.open(root, plugin_manager=enrich_child.plugin_manager()) as library:
        library.new_enrichment_worker().run_until_idle()
        db = library.db
        assert db.scalar("PRAGMA integrity_check") == "ok"
        assert db.scalar("SELECT count(*) FROM job_items WHERE state != 'done'") == 0
        assert {(j.state, j.done, j.failed) for j in library.enrichment.list_jobs()} == {("done", 60, 0)}
        assert db.query("SELECT picture_id, count(*) FROM embeddings GROUP BY picture_id HAVING count(*) != 1") == []
        assert db.scalar("SELECT count(*) FROM embeddings") == 60
        assert db.query("SELECT picture_id, count(*) FROM faces GROUP BY picture_id HAVING count(*) != 1") == []
        assert db.scalar("SELECT count(*) FROM faces") == 60
        assert db.scalar("SELECT count(*) FROM enrichments") == 120
        assert len(library.indexes.get("slow/embedder")) == 60
        assert len(library.indexes.get("slow/faces", "face")) == 60


def test_progress_says_how_fast_each_engine_goes_and_how_long_is_left(fake_engines, library, tmp_path):
    from pixlstash.cli.jobs_cmd import _render

    library.engines.configure(EnrichmentSettings(on_import=[]))
    ids = import_colours(library, tmp_path, ("red", "green", "blue", "yellow", "black"))
    job = library.enrichment.enqueue(Task.EMBEDDER, list(ids.values()))
    jobs, started = library.enrichment.jobs, 1_000_000
    with library.db.write():
        claimed = jobs.claim(job.id, 2, started)
        for picture_id in claimed:
            jobs.finish_item(job.id, picture_id)
    (progress,) = jobs.progress(started + 4_000)  # two done in 4 s: three left take 6 s more
    assert (progress.done, progress.queued, progress.pictures_per_second) == (2, 3, 0.5)
    assert progress.seconds_left == 6.0
    assert "~6 s left" in _render([progress])[0]
    assert jobs.progress(started)[0].seconds_left is None  # no speed yet, no guess


def test_ctrl_c_on_a_worker_never_counts_against_its_pictures(tmp_path):
    """Ctrl+C (or a server stopping) mid-batch puts the batch back untouched: pressed more times than a
    picture may crash the worker, it marks no innocent picture failed."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import enrich_child

    from pixlstash.library import Library

    root = tmp_path / "library"
    with Library.open(root, plugin_manager=enrich_child.plugin_manager()) as library:
        library.engines.configure(EnrichmentSettings(on_import=["embedder"], max_attempts=3))
        folder = tmp_path / "pictures"
        folder.mkdir()
        for n in range(6):
            solid(64 + n, 48, (40 + 9 * n, 200, 128)).save(folder / f"{n}.png")
        library.import_paths([folder])
    tests_dir = str(Path(__file__).parent)
    for _ in range(4):  # more than max_attempts
        child = subprocess.Popen(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {tests_dir!r}); "
             f"import runpy; sys.argv = ['x', {str(root)!r}, '--hang']; "
             "runpy.run_module('enrich_child', run_name='__main__')"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert child.stdout.readline().strip() == "ready"
        assert child.stdout.readline().strip() == "computing"  # a batch is claimed and running
        child.send_signal(signal.SIGINT)
        assert child.wait(120) != 0
    with Library.open(root, plugin_manager=enrich_child.plugin_manager()) as library:
        db = library.db
        assert db.scalar("SELECT count(*) FROM job_items WHERE state = 'failed'") == 0
        assert db.scalar("SELECT max(attempts) FROM job_items") == 0
        library.new_enrichment_worker().run_until_idle()
        assert {(j.state, j.done, j.failed) for j in library.enrichment.list_jobs()} == {("done", 6, 0)}
