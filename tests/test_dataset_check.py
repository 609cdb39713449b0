"""`pixlstash dataset check` on a real library (issue 64): each picture's bucket, the captions as the export
writes them, tags in every caption, near-duplicates, the findings naming their pictures, and bad input
answered with one line."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from conftest import run_cli
from corpus import photo

from pixlstash.domain import PictureFilter
from pixlstash.library import Library
from pixlstash.plugins import make_plugin_manager
from pixlstash.training import BucketRules, DatasetReport, ExportOptions, bucket_for


@pytest.fixture(scope="module")
def library_template(tmp_path_factory) -> tuple[Path, dict[str, int], int]:
    """Twelve pictures of a character as a LoRA set has them: mostly SDXL sizes, two small ones, one
    extreme, one a near copy of another; two captioned, every one tagged 1girl. Made once; each test
    works on a copy (``library``, conftest.py)."""
    root, folder = tmp_path_factory.mktemp("lora") / "library", tmp_path_factory.mktemp("pictures")
    sizes = [(1216, 832)] * 4 + [(832, 1216)] * 3 + [(1024, 1024)] * 2 + [(600, 400), (700, 2100), (1920, 1080)]
    for n, (width, height) in enumerate(sizes):
        photo(width, height, seed=100 + n).save(folder / f"p{n:02}.png")
    photo(1216, 832, seed=100).resize((1200, 821)).save(folder / "p00-again.png")  # a near copy of p00
    with Library.open(root, plugin_manager=make_plugin_manager(load_entry_points=False)) as library:
        imported = library.import_paths([folder]).imported
        ids = {p.path.rsplit("/", 1)[-1]: p.picture_id for p in imported}
        alice = library.edits.create_collection("character", "Alice")
        library.edits.add_members(alice.id, list(ids.values()))
        library.edits.tag(list(ids.values()), add=["1girl"])
        library.edits.tag([ids[f"p{n:02}.png"] for n in range(6)], add=["smile"])
        library.edits.caption(ids["p01.png"], "ohwx woman in a meadow, smile")
        library.edits.caption(ids["p02.png"], "a woman at a window")
    return root, ids, alice.id


@pytest.fixture
def lora_set(library, library_template):
    return library, library_template[1], library_template[2]


def test_the_report_says_what_the_trainer_will_do(lora_set):
    library, ids, alice = lora_set
    rules = BucketRules(resolution=1024, min_bucket_reso=512, max_bucket_reso=2048)
    report = library.training.check(PictureFilter(collections=[alice]), ExportOptions(trigger="ohwx"), rules)
    assert report.pictures == 13
    by_id = {p.picture_id: p for p in report.placements}
    for name, picture_id in ids.items():
        picture = library.pictures.get(picture_id)
        assert by_id[picture_id].bucket == bucket_for(picture.width, picture.height, rules.checked()).bucket, name
    assert {tuple(b.bucket): b.pictures for b in report.buckets}[(1216, 832)] == 6  # p00-p03, the copy, 600x400
    assert sum(b.pictures for b in report.buckets) == 13
    findings = {f.kind: f for f in report.findings}
    # 600x400 and the 1200x821 copy are both under their 1216x832 bucket.
    assert findings["upscaled"].picture_ids == sorted([ids["p09.png"], ids["p00-again.png"]])
    assert "trigger-only" not in findings  # every picture is tagged: each caption says more than the trigger
    assert "1girl" in findings["everywhere-tag"].message and "100%" in findings["everywhere-tag"].message
    assert findings["lonely-bucket"].picture_ids == sorted([ids["p10.png"], ids["p11.png"]])
    near = findings["near-duplicates"].picture_ids
    assert ids["p00.png"] in near and ids["p00-again.png"] in near
    assert report.captions.captioned == 13 and report.captions.without_trigger == []

    # Captions only: the eleven pictures without one are named; no trigger, nothing said about one.
    plain = library.training.check(PictureFilter(collections=[alice]), ExportOptions(caption="caption"), rules)
    uncaptioned = {f.kind: f for f in plain.findings}["uncaptioned"]
    assert sorted(uncaptioned.picture_ids) == sorted(set(ids.values()) - {ids["p01.png"], ids["p02.png"]})
    assert "trained with no caption" in uncaptioned.message


def test_the_trigger_alone_and_a_missing_trigger_are_findings(lora_set):
    library, ids, alice = lora_set
    options = ExportOptions(caption="template", template="{trigger}, {caption}", trigger="ohwx")
    report = library.training.check(PictureFilter(collections=[alice]), options, BucketRules())
    findings = {f.kind: f for f in report.findings}
    assert ids["p02.png"] not in findings["trigger-only"].picture_ids
    assert len(findings["trigger-only"].picture_ids) == 11
    msgspec.convert(msgspec.to_builtins(report), type(report))  # every kind made is one the schema says
    no_trigger = ExportOptions(caption="template", template="{caption}", trigger="ohwx")
    report = library.training.check(PictureFilter(collections=[alice]), no_trigger, BucketRules())
    assert {f.kind: f for f in report.findings}["no-trigger"].picture_ids == [ids["p02.png"]]


def test_the_command_line(lora_set, tmp_path):
    library, ids, _ = lora_set
    path = str(library.root)  # (the library stays open here, as a server would keep it)
    shown = run_cli("dataset", "check", "Alice", "--trigger", "ohwx", "--library", path).stdout
    assert shown.splitlines()[0] == "Alice: 13 pictures for sd-scripts at 1024 (buckets 512-2048, steps 64)"
    assert "    1216x832     6  " in shown
    assert "smaller than their bucket: scaled up to train" in shown
    as_json = json.loads(
        run_cli("dataset", "check", "Alice", "--trainer", "ai-toolkit", "--json", "--library", path).stdout
    )
    assert as_json["rules"]["trainer"] == "ai-toolkit" and as_json["pictures"] == 13
    assert {p["picture_id"] for p in as_json["placements"]} == set(ids.values())

    # The fix for near-duplicates: the best of the group stays (no ratings: the larger one), one undo step.
    fixed = run_cli("dataset", "check", "Alice", "--remove-duplicates", "--library", path).stdout
    assert fixed.splitlines()[0] == f"removed 1 near-duplicate from Alice: {ids['p00-again.png']} (pixlstash undo)"
    assert "near-identical" not in fixed and fixed.splitlines()[1].startswith("Alice: 12 pictures")
    undone = run_cli("undo", "--library", path).stdout
    assert "Remove 1 near-duplicate from Alice" in undone
    assert "Alice: 13 pictures" in run_cli("dataset", "check", "Alice", "--library", path).stdout
    by_filter = run_cli("dataset", "check", "--tag", "1girl", "--remove-duplicates", "--library", path, check=False)
    assert by_filter.returncode == 2 and "needs a set or character" in by_filter.stderr

    # Bad input: one line and status 1 (or click's 2), nothing written.
    refused = run_cli(
        "dataset", "check", "Alice", "--resolution", "1024", "--max-bucket-reso", "900", "--library", path, check=False
    )
    assert refused.returncode == 1
    assert (
        refused.stderr.strip() == "error: sd-scripts needs min_bucket_reso <= resolution <= max_bucket_reso (512, 960)"
    )
    nobody = run_cli("dataset", "check", "Nobody", "--library", path, check=False)
    assert nobody.returncode == 1 and nobody.stderr.strip() == "error: no project named 'Nobody'"
    empty = run_cli("dataset", "check", "--tag", "no-such-tag", "--library", path, check=False)
    assert empty.returncode == 1 and "nothing to check" in empty.stderr


def test_the_api_checks_what_a_reader_may_export(lora_set, live):
    library, _, alice = lora_set
    reader = live.client(live.token("read"))
    request = {"filter": {"collections": [alice]}, "options": {"trigger": "ohwx"}}
    report = reader.post("/api/v1/exports/check", json=request)
    assert report.status_code == 200
    expected = library.training.check(PictureFilter(collections=[alice]), ExportOptions(trigger="ohwx"), BucketRules())
    assert report.json() == json.loads(msgspec.json.encode(expected))
    kohya = {**request, "rules": {"resolution": 1024, "max_bucket_reso": 900}}
    refused = reader.post("/api/v1/exports/check", json=kohya)
    assert refused.status_code == 400 and "max_bucket_reso" in refused.json()["error"]["message"]
    assert reader.post("/api/v1/exports/check", json={**request, "rules": {"trainer": "x"}}).status_code == 422
    assert live.client().post("/api/v1/exports/check", json=request).status_code == 401


def test_the_api_fix_takes_near_duplicates_out_in_one_step(lora_set, live):
    """The dataset view's fix: a writer takes the near-copy out of the character (the larger one stays), and
    Undo puts it back; a reader may not, a set's route does not take a character, and the rules are checked."""
    library, ids, alice = lora_set
    path = f"/api/v1/characters/{alice}/remove-near-duplicates"

    def members() -> list[int]:
        sql = "SELECT picture_id FROM collection_members WHERE collection_id = ? ORDER BY 1"
        return [row[0] for row in library.db.query(sql, (alice,))]

    assert live.client(live.token("read")).post(path, json={}).status_code == 403
    writer = live.client(live.token("write"))
    assert writer.post(f"/api/v1/sets/{alice}/remove-near-duplicates", json={}).status_code == 404
    refused = writer.post(path, json={"rules": {"resolution": 1024, "max_bucket_reso": 900}})
    assert refused.status_code == 400 and members() == sorted(ids.values())
    fixed = writer.post(path, json={"options": {"trigger": "ohwx"}})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["removed"] == [ids["p00-again.png"]]
    assert fixed.json()["report"]["pictures"] == 12 and fixed.json()["report"]["near_duplicates"] == []
    assert ids["p00-again.png"] not in members()
    assert writer.post(path, json={}).json()["removed"] == []  # nothing left to take out, and no empty step
    history = writer.get("/api/v1/history").json()["steps"]
    assert history[0]["label"] == "Remove 1 near-duplicate from Alice"
    writer.post("/api/v1/history/undo").raise_for_status()
    assert members() == sorted(ids.values())


def test_an_export_carries_its_check_as_a_page_and_json(lora_set, tmp_path):
    """dataset-report.json is the check of what the export wrote, by the buckets its dataset.toml gives
    sd-scripts; the page beside it is self-contained and shows names from the library as text."""
    library, ids, alice = lora_set
    library.edits.tag([ids["p03.png"]], add=['<script>alert("x")</script>'])
    options = ExportOptions(trigger="ohwx", caption="tags")
    selection = PictureFilter(collections=[alice])
    library.training.write_folder(library.training.plan(selection, options), options, tmp_path / "out")
    saved = msgspec.json.decode((tmp_path / "out" / "dataset-report.json").read_bytes(), type=DatasetReport)
    rules = BucketRules(resolution=1024, min_bucket_reso=512, max_bucket_reso=2048)
    assert saved == library.training.check(selection, options, rules)
    page = (tmp_path / "out" / "dataset-report.html").read_text()
    assert "<script" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "src=" not in page and "href=" not in page and "url(" not in page  # nothing fetched
    assert f"{ids['p00-again.png']}.png" in page  # the near-duplicates' files, as the export named them
    assert "13 pictures for sd-scripts at 1024" in page
