"""The real ``pixlstash`` CLI for enrichment: enrich, jobs, search and models, with fake engines installed."""

from __future__ import annotations

import json

import pytest
from conftest import PLUGIN_PACKAGES, pip_install_to, run_cli
from corpus import solid
from test_enrichment import PALETTE


@pytest.fixture(scope="module")
def fake_site(tmp_path_factory):
    target = tmp_path_factory.mktemp("fake-site")
    pip_install_to(target, PLUGIN_PACKAGES / "pixlstash-fake-engines")
    return target


@pytest.fixture
def cli_library(tmp_path, fake_site):
    folder = tmp_path / "in"
    folder.mkdir()
    for n, name in enumerate(("red", "green", "blue", "yellow")):
        solid(100 + n, 80, PALETTE[name]).save(folder / f"{name}.png")
    lib = tmp_path / "lib"

    def cli(*args, check=True):
        return run_cli(*args, "--library", str(lib), pythonpath=fake_site, check=check)

    cli("import", str(folder))
    return cli


def test_enrich_runs_the_queue_and_search_finds_by_text_and_example(cli_library):
    out = cli_library("jobs", "--json").stdout
    progress = {p["engine_id"]: p for p in json.loads(out)}
    assert progress["fake/colour"]["queued"] == 4  # import queued it; no server ran it yet
    done = cli_library("enrich", "--task", "embedder").stdout
    # Already queued by the import: not queued twice, but run now (the queue is the CLI's to work).
    assert "queued job" not in done and "resuming 3 unfinished job(s), 12 pictures left" in done
    run = cli_library("enrich", "--engine", "fake/captioner", "--param", "prompt=x", "--ids", "1,2")
    assert "queued job" in run.stdout and "done, 2 done, 0 failed" in run.stdout
    assert "no enrichment work queued" in cli_library("jobs", "--once").stdout  # the run did everything
    hits = json.loads(cli_library("search", "red", "--json", "--limit", "2").stdout)["hits"]
    assert len(hits) == 2 and hits[0]["similarity"] > 0.99
    red_id = hits[0]["picture"]["id"]
    similar = json.loads(cli_library("search", "--similar", str(red_id), "--json").stdout)["hits"]
    assert red_id not in {h["picture"]["id"] for h in similar}
    table = cli_library("search", "blue", "--tag", "blue").stdout
    assert len(table.strip().splitlines()) == 1
    listing = json.loads(cli_library("jobs", "--all", "--json").stdout)
    assert {j["state"] for j in listing} == {"done"}


def test_models_lists_engines_and_bad_requests_fail_clearly(cli_library):
    models = json.loads(cli_library("models", "--json").stdout)
    assert {m["engine_id"] for m in models} >= {"fake/colour", "fake/colour-tagger", "fake/captioner", "fake/faces"}
    assert all(m["present"] for m in models if m["engine_id"].startswith("fake/"))
    for missing in (m for m in models if not m["present"]):  # e.g. the CLIP plugin without its weights
        # Engines with files say how to pull them; one on a model server says how to name its model.
        assert "pixlstash models pull" in missing["how_to_get"] or "plugins config" in missing["how_to_get"]
    pull = cli_library("models", "pull", "fake/colour", check=False)
    assert pull.returncode == 1 and "no model files to download" in pull.stderr
    bad = cli_library("enrich", "--engine", "nope/x", check=False)
    assert bad.returncode == 1 and "nope/x" in bad.stderr
    empty = cli_library("search", check=False)
    assert empty.returncode == 2 and "give words to search for" in empty.stderr  # bad usage


