"""Engines that ask for a process of their own (``own_process``) run in a child interpreter: their results
are the same as in process, the child ends when the engine unloads, a native crash there fails the calls it
was making (named) while this process lives on, and the next call starts a new child. Stopping the worker
(the server stopping) or Ctrl+C ends a call in flight at once, and its pictures go back to the queue."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time

import numpy as np
import pytest
from PIL import Image
from test_enrichment import import_colours, run_jobs

from pixlstash import Embedder
from pixlstash.engines.process_host import EngineProcessCrashed, HostedEngine
from pixlstash.library import Library
from pixlstash.plugins import make_plugin_manager

PLUGIN = """
import ctypes, os, time
from pixlstash import hookimpl
from pixlstash.testing import FakeEmbedder

class IsolatedEmbedder(FakeEmbedder):
    id = "isolated/colour"
    own_process = True

    def embed_images(self, images):
        if os.path.exists(os.environ["ISOLATED_CRASH_FLAG"]):
            ctypes.string_at(0)  # a segmentation fault, as a broken native library gives
        with open(os.environ["ISOLATED_PID_FILE"], "w") as handle:  # which process computed it
            handle.write(str(os.getpid()))
        while os.path.exists(os.environ["ISOLATED_HOLD"]):  # a call as long as the test needs
            time.sleep(0.05)
        return super().embed_images(images)

@hookimpl
def register_embedders(register):
    register(IsolatedEmbedder())
"""


@pytest.fixture
def isolated_library(tmp_path, monkeypatch):
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "pixlstash_isolated.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(folder))  # the child gets this process's path
    monkeypatch.setenv("ISOLATED_CRASH_FLAG", str(tmp_path / "crash-now"))
    monkeypatch.setenv("ISOLATED_PID_FILE", str(tmp_path / "pid"))
    monkeypatch.setenv("ISOLATED_HOLD", str(tmp_path / "hold"))
    import pixlstash_isolated

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_isolated, name="isolated")
    library = Library.open(tmp_path / "library", plugin_manager=pm)
    yield library
    library.close()
    sys.modules.pop("pixlstash_isolated", None)


def _engine(library):
    return library.engines.by_id("isolated/colour")


def test_an_own_process_engine_runs_in_a_child_that_ends_when_it_unloads(isolated_library, tmp_path):
    library = isolated_library
    ids = import_colours(library, tmp_path)
    assert run_jobs(library) == len(ids)
    engine = _engine(library)
    child = engine.process_id
    assert child is not None and child != os.getpid()
    assert int((tmp_path / "pid").read_text()) == child  # computed there
    vectors = library.vectors.embeddings("isolated/colour", list(ids.values()))
    assert len(vectors) == len(ids) and all(np.isclose(np.linalg.norm(v), 1) for v in vectors.values())
    assert isinstance(engine, Embedder) and type(engine) is HostedEngine  # a stand-in that passes for it

    assert library.engines.runtime.unload_idle({engine.id: engine}, 0.0) == [engine.id]
    assert engine.process_id is None
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # gone, not a zombie holding its memory: the host waited for it


def test_a_native_crash_in_the_engine_process_fails_its_calls_and_the_next_call_starts_a_new_one(
    isolated_library, tmp_path
):
    library = isolated_library
    ids = import_colours(library, tmp_path)
    (tmp_path / "crash-now").touch()
    run_jobs(library)  # every picture fails, one by one, each in a child that crashed
    (job,) = library.enrichment.list_jobs()
    assert job.failed == len(ids)
    errors = library.enrichment.job_errors(job.id)
    assert len(errors) == len(ids) and all("ended during embed_images (signal 11, SIGSEGV)" in e.error for e in errors)
    engine = _engine(library)
    red = [Image.new("RGB", (8, 8), (255, 0, 0))]
    with pytest.raises(EngineProcessCrashed, match="SIGSEGV"):
        library.engines.call(engine, lambda: engine.embed_images(red))
    (tmp_path / "crash-now").unlink()
    vectors = library.engines.call(engine, lambda: engine.embed_images(red))
    assert vectors.shape == (1, 4) and int((tmp_path / "pid").read_text()) == engine.process_id  # a new child


def _in_the_call(tmp_path, other_than: int = 0) -> int:
    """The engine's process (not ``other_than``), once it is inside a call that holds."""
    pid_file = tmp_path / "pid"
    deadline = time.monotonic() + 300  # a failure guard only: the wait ends on the file
    while (pid := int(pid_file.read_text() or 0) if pid_file.exists() else 0) in (0, other_than):
        assert time.monotonic() < deadline, "the engine's call never started"
        time.sleep(0.02)
    return pid


