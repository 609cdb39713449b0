"""Enrichment on a Ray cluster the test starts on loopback: the same results as in process (the anime
engine's included), a dead actor's batch retried with nothing written twice, a bounded number of batches
in flight, and a driver killed with -9 resumed from the queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import PLUGIN_PACKAGES, pip_install_to
from corpus import solid
from test_enrichment import PALETTE

from pixlstash.domain import EnrichmentSettings, RaySettings
from pixlstash.enrichment.worker import EnginesUnreachable
from pixlstash.instance import JOBS_ONLY, Instance
from pixlstash.library import Library
from pixlstash.plugins import make_plugin_manager

ray = pytest.importorskip("ray")  # scripts/setup --dev installs pixlstash-core[ray]
from ray._private import auto_init_hook  # noqa: E402 - after the skip: Ray may not be installed

COLOURS = ("red", "green", "blue", "yellow", "magenta", "cyan", "white", "black")


@pytest.fixture(scope="module")
def fake_site(tmp_path_factory):
    target = tmp_path_factory.mktemp("fake-site")
    pip_install_to(target, PLUGIN_PACKAGES / "pixlstash-fake-engines")
    return target


@pytest.fixture(scope="module")
def anime_hub(tmp_path_factory):
    """The anime plugin's random-weight graphs in a Hugging Face cache the cluster's workers are told of."""
    from tiny_anime import build_tiny_models

    cache = tmp_path_factory.mktemp("anime-hub")
    build_tiny_models(cache)
    return cache


@pytest.fixture(scope="module")
def cluster(fake_site, anime_hub):
    """A Ray on this machine with two CPUs; its workers find the fake engines' plugin as a user's
    cluster would find an installed one (here through PYTHONPATH in the runtime environment)."""
    sys.path.insert(0, str(fake_site))
    env = {"PYTHONPATH": str(fake_site), "PIXLSTASH_FAKE_SLOW_SECONDS": "0.3", "HF_HUB_CACHE": str(anime_hub)}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    yield
    # A worker's senders may still be inside a Ray call (stop() does not wait for them): shutting Ray
    # down under them, or letting one auto-start a new Ray here afterwards, left a client at exit that
    # waited 60 s for the gone cluster and then ended pytest with an error (once, in CI).
    deadline = time.monotonic() + 60
    while any(t.name.startswith("pixlstash-ray") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.1)
    ray.shutdown()
    auto_init_hook.enable_auto_connect = False  # nothing starts a Ray in this process again
    sys.path.remove(str(fake_site))


def colour_library(path, folder) -> Library:
    folder.mkdir(parents=True, exist_ok=True)
    for n, name in enumerate(COLOURS * 2):
        solid(60 + n, 40 + n, PALETTE[name]).save(folder / f"{name}-{n}.png")
    library = Library.open(path, plugin_manager=make_plugin_manager())
    # Actors take a quarter CPU each here: the test's Ray has two.
    library.engines.configure(EnrichmentSettings(on_import=[], ray=RaySettings(num_cpus=0.25)))
    library.import_paths([folder])
    return library


def results(library: Library) -> dict:
    """Everything enrichment wrote, by picture file name (ids may differ between libraries)."""
    names = {pid: name for pid, name in library.db.query("SELECT id, original_name FROM pictures")}
    out = {}
    for pid, name in names.items():
        picture = library.get(pid)
        vectors = {
            e: v.round(6).tolist()
            for e, v in (
                (e, library.vectors.embeddings(e, [pid]).get(pid)) for e in ("fake/colour", "fake/slow-colour")
            )
            if v is not None
        }
        out[name] = (
            sorted((t.name, round(t.confidence or 0, 4)) for t in picture.predictions),
            sorted(c.text for c in picture.captions),
            vectors,
            len(picture.faces),
            sorted((score.engine_id, round(score.value, 6)) for score in picture.scores),
        )
    return out


def enqueue_all(library: Library, *engine_ids: str) -> None:
    for engine_id in engine_ids:
        engine = library.engines.by_id(engine_id)
        library.enrichment.enqueue(engine.task, None, engine_id=engine_id)


def test_results_on_ray_are_the_in_process_results(cluster, tmp_path):
    engines = ("fake/colour", "fake/colour-tagger", "fake/captioner", "fake/faces", "pixlstash/quality")
    local = colour_library(tmp_path / "local", tmp_path / "pictures")
    remote = colour_library(tmp_path / "remote", tmp_path / "pictures")
    try:
        enqueue_all(local, *engines)
        enqueue_all(remote, *engines)
        Instance(local, JOBS_ONLY).run_jobs_until_idle()
        remote.engines.configure(
            EnrichmentSettings(on_import=[], ray=RaySettings(num_cpus=0.25, actors={"fake/colour": 1}))
        )
        worker = remote.new_enrichment_worker(ray_address="local")
        done = worker.run_until_idle()
        sizes = {pool.engine_id: len(pool._actors) for pool in [*worker._retired, *worker._pools.values()]}
        assert sizes == {
            "fake/colour": 1,
            "fake/colour-tagger": 2,
            "fake/captioner": 2,
            "fake/faces": 2,
            "pixlstash/quality": 2,
        }
        assert done == 5 * len(COLOURS) * 2
        assert results(remote) == results(local) and results(local)
        assert sum(worker.per_node().values()) == done  # every picture ran on the cluster
        reported = remote.enrichment.cluster()  # what the jobs CLI, the API and the task manager show
        assert reported.nodes == worker.per_node() and reported.in_flight == 0 and not reported.local
        shown = subprocess.run(
            [sys.executable, "-m", "pixlstash", "jobs", "--once", "--library", str(tmp_path / "remote")],
            capture_output=True,
            text=True,
        ).stdout
        assert "on Ray (a Ray on the worker's machine): 0 batches out" in shown and f"{done} pictures" in shown
        assert all(job.state == "done" and job.failed == 0 for job in remote.enrichment.list_jobs())
    finally:
        local.close()
        remote.close()


def test_the_anime_engine_runs_on_ray_unchanged(cluster, anime_hub, tmp_path, monkeypatch):
    """Boxes and CCIP features found on the cluster are those found in process, and the library clusters
    them with the metric graph as it does its own."""
    from test_anime_plugin import HEADS, pictures

    monkeypatch.setenv("HF_HUB_CACHE", str(anime_hub))
    folder = tmp_path / "drawn"
    folder.mkdir()
    for n, image in enumerate(pictures()):
        image.save(folder / f"scene{n}.png")
    found = {}
    for where in ("local", "ray"):
        with Library.open(tmp_path / where, plugin_manager=make_plugin_manager()) as library:
            library.engines.configure(EnrichmentSettings(on_import=[], ray=RaySettings(num_cpus=0.25)))
            library.import_paths([folder])
            enqueue_all(library, HEADS)
            worker = library.new_enrichment_worker(ray_address="local" if where == "ray" else None)
            assert worker.run_until_idle() == len(pictures())
            if where == "ray":
                assert sum(worker.per_node().values()) == len(pictures())  # every picture ran on the cluster
            library.people.update()
            rows = library.db.query(
                "SELECT p.original_name, f.x0, f.y0, f.x1, f.y1, f.id "
                "FROM faces f JOIN pictures p ON p.id = f.picture_id"
            )
            vectors = library.vectors.face_vectors([r[5] for r in rows])
            clusters = dict(library.db.query("SELECT id, cluster_id FROM faces"))
            by_face = {r[5]: r[:5] for r in rows}
            groups = {}
            for face, cluster in clusters.items():
                groups.setdefault(cluster, set()).add(by_face[face])
            found[where] = (
                sorted((r[:5], vectors[r[5]].round(5).tolist()) for r in rows),
                sorted(sorted(g) for g in groups.values()),
            )
    assert found["ray"] == found["local"] and found["local"][0]


def test_a_dead_actor_s_batch_is_retried_and_in_flight_batches_stay_bounded(cluster, tmp_path):
    library = colour_library(tmp_path / "lib", tmp_path / "pictures")
    try:
        enqueue_all(library, "fake/slow-colour")  # 16 pictures, 4 a batch, 0.3 s a batch
        worker = library.new_enrichment_worker(ray_address="local")
        worker.max_in_flight = 2
        finished = []
        runner = threading.Thread(target=lambda: finished.append(worker.run_until_idle()))
        runner.start()
        deadline = time.monotonic() + 60
        while not worker._pools and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a batch is on an actor now
        pool = worker._pools["fake/slow-colour"]
        for actor in list(pool._actors):
            ray.kill(actor)
        runner.join(120)
        assert finished == [16] and pool.replaced >= 1
        assert pool.options == {"num_cpus": 0.5, "num_gpus": 0.0}  # the engine's declaration over the settings
        assert pool.batch == 4  # what the actors' runtime runs it at, said back: the size claimed for them
        assert worker.most_in_flight <= 2
        rows = library.db.query(
            "SELECT picture_id, count(*) FROM embeddings WHERE engine_id = 'fake/slow-colour' GROUP BY picture_id"
        )
        assert len(rows) == 16 and all(n == 1 for _, n in rows)
        [job] = library.enrichment.list_jobs()
        assert (job.state, job.done, job.failed) == ("done", 16, 0)
    finally:
        library.close()


def test_a_driver_killed_with_9_resumes_from_the_queue(cluster, fake_site, tmp_path):
    library = colour_library(tmp_path / "lib", tmp_path / "pictures")
    enqueue_all(library, "fake/slow-colour")
    # A driver of its own joins the cluster: the library's settings give its actors their environment.
    runtime_env = {"env_vars": {"PYTHONPATH": str(fake_site), "PIXLSTASH_FAKE_SLOW_SECONDS": "0.5"}}
    library.engines.configure(EnrichmentSettings(on_import=[], ray=RaySettings(num_cpus=0.25, runtime_env=runtime_env)))
    library.close()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")},
        "PYTHONPATH": str(fake_site),
        "PIXLSTASH_FAKE_SLOW_SECONDS": "0.5",
        "RAY_ADDRESS": ray.get_runtime_context().gcs_address,  # the test's cluster
    }
    command = [sys.executable, "-m", "pixlstash", "enrich", "--library", str(tmp_path / "lib"), "--ray", "auto"]
    driver = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 90
    with Library.open(tmp_path / "lib", plugin_manager=make_plugin_manager()) as watching:
        while time.monotonic() < deadline:
            written = watching.db.scalar("SELECT count(*) FROM embeddings")
            if written:
                break
            time.sleep(0.1)
    os.kill(driver.pid, signal.SIGKILL)
    shown = driver.communicate()[0]
    assert 0 < written < 16, shown
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stdout + again.stderr
    with Library.open(tmp_path / "lib", plugin_manager=make_plugin_manager()) as library:
        rows = library.db.query("SELECT picture_id, count(*) FROM embeddings GROUP BY picture_id")
        assert len(rows) == 16 and all(n == 1 for _, n in rows)
        [job] = library.enrichment.list_jobs()
        assert (job.state, job.done, job.failed) == ("done", 16, 0)
        reported = library.enrichment.cluster()  # the work after the restart ran on the cluster, not here
        assert not reported.local and 0 < sum(reported.nodes.values()) <= 16 - written
        vector = library.vectors.embeddings("fake/slow-colour", [rows[0][0]])[rows[0][0]]
        assert np.isclose(np.linalg.norm(vector), 1.0)


def test_without_ray_nothing_imports_it_and_enrich_ray_says_how_to_install(tmp_path, fake_site):
    plain = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pixlstash.library, pixlstash.cli, pixlstash.instance, sys; print('ray' in sys.modules)",
        ],
        capture_output=True,
        text=True,
    )
    assert plain.stdout.strip() == "False"
    folder = tmp_path / "in"
    folder.mkdir()
    solid(50, 50, PALETTE["red"]).save(folder / "red.png")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}, "PYTHONPATH": str(fake_site)}
    lib = str(tmp_path / "lib")
    subprocess.run([sys.executable, "-m", "pixlstash", "import", str(folder), "--library", lib], env=env, check=True)
    code = "import sys; sys.modules['ray'] = None; from pixlstash.cli import main; sys.exit(main(sys.argv[1:]))"
    ran = subprocess.run(  # as if Ray were not installed
        [sys.executable, "-c", code, "enrich", "--library", lib, "--engine", "fake/colour", "--force", "--ray"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    assert ran.stderr.strip().endswith(
        "error: enrichment on Ray needs Ray: pip install 'ray>=2.9' here and on the cluster's machines"
    )


@pytest.mark.parametrize("when_lost", ["local", "pause"])
def test_a_cluster_that_keeps_failing_goes_back_to_local_work_or_pauses(cluster, tmp_path, when_lost):
    """Actors killed as fast as they come (a cluster going away): the batches out go back to the queue, then
    the work goes on in this process, or stops with a message and the queue kept."""
    library = colour_library(tmp_path / "lib", tmp_path / "pictures")
    try:
        enqueue_all(library, "fake/slow-colour")
        worker = library.new_enrichment_worker(ray_address="local")
        worker.when_lost = when_lost
        stop = threading.Event()

        def kill_actors() -> None:
            while not stop.is_set():
                for pool in list(worker._pools.values()):
                    for actor in list(pool._actors):
                        ray.kill(actor)
                time.sleep(0.02)

        killer = threading.Thread(target=kill_actors)
        killer.start()
        try:
            if when_lost == "local":
                assert worker.run_until_idle() == 16 and worker.local
            else:
                with pytest.raises(EnginesUnreachable, match="put back in the queue: run again when the cluster"):
                    worker.run_until_idle()
        finally:
            stop.set()
            killer.join()
        [job] = library.enrichment.list_jobs()
        if when_lost == "local":
            assert (job.state, job.done, job.failed) == ("done", 16, 0)
        else:
            assert job.failed == 0 and job.queued + job.done == 16 and job.queued > 0  # nothing lost, nothing failed
        # The run's actors are ended with it: no sender is left waiting on one (they held a Ray call and
        # the cluster's CPUs for good, and a later run could not start its actors).
        deadline = time.monotonic() + 15
        while any(t.name.startswith("pixlstash-ray") for t in threading.enumerate()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [t.name for t in threading.enumerate() if t.name.startswith("pixlstash-ray")]
        assert all(pool.closed for pool in worker._retired) and not worker._pools
    finally:
        library.close()


def test_actors_of_gpu_engines_ask_for_their_share_of_a_gpu_where_the_cluster_has_one():
    from pixlstash.enrichment.ray_worker import actor_resources

    settings = {"num_cpus": 1.0, "num_gpus": 0.0}
    assert actor_resources(settings, {"num_gpus": 0.25}, cluster_gpus=2) == {"num_cpus": 1.0, "num_gpus": 0.25}
    # No GPU on the cluster: an actor asking for one would wait forever; it runs on a CPU instead.
    assert actor_resources(settings, {"num_gpus": 0.25}, cluster_gpus=0) == {"num_cpus": 1.0, "num_gpus": 0.0}
    # The library's setting, when set, replaces every GPU engine's share; CPU engines keep the setting.
    mine = {"num_cpus": 1.0, "num_gpus": 0.5}
    assert actor_resources(mine, {"num_gpus": 1.0}, cluster_gpus=1)["num_gpus"] == 0.5
    assert actor_resources(mine, {"num_cpus": 0.5}, cluster_gpus=1) == {"num_cpus": 0.5, "num_gpus": 0.5}