def test_faces_people_naming_and_suggestions_from_the_command_line(cli_library):
    cli_library("enrich", "--task", "faces")
    people = json.loads(cli_library("faces", "people", "--min-faces", "1", "--json").stdout)
    # Fake face vectors are colour vectors: red, yellow and green link up at the default likeness
    # (yellow is 0.71 like each), blue is like none of them.
    assert sorted(p["faces"] for p in people) == [1, 3]
    warm = next(p for p in people if p["faces"] == 3)
    assert "3 pictures" in cli_library("faces", "name", str(warm["cluster_id"]), "--new", "Warm").stdout
    listed = cli_library("faces", "people", "--min-faces", "1").stdout
    assert listed.count("person") == 1 and "1 faces in     1 pictures" in listed and "by fake/faces)" in listed
    [blue] = json.loads(cli_library("faces", "suggest", "Warm", "--json").stdout)
    unnamed = json.loads(cli_library("ls", "--unnamed-faces", "--json").stdout)
    assert [p["id"] for p in unnamed["items"]] == [blue["picture"]["id"]]
    assert "1 faces will not be suggested again" in cli_library("faces", "reject", "warm", str(blue["face_id"])).stdout
    assert json.loads(cli_library("faces", "suggest", "Warm", "--json").stdout) == []
    assert "grouped 1 unnamed faces into 1 people" in cli_library("faces", "recluster", "--threshold", "0.9").stdout
    assert "Warm: 3 faces, 3 pictures" in cli_library("faces", "named").stdout
    faces = json.loads(cli_library("faces", "of", "Warm", "--json").stdout)
    assert len(faces) == 3 and [f["score"] for f in faces] == sorted(f["score"] for f in faces)
    wrong = faces[0]["face_id"]
    assert "1 faces are no longer Warm" in cli_library("faces", "remove", "Warm", str(wrong)).stdout
    [warm_now] = json.loads(cli_library("faces", "named", "--json").stdout)
    assert (warm_now["faces"], warm_now["pictures"]) == (2, 2)
    assert json.loads(cli_library("faces", "suggest", "Warm", "--json").stdout) == []  # split out for good
    again = cli_library("faces", "remove", "Warm", str(wrong), check=False)
    assert again.returncode != 0 and f"face {wrong} is not named Warm" in again.stderr
    missing = cli_library("faces", "suggest", "Nobody", check=False)
    assert missing.returncode != 0 and "no character named 'Nobody'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_work_the_running_server_cannot_do_is_refused_not_queued(cli_library, tmp_path):
    """A plugin installed while the server runs: the server has not loaded it, so `enrich` says so (and
    queues nothing) instead of queueing work the server then fails."""
    import os
    import signal
    import subprocess
    import sys

    from conftest import wait_for

    from pixlstash.instance import ServiceLock
    from pixlstash.library import Library

    lib = tmp_path / "lib"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    # The services without the fake engines' plugin (as a server started before it was installed).
    server = subprocess.Popen(
        [sys.executable, "-m", "pixlstash", "worker", "--no-watch", "--no-snapshots", "--library", str(lib)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: ServiceLock(lib).holder(), "the worker to hold the library's services")
        with Library.open(lib) as library:
            wait_for(lambda: library.engines.served() is not None, "the worker to note its engines")
            before = {job.id for job in library.enrichment.list_jobs(limit=1000)}
        refused = cli_library("enrich", "--engine", "fake/colour", check=False)
        assert refused.returncode == 1, refused.stdout
        assert "has no fake/colour" in refused.stderr and "Restart it" in refused.stderr
        with Library.open(lib) as library:
            assert {job.id for job in library.enrichment.list_jobs(limit=1000)} == before  # nothing queued
            # The jobs the import queued for its engines, failed by that server, which lacks them ...
            failed = wait_for(
                lambda: [job for job in library.enrichment.list_jobs() if job.state == "failed"],
                "the server to fail the import's jobs",
            )
        # ... are said by `jobs` (not only by --all), with the command that retries them.
        shown = cli_library("jobs").stdout
        assert all(f"job {job.id} failed: unknown" in shown and f"--retry {job.id}" in shown for job in failed)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
    # With no server running, the same command does the work here.
    done = cli_library("enrich", "--engine", "fake/colour", "--force")
    assert done.returncode == 0 and "4 done, 0 failed" in done.stdout