def test_stopping_the_worker_ends_the_call_in_flight_and_its_pictures_go_back_untouched(isolated_library, tmp_path):
    library = isolated_library
    ids = import_colours(library, tmp_path)
    (tmp_path / "hold").touch()  # the call would last until the file goes: only the stop can end it
    worker = library.new_enrichment_worker(decode_threads=2)
    worker.start()
    child = _in_the_call(tmp_path)
    worker.stop(timeout=120)
    assert not worker._thread.is_alive()  # it returned because the call ended, not at the join's limit
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    (job,) = library.enrichment.list_jobs()
    assert (job.state, job.queued, job.done, job.failed) == ("queued", len(ids), 0, 0)  # not "running": none runs
    assert library.enrichment.job_errors(job.id) == []
    (tmp_path / "hold").unlink()
    assert run_jobs(library) == len(ids)  # the next worker does them all, none counted as a failed attempt
    (job,) = library.enrichment.list_jobs()
    assert (job.state, job.done, job.failed) == ("done", len(ids), 0)


def test_ctrl_c_reaching_the_engines_process_puts_the_batch_back_and_the_worker_goes_on(isolated_library, tmp_path):
    """A terminal's Ctrl+C reaches every process of its group; the engine's may end before the server
    hears it. Its picture is not at fault (a batch of one, which has no picture-by-picture retry to hide
    behind): it does not fail, the batch runs again in a new process."""
    library = isolated_library
    ids = import_colours(library, tmp_path, names=("red",))
    (tmp_path / "hold").touch()
    worker = library.new_enrichment_worker(decode_threads=2)
    worker.start()
    try:
        first = _in_the_call(tmp_path)
        os.kill(first, signal.SIGINT)
        _in_the_call(tmp_path, other_than=first)  # the batch again, in a new process
        (tmp_path / "hold").unlink()
        deadline = time.monotonic() + 300
        while library.enrichment.list_jobs()[0].state != "done":
            assert time.monotonic() < deadline, "the job never finished"
            time.sleep(0.05)
    finally:
        (tmp_path / "hold").unlink(missing_ok=True)
        worker.stop()
    (job,) = library.enrichment.list_jobs()
    assert (job.done, job.failed) == (len(ids), 0) and library.enrichment.job_errors(job.id) == []


PAIR = """
from pixlstash import hookimpl
from pixlstash.testing import FakeEmbedder

class First(FakeEmbedder):
    id = "pair/first"
    own_process = "pair/weights"  # one process for both, as JoyCaption's captioner and tagger share one

class Second(First):
    id = "pair/second"

@hookimpl
def register_embedders(register):
    register(First())
    register(Second())
"""


def test_engines_sharing_a_process_unload_cleanly_after_it_was_interrupted(tmp_path, monkeypatch):
    """The worker's stop ends every engine process, idle ones too; the library's close then unloads
    each engine, and one whose partner is still loaded asked the ended process to drop its weights."""
    (tmp_path / "pixlstash_pair.py").write_text(PAIR)
    monkeypatch.syspath_prepend(str(tmp_path))
    import pixlstash_pair

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_pair, name="pair")
    try:
        with Library.open(tmp_path / "library", plugin_manager=pm) as library:
            first, second = library.engines.by_id("pair/first"), library.engines.by_id("pair/second")
            red = [Image.new("RGB", (8, 8), (255, 0, 0))]
            for engine in (first, second):
                library.engines.call(engine, lambda engine=engine: engine.embed_images(red))
            child = first.process_id
            assert child is not None and second.process_id == child  # one process for the pair
            library.engines.hosts.interrupt()
        with pytest.raises(ProcessLookupError):  # closed without an error, the process gone and reaped
            os.kill(child, 0)
    finally:
        sys.modules.pop("pixlstash_pair", None)
