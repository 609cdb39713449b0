"""Enrichment on Ray for a library whose originals are in a SeaweedFS cluster (a master, two volume
servers, replication 001): the actors read the originals from the bucket themselves, with the credentials
the library's settings hold (the workers' environment has none), and the results are those of the
in-process worker. The driver stages no original; the in-process worker, reading the same bucket, does."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from conftest import PLUGIN_PACKAGES, pip_install_to, run_cli
from seaweed import ACCESS_KEY, SECRET_KEY, SeaweedFS
from test_ray_enrichment import results
from test_s3_store import cli_env, pictures

from pixlstash.domain import EnrichmentSettings, RaySettings
from pixlstash.instance import JOBS_ONLY, Instance
from pixlstash.library import Library
from pixlstash.plugins import make_plugin_manager

ray = pytest.importorskip("ray")  # scripts/setup --dev installs pixlstash-core[ray]
from ray._private import auto_init_hook  # noqa: E402 - after the skip: Ray may not be installed

ENGINES = ("fake/colour", "fake/faces")


@pytest.fixture(scope="module")
def seaweed_cluster(tmp_path_factory):
    cluster = SeaweedFS(tmp_path_factory.mktemp("seaweedfs-cluster")).start_cluster(volumes=2, replication="001")
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A Ray on this machine whose workers find the fake engines' plugin (PYTHONPATH) and have no AWS
    credentials of their own."""
    fake_site = tmp_path_factory.mktemp("fake-site")
    pip_install_to(fake_site, PLUGIN_PACKAGES / "pixlstash-fake-engines")
    sys.path.insert(0, str(fake_site))
    env = {"PYTHONPATH": str(fake_site), "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    yield
    deadline = time.monotonic() + 60  # (see test_ray_enrichment's cluster fixture)
    while any(t.name.startswith("pixlstash-ray") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.1)
    ray.shutdown()
    auto_init_hook.enable_auto_connect = False
    sys.path.remove(str(fake_site))


def bucket_library(root, prefix, seaweed, folder, secret) -> Library:
    env = {k: v for k, v in cli_env(root).items() if not k.startswith("AWS_")}  # the keys are in the library
    run_cli(
        "storage", "use", f"s3://ray-originals/{prefix}", "--endpoint", seaweed.endpoint,
        "--access-key-id", ACCESS_KEY, "--secret-access-key-file", str(secret), env=env,
    )  # fmt: skip
    run_cli("import", str(folder), env=env)
    library = Library.open(root, plugin_manager=make_plugin_manager(environ={}))
    library.engines.configure(EnrichmentSettings(on_import=[], ray=RaySettings(num_cpus=0.25)))
    for engine_id in ENGINES:
        engine = library.engines.by_id(engine_id)
        library.enrichment.enqueue(engine.task, None, engine_id=engine_id)
    return library


def face_boxes(library: Library) -> dict[str, list]:
    """Each picture's face boxes in the original's pixels (scaled from the size the engine saw)."""
    names = dict(library.db.query("SELECT id, original_name FROM pictures"))
    return {name: [tuple(round(v, 3) for v in f.box) for f in library.get(pid).faces] for pid, name in names.items()}


def staged(root) -> list:
    return [p for p in (root / "cache" / "originals").rglob("*") if p.is_file()]


def test_ray_actors_read_originals_from_the_bucket_with_the_library_s_credentials(
    seaweed_cluster, ray_cluster, tmp_path
):
    seaweed_cluster.make_bucket("ray-originals")
    secret = tmp_path / "secret"
    secret.write_text(SECRET_KEY)
    folder = pictures(tmp_path / "in", 8, size=520)  # larger than a grid thumbnail: engines read the original
    here = bucket_library(tmp_path / "here", "here", seaweed_cluster, folder, secret)
    remote = bucket_library(tmp_path / "remote", "remote", seaweed_cluster, folder, secret)
    try:
        assert remote.store.remote and not (tmp_path / "remote" / "originals").exists()
        Instance(here, JOBS_ONLY).run_jobs_until_idle()
        assert len(staged(tmp_path / "here")) == 8, "in process, the originals are staged here to be read"

        worker = remote.new_enrichment_worker(ray_address="local")
        done = worker.run_until_idle()
        assert done == len(ENGINES) * 8
        assert sum(worker.per_node().values()) == done  # every picture ran on the cluster
        assert staged(tmp_path / "remote") == [], "no original passed through the driver"
        assert results(remote) == results(here) and all(faces == 1 for *_, faces, _ in results(here).values())
        assert face_boxes(remote) == face_boxes(here)
        box = face_boxes(here)["p000.jpg"][0]  # the middle half of the 520 x 520 original
        assert box == (130.0, 130.0, 390.0, 390.0)
        assert all(job.state == "done" and job.failed == 0 for job in remote.enrichment.list_jobs())
    finally:
        here.close()
        remote.close()
