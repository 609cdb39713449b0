"""Training-set export, checked file by file against the library: captions, tags, predictions and a trigger
word; the streamed zip against a folder export of the same set; kohya's repeat layout and its config;
resizing and aspect buckets; --update rewriting exactly what changed; and the refusals."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import msgspec
import pytest
from corpus import mp4, photo
from PIL import Image
from test_enrichment import import_colours, run_jobs

from pixlstash.domain import PictureFilter
from pixlstash.errors import BadInput, Conflict, NotFound
from pixlstash.training import ExportOptions
from pixlstash.training.images import BUCKET_STEP, aspect_bucket, buckets


@pytest.fixture
def dataset(fake_engines, library, tmp_path):
    """A set "LoRA" of four pictures with captions, tags (a character tag among them) and predictions."""
    ids = import_colours(library, tmp_path, ("red", "green", "blue", "yellow", "white"))
    run_jobs(library)  # the fake tagger's predictions: colour names and bright / dark, with confidences
    lora = library.organise.create_collection("set", "LoRA")
    members = [ids["red"], ids["green"], ids["blue"], ids["yellow"]]
    library.organise.add_members(lora.id, members)
    library.edits.tag(members, add=["solo", "flat colour"])
    library.tags.ensure("alice", "character")
    library.edits.tag([ids["red"], ids["yellow"]], add=["alice"])
    library.edits.caption(ids["red"], "a red square on a table")
    library.edits.caption(ids["green"], "a green square")
    return library, ids, lora, PictureFilter(collections=[lora.id])


def exported(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_set_exported_with_its_captions_and_a_trigger_word(dataset, tmp_path):
    library, ids, _, selection = dataset
    options = ExportOptions(trigger="ohwx")
    report = library.training.write_folder(library.training.plan(selection, options), options, tmp_path / "out")
    files = exported(tmp_path / "out")
    members = sorted([ids["red"], ids["green"], ids["blue"], ids["yellow"]])
    assert report.pictures == 4 and report.missing == [] and report.unchanged == 0
    assert set(files) == {f"{i}.png" for i in members} | {f"{i}.txt" for i in members} | {
        "metadata.jsonl",
        "dataset.toml",
        "ai-toolkit.yaml",
        "dataset-report.json",
        "dataset-report.html",
    }
    for picture_id in members:
        assert files[f"{picture_id}.png"] == library.original_path(picture_id).read_bytes()  # untouched
    assert files[f"{ids['red']}.txt"] == b"ohwx, a red square on a table\n"
    assert files[f"{ids['green']}.txt"] == b"ohwx, a green square\n"
    # No caption yet: its accepted tags (character first), after the trigger.
    assert files[f"{ids['blue']}.txt"] == b"ohwx, flat colour, solo\n"
    # sd-scripts' JSONL metadata: image_path and caption; ours under a key it does not read.
    manifest = [json.loads(line) for line in files["metadata.jsonl"].splitlines()]
    assert [m["pixlstash"]["picture_id"] for m in manifest] == members
    assert next(m for m in manifest if m["pixlstash"]["picture_id"] == ids["red"]) == {
        "image_path": f"{ids['red']}.png",
        "caption": "ohwx, a red square on a table",
        "pixlstash": {
            "picture_id": ids["red"],
            "hash": library.get(ids["red"]).content_hash,
            "tags": ["alice", "flat colour", "solo"],
        },
    }
    assert f'image_dir = "{tmp_path / "out"}"' in files["dataset.toml"].decode()  # where sd-scripts finds it


def test_no_empty_caption_file_is_ever_written(dataset, tmp_path):
    """sd-scripts stops training on an empty caption file ("caption file is empty"): a picture with
    nothing to say gets none, and the export says so."""
    library, ids, _, selection = dataset
    library.edits.tag([ids["blue"]], remove=["solo", "flat colour"])
    for options in (ExportOptions(), ExportOptions(caption="caption"), ExportOptions(caption="tags", max_tags=0)):
        plan = library.training.plan(selection, options)
        files = dict(library.training.contents(plan, options))
        assert all(content for name, content in files.items() if name.endswith(".txt"))
        assert f"{ids['blue']}.txt" not in files and ids["blue"] in plan.uncaptioned
        assert any("no caption" in w for w in plan.warnings)
    only_captions = library.training.plan(selection, ExportOptions(caption="caption"))
    assert sorted(only_captions.uncaptioned) == sorted([ids["blue"], ids["yellow"]])
    with_trigger = ExportOptions(caption="caption", trigger="ohwx")
    plan = library.training.plan(selection, with_trigger)
    assert plan.uncaptioned == [] and next(f for f in plan.files if f.picture_id == ids["blue"]).caption == "ohwx"
    assert 'class_tokens = "ohwx"' in dict(library.training.contents(plan, with_trigger))["dataset.toml"].decode()


def test_formats_trainers_do_not_read_become_png_unless_originals_are_asked_for(library, tmp_path):
    odd = tmp_path / "odd"
    odd.mkdir()
    photo(64, 48, seed=1).save(odd / "a.gif")
    photo(64, 48, seed=2).save(odd / "b.tiff")
    photo(64, 48, seed=3).save(odd / "c.bmp")
    photo(64, 48, seed=4).save(odd / "d.webp", lossless=True)
    ids = {Path(p.path).name: p.picture_id for p in library.import_paths([odd]).imported}
    selection = PictureFilter(ids=list(ids.values()))
    plan = library.training.plan(selection, ExportOptions())
    suffixes = {f.picture_id: f.image.rsplit(".", 1)[1] for f in plan.files}
    assert suffixes == {ids["a.gif"]: "png", ids["b.tiff"]: "png", ids["c.bmp"]: "png", ids["d.webp"]: "webp"}
    assert not [w for w in plan.warnings if "skip" in w]
    files = dict(library.training.contents(plan, ExportOptions()))
    with Image.open(io.BytesIO(files[f"{ids['b.tiff']}.png"])) as converted, Image.open(odd / "b.tiff") as source:
        assert converted.tobytes() == source.convert("RGB").tobytes()  # lossless
    assert files[f"{ids['d.webp']}.webp"] == library.original_path(ids["d.webp"])  # copied as it is
    originals = library.training.plan(selection, ExportOptions(image_format="original"))
    warned = "\n".join(originals.warnings)
    assert "1 .gif file: kohya-ss sd-scripts and ai-toolkit skip them" in warned
    assert "1 .bmp file: ai-toolkit skip them" in warned and ".webp" not in warned


def test_tags_predictions_and_templates(dataset, tmp_path):
    library, ids, _, selection = dataset
    red = library.get(ids["red"])
    predicted = sorted(((p.confidence, p.name) for p in red.predictions if p.confidence >= 0.5), reverse=True)

    def caption(**options) -> str:
        plan = library.training.plan(selection, ExportOptions(**options))
        return next(f.caption for f in plan.files if f.picture_id == ids["red"])

    assert caption(caption="tags") == "alice, flat colour, solo"  # character first, then by confidence, name
    assert caption(caption="tags", underscores=True, exclude_tags=["solo"]) == "alice, flat_colour"
    assert caption(caption="tags", character_first=False, order="name") == "alice, flat colour, solo"
    with_predictions = caption(caption="predictions", min_confidence=0.5)
    general = sorted([(1.0, "flat colour"), (1.0, "solo"), *predicted], key=lambda cn: (-cn[0], cn[1]))
    assert with_predictions == ", ".join(["alice", *[n for _, n in general]])
    assert caption(caption="predictions", min_confidence=0.5, max_tags=2) == "alice, flat colour"
    # By frequency: tags most of the exported pictures share come first.
    library.edits.tag([ids["red"]], add=["rare"])
    assert caption(caption="tags", order="frequency", character_first=False).split(", ")[-1] == "rare"
    template = "{trigger}, {character_tags}, {caption}, {general_tags}"
    assert caption(caption="template", template=template, trigger="ohwx") == (
        "ohwx, alice, a red square on a table, flat colour, rare, solo"
    )
    blue = library.training.plan(selection, ExportOptions(caption="template", template=template, trigger="ohwx"))
    assert next(f.caption for f in blue.files if f.picture_id == ids["blue"]) == "ohwx, flat colour, solo"
    with pytest.raises(BadInput, match=r"\{nope\}"):
        library.training.plan(selection, ExportOptions(caption="template", template="{nope}"))
    for image_format in ("original", "jpeg"):  # neither holds the alpha channel the trainers' mask reads
        with pytest.raises(BadInput, match=f"--image-format {image_format} cannot hold one"):
            library.training.plan(selection, ExportOptions(transparency="alpha", image_format=image_format))


def test_the_zip_stream_holds_exactly_the_folder_export(dataset, tmp_path):
    library, _, _, selection = dataset
    options = ExportOptions(trigger="ohwx", repeats=10, second_file=True, caption="tags")
    plan = library.training.plan(selection, options)
    library.training.write_folder(
        plan, ExportOptions(**{**msgspec.to_builtins(options), "relative_paths": True}), tmp_path / "folder"
    )
    progress = []
    data = b"".join(library.training.zip_chunks(plan, options, lambda done, total: progress.append((done, total))))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        unzipped = {name: archive.read(name) for name in archive.namelist()}
    assert unzipped == exported(tmp_path / "folder")
    assert progress[-1] == (4, 4)
    # kohya's layout: the pictures in <repeats>_<trigger>/, the configs beside the folder, pointing at it.
    assert {name.split("/")[0] for name in unzipped if name.endswith(".png")} == {"10_ohwx"}
    assert sum(name.endswith(".caption") for name in unzipped) == 4
    toml = unzipped["dataset.toml"].decode()
    assert 'image_dir = "./10_ohwx"' in toml and "num_repeats = 10" in toml and "keep_tokens = 1" in toml
    assert "resolves it against the folder it is started in" in toml
    yaml = unzipped["ai-toolkit.yaml"].decode()
    assert 'folder_path: "./10_ohwx"' in yaml and "num_repeats: 10" in yaml


def test_resizing_converting_and_aspect_buckets(dataset, tmp_path):
    library, _, _, _ = dataset
    big = tmp_path / "big"
    big.mkdir()
    photo(1200, 700, seed=4).save(big / "wide.jpg", quality=92)
    photo(500, 900, seed=5).save(big / "tall.jpg", quality=92)
    new = [p.picture_id for p in library.import_paths([big]).imported]
    selection = PictureFilter(ids=new)
    resized = ExportOptions(max_side=256, image_format="webp")
    library.training.write_folder(library.training.plan(selection, resized), resized, tmp_path / "small")
    sizes = {p.stem: Image.open(p).size for p in (tmp_path / "small").glob("*.webp")}
    assert sorted(sizes.values()) == [(142, 256), (256, 149)]
    bucketed = ExportOptions(bucket_resolution=512)
    library.training.write_folder(library.training.plan(selection, bucketed), bucketed, tmp_path / "buckets")
    for path in (tmp_path / "buckets").glob("*.jpg"):
        with Image.open(path) as image:
            width, height = image.size
        assert width % BUCKET_STEP == 0 and height % BUCKET_STEP == 0 and width * height <= 512 * 512
    assert aspect_bucket(1200, 700, 512) == (640, 384) and aspect_bucket(500, 900, 512) == (384, 640)
    assert (512, 512) in buckets(512) and (1024, 1024) in buckets(1024) and (896, 1152) in buckets(1024)


def test_update_rewrites_exactly_what_changed_and_new_folders_are_not_overwritten(dataset, tmp_path):
    library, ids, _, selection = dataset
    options = ExportOptions(trigger="ohwx")
    target = tmp_path / "out"
    library.training.write_folder(library.training.plan(selection, options), options, target)
    with pytest.raises(Conflict, match="already holds files"):
        library.training.write_folder(library.training.plan(selection, options), options, target)
    before = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    library.edits.caption(ids["green"], "a greener square")
    report = library.training.write_folder(library.training.plan(selection, options), options, target, mode="update")
    # (The check beside the export says the same: as many words, the same tags.)
    assert sorted(report.written) == sorted([f"{ids['green']}.txt", "metadata.jsonl"])
    assert report.uncaptioned == [] and report.warnings == []
    assert (target / f"{ids['green']}.txt").read_text() == "ohwx, a greener square\n"
    unchanged = {p.name for p in target.iterdir() if p.stat().st_mtime_ns == before.get(p.name)}
    assert unchanged == set(before) - set(report.written)
    overwritten = library.training.write_folder(library.training.plan(selection, options), options, target, "overwrite")
    assert len(overwritten.written) == 13  # 4 images, 4 captions, 3 configs, 2 dataset reports


def test_missing_originals_videos_and_an_interrupted_export(dataset, tmp_path, monkeypatch):
    library, ids, lora, selection = dataset
    video = library.import_paths([mp4(tmp_path / "clip.mp4")]).imported[0].picture_id
    library.organise.add_members(lora.id, [video])
    library.original_path(ids["yellow"]).unlink()
    plan = library.training.plan(selection, ExportOptions())
    assert [m.picture_id for m in plan.missing] == [ids["yellow"]] and plan.videos_left_out == [video]
    posters = library.training.plan(selection, ExportOptions(videos="poster"))
    frame = next(f for f in posters.files if f.picture_id == video)
    assert frame.image == f"{video}.png"
    library.training.write_folder(posters, ExportOptions(videos="poster"), tmp_path / "posters")
    with Image.open(tmp_path / "posters" / f"{video}.png") as image:
        assert image.size == (160, 120)

    import pixlstash.training.export as export_module

    calls = {"n": 0}
    real = export_module.converted_image

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("interrupted")
        return real(*args, **kwargs)

    monkeypatch.setattr(export_module, "converted_image", failing)
    converting = ExportOptions(image_format="png", max_side=64)
    with pytest.raises(RuntimeError):
        library.training.write_folder(library.training.plan(selection, converting), converting, tmp_path / "cut")
    left = sorted(p.name for p in (tmp_path / "cut").iterdir())
    first = min(ids[name] for name in ("red", "green", "blue"))  # in id order; yellow's original is gone
    assert left == [f"{first}.png", f"{first}.txt"]  # whole files only, nothing half-written


def test_export_through_the_api_streams_the_zip_and_previews_the_captions(fake_engines, live, tmp_path):
    from test_web_enrichment import upload_colours, wait_for_jobs

    admin = live.client(live.token("admin"))
    reader = live.client(live.token("read"))
    ids = upload_colours(admin, ("red", "green", "blue"))
    wait_for_jobs(admin)
    lora = admin.post("/api/v1/sets", json={"name": "LoRA"}).json()
    admin.post(f"/api/v1/sets/{lora['id']}/pictures", json={"ids": list(ids.values())}).raise_for_status()
    admin.patch(f"/api/v1/pictures/{ids['red']}", json={"caption": "a red square"}).raise_for_status()
    options = {"trigger": "ohwx", "repeats": 5}
    request = {"filter": {"collections": [lora["id"]]}, "options": options, "name": "LoRA set"}
    preview = reader.post("/api/v1/exports/preview", json=request).json()
    plan = live.library.training.plan(PictureFilter(collections=[lora["id"]]), ExportOptions(**options))
    assert preview["pictures"] == 3 and preview["folder"] == "5_ohwx"
    assert preview["samples"] == [{"file": f.image, "caption": f.caption} for f in plan.files[:3]]
    assert preview["uncaptioned"] == [] and preview["warnings"] == []
    assert f"5_ohwx/{ids['red']}.png" in {s["file"] for s in preview["samples"]}

    started = reader.post("/api/v1/exports", json=request)
    assert started.status_code == 201
    ticket = started.json()
    with reader.stream("GET", ticket["url"]) as response:
        assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
        assert 'filename="LoRA_set.zip"' in response.headers["content-disposition"]
        assert "content-length" not in response.headers  # streamed as it is made
        data = b"".join(response.iter_bytes())
    relative = ExportOptions(**options, relative_paths=True)  # a zip's configs are relative
    live.library.training.write_folder(plan, relative, tmp_path / "folder")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == exported(tmp_path / "folder")
    assert reader.get(f"/api/v1/exports/{ticket['id']}").json() == {
        "id": ticket["id"],
        "pictures": 3,
        "done": 3,
        "finished": True,
    }
    assert live.client().get(ticket["url"]).status_code == 401  # the ticket is not a credential
    assert reader.get("/api/v1/exports/nope.zip").status_code == 404

    assert reader.put(f"/api/v1/exports/options/{lora['id']}", json=options).status_code == 403
    assert admin.put(f"/api/v1/exports/options/{lora['id']}", json=options).json() == options
    assert reader.get(f"/api/v1/exports/options/{lora['id']}").json() == options
    bad = {**request, "options": {"caption": "template", "template": "{secret}"}}
    assert reader.post("/api/v1/exports", json=bad).status_code == 400
    assert reader.post("/api/v1/exports", json={**request, "options": {"max_side": -1}}).status_code == 422


def test_the_command_line_exports_remembers_updates_and_lists_what_it_could_not(tmp_path):
    from conftest import run_cli
    from corpus import solid

    from pixlstash.library import Library

    root = tmp_path / "lib"
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for n, colour in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)]):
        solid(100 + n, 80, colour).save(pictures / f"p{n}.png")
    with Library.open(root) as library:
        ids = sorted(p.picture_id for p in library.import_paths([pictures]).imported)
        lora = library.organise.create_collection("set", "LoRA")
        library.organise.add_members(lora.id, ids)
        library.edits.tag(ids, add=["solo"])
        library.edits.caption(ids[0], "a red square")
    out = tmp_path / "dataset"
    first = run_cli("export", "LoRA", "--to", str(out), "--trigger", "ohwx", "--repeats", "10", "--library", str(root))
    assert f"exported 3 pictures of LoRA to {out} (11 files written, 0 unchanged)" in first.stdout
    assert (out / "10_ohwx" / f"{ids[0]}.txt").read_text() == "ohwx, a red square\n"
    again = run_cli("export", "LoRA", "--to", str(out), "--library", str(root), check=False)
    assert again.returncode == 1 and "already holds files" in again.stderr and "Traceback" not in again.stderr
    # The options were remembered for the set: an update with no flags changes nothing ...
    unchanged = run_cli("export", "LoRA", "--to", str(out), "--update", "--library", str(root))
    assert "(0 files written, 11 unchanged)" in unchanged.stdout
    # ... and one new flag rewrites the captions it changes, the manifest and the check of the captions only.
    tags = run_cli(
        "export", "LoRA", "--to", str(out), "--update", "--caption", "tags", "--json", "--library", str(root)
    )
    assert (out / "10_ohwx" / f"{ids[1]}.txt").read_text() == "ohwx, solo\n"  # auto: no caption, its tags
    assert json.loads(tags.stdout)["written"] == 4 and (out / "10_ohwx" / f"{ids[0]}.txt").read_text() == "ohwx, solo\n"
    archive = tmp_path / "lora.zip"
    zipped = run_cli("export", "LoRA", "--zip", str(archive), "--rating-min", "0", "--library", str(root))
    assert f"to {archive}" in zipped.stdout
    run_cli("export", "LoRA", "--to", str(out), "--update", "--relative-paths", "--library", str(root))
    with zipfile.ZipFile(archive) as z:
        assert {n: z.read(n) for n in z.namelist()} == exported(out)
    with Library.open(root) as library:
        library.original_path(ids[2]).unlink()
    partial = run_cli("export", "LoRA", "--zip", str(tmp_path / "b.zip"), "--library", str(root), check=False)
    assert partial.returncode == 3 and f"not exported: picture {ids[2]}" in partial.stderr
    assert "exported 2 pictures" in partial.stdout
    gif = pictures / "moving.gif"
    solid(40, 40, (9, 9, 9)).save(gif)
    with Library.open(root) as library:
        library.import_paths([gif])
    kept = run_cli("export", "--to", str(tmp_path / "gif"), "--format", "original", "--library", str(root), check=False)
    assert kept.returncode == 3  # p2's original is still missing
    assert "warning: 1 .gif file: kohya-ss sd-scripts and ai-toolkit skip them" in kept.stderr
    assert "warning: 1 picture has no caption or tags" in kept.stderr
    nothing = run_cli("export", "--to", str(tmp_path / "x"), "--tag", "nope", "--library", str(root), check=False)
    assert nothing.returncode == 1 and "nothing to export" in nothing.stderr


def test_the_training_guide_shows_the_configs_the_export_writes(dataset, tmp_path):
    import re

    library, _, _, selection = dataset
    guide = (Path(__file__).resolve().parent.parent / "docs" / "training-sets.md").read_text()
    toml = re.search(r"^```toml\n(.*?)^```$", guide, re.M | re.S).group(1)
    yaml = re.search(r"^```yaml\n(.*?)^```$", guide, re.M | re.S).group(1)
    kohya = ExportOptions(trigger="ohwx", repeats=10, bucket_resolution=1024)
    home = Path("/home/me/datasets/alice")
    files = dict(library.training.contents(library.training.plan(selection, kohya), kohya, home))
    written = "\n".join(line for line in files["dataset.toml"].decode().splitlines() if not line.startswith("#"))
    assert written.strip() == toml.strip()
    flat = ExportOptions(trigger="ohwx", caption="tags", max_side=1536)
    files = dict(library.training.contents(library.training.plan(selection, flat), flat, home))
    written = "\n".join(line for line in files["ai-toolkit.yaml"].decode().splitlines() if not line.startswith("#"))
    assert written.strip() == yaml.strip()


def test_links_planted_in_the_export_folder_never_carry_files_out(dataset, tmp_path):
    library, ids, _, selection = dataset
    outside, target = tmp_path / "outside", tmp_path / "out"
    outside.mkdir()
    target.mkdir()
    (outside / "secret.txt").write_text("keep me\n")
    (target / "10_ohwx").symlink_to(outside, target_is_directory=True)  # the repeat folder, planted
    options = ExportOptions(trigger="ohwx", repeats=10)
    with pytest.raises(BadInput, match="leads out of"):
        library.training.write_folder(library.training.plan(selection, options), options, target, "overwrite")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    # A caption file that is a link to a file outside: replaced by the export's file, the outside untouched.
    (target / "10_ohwx").unlink()
    flat = ExportOptions(trigger="ohwx")
    (target / f"{ids['red']}.txt").symlink_to(outside / "secret.txt")
    library.training.write_folder(library.training.plan(selection, flat), flat, target, "overwrite")
    assert (outside / "secret.txt").read_text() == "keep me\n"
    assert not (target / f"{ids['red']}.txt").is_symlink()
    assert (target / f"{ids['red']}.txt").read_text() == "ohwx, a red square on a table\n"


def test_export_tickets_are_capped_oldest_first():
    """A client asking for exports again and again (each ticket holds its filter, id lists and all, for
    15 minutes) cannot grow the server without bound."""
    from pixlstash_web.exports import MAX_TICKETS, ExportTickets

    tickets = ExportTickets()
    big = PictureFilter(ids=list(range(1, 50_001)))
    made = [tickets.create(big, ExportOptions(), f"t{n}", 0) for n in range(MAX_TICKETS + 40)]
    assert len(tickets._tickets) == MAX_TICKETS
    with pytest.raises(NotFound):
        tickets.get(made[0].id)  # the oldest went first
    assert tickets.get(made[-1].id).name == f"t{MAX_TICKETS + 39}"
