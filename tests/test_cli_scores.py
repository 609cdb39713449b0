"""Scores from the real ``pixlstash`` CLI: enrich with the built-in quality scorer, ``ls`` sorted and
filtered by score (short scorer names), ``ls --stats`` with its histogram, ``prune`` and ``undo``."""

from __future__ import annotations

import json

from conftest import run_cli
from test_scores import degraded


def test_score_sort_filter_stats_and_prune_from_the_command_line(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, image in degraded(5).items():
        image.save(folder / f"{name}.png")
    lib = str(tmp_path / "lib")

    def cli(*args, check=True):
        return run_cli(*args, "--library", lib, check=check)

    cli("import", str(folder))
    assert "4 done, 0 failed" in cli("enrich", "--engine", "pixlstash/quality").stdout
    ranked = json.loads(cli("ls", "--sort", "score:quality", "--json").stdout)["items"]
    scores = [p["score"] for p in ranked]
    assert scores == sorted(scores, reverse=True) and len(scores) == 4
    names = json.loads(cli("ls", "--sort", "score:pixlstash/quality", "--json").stdout)["items"]
    assert [p["id"] for p in names] == [p["id"] for p in ranked]
    table = cli("ls", "--sort", "score:quality").stdout
    assert table.splitlines()[0].split()[-1] == "SCORE" and f"{scores[0]:.3f}" in table

    cut = scores[1]
    upper = json.loads(cli("ls", "--score", "quality", "--score-min", str(cut), "--json").stdout)["items"]
    assert {p["id"] for p in upper} == {p["id"] for p in ranked[:2]}
    alone = cli("ls", "--score-min", "0.5", check=False)
    assert alone.returncode == 1 and "--score SCORER" in alone.stderr
    unknown = cli("ls", "--sort", "score:beauty", check=False)
    assert unknown.returncode == 1 and "no scorer is called 'beauty'" in unknown.stderr

    stats = cli("ls", "--stats").stdout
    assert "score: pixlstash/quality (4 pictures scored)" in stats

    dry = cli("prune", "--by", "quality", "--lowest", "2", "--dry-run").stdout
    assert "would scrap 2 pictures" in dry and str(ranked[-1]["id"]) in dry
    assert json.loads(cli("ls", "--count", "--json").stdout)["count"] == 4
    done = cli("prune", "--by", "quality", "--lowest", "2").stdout
    assert "scrapped 2 pictures by pixlstash/quality" in done
    left = json.loads(cli("ls", "--json").stdout)["items"]
    assert {p["id"] for p in left} == {p["id"] for p in ranked[:2]}
    cli("undo")
    assert json.loads(cli("ls", "--count", "--json").stdout)["count"] == 4
    neither = cli("prune", "--by", "quality", check=False)
    assert neither.returncode == 1 and "--lowest N" in neither.stderr


def test_doctor_bench_says_how_fast_each_engine_with_its_model_runs_here(tmp_path):
    result = run_cli("doctor", "--bench", "--json", "--library", str(tmp_path / "lib"), check=False)
    checks = {check["name"]: check for check in json.loads(result.stdout)}
    quality = checks["speed pixlstash/quality"]
    assert quality["status"] == "ok" and "pictures/s on cpu (a batch of 16" in quality["detail"]
    assert float(quality["detail"].split(" pictures/s")[0].replace(",", "")) > 0
