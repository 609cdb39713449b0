"""Engines that ask for a process of their own (``own_process``) run in a child interpreter: their results
are the same as in process, the child ends when the engine unloads, a native crash there fails the calls it
was making (named) while this process lives on, and the next call starts a new child."""

from __future__ import annotations

import os
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image
from test_enrichment import import_colours, run_jobs

from pixlstash import Embedder
from pixlstash.engines.process_host import EngineProcessCrashed, HostedEngine
from pixlstash.library import Library
from pixlstash.plugins import make_plugin_manager

PLUGIN = """
import ctypes, os
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
