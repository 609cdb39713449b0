"""Import of real files made by the tests: formats, identity, metadata, thumbnails and bad input."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from conftest import library_snapshot
from corpus import (
    a1111_png,
    bad_corpus,
    comfyui_png,
    every_format,
    hostile_zip,
    jpeg_with_exif,
    mp4,
    photo,
)
from PIL import Image

from pixlstash.domain import PictureFilter
from pixlstash.media.analyse import MediaLimits
from pixlstash.media.thumbnails import GRID_SIZE, PREVIEW_SIZE


def test_every_still_format_imports_with_thumbnails(library, tmp_path):
    files = every_format(tmp_path / "in")
    report = library.import_paths([tmp_path / "in"])
    assert report.skipped == [] and report.duplicates == []
    assert len(report.imported) == len(files) >= 8  # HEIC included
    mimes = set()
    for imported in report.imported:
        picture = library.get(imported.picture_id)
        mimes.add(picture.mime)
        source = Image.open(imported.path)
        assert (picture.width, picture.height) == source.size
        for size in ("grid", "preview"):
            with Image.open(library.thumbnail_path(picture.id, size)) as thumb:
                assert thumb.format == "WEBP"
                assert thumb.size == source.size  # small pictures are never upscaled
        stored = library.store.local_path(picture.content_hash, picture.suffix)
        assert stored.read_bytes() == Path(imported.path).read_bytes()
    assert {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "image/bmp",
        "image/tiff",
        "image/avif",
        "image/heic",
    } <= mimes


def test_large_jpeg_thumbnails_fit_their_boxes(library, tmp_path):
    path = tmp_path / "big.jpg"
    photo(3000, 2000).save(path, quality=85)
    (imported,) = library.import_paths([path]).imported
    with Image.open(library.thumbnail_path(imported.picture_id, "grid")) as grid:
        assert grid.size == (GRID_SIZE, 256)
    with Image.open(library.thumbnail_path(imported.picture_id, "preview")) as preview:
        assert preview.size == (PREVIEW_SIZE, 683)


def test_exif_orientation_time_and_camera(library, tmp_path):
    path = jpeg_with_exif(tmp_path / "rotated.jpg", 400, 300, orientation=6)
    (imported,) = library.import_paths([path]).imported
    picture = library.get(imported.picture_id)
    assert (picture.width, picture.height) == (300, 400)  # orientation 6: a quarter turn
    assert picture.camera == "Canon EOS R5"
    assert picture.orientation == 6
    assert picture.taken_at == 1717130557000  # 2024-05-31 06:42:37 +02:00
    with Image.open(library.thumbnail_path(picture.id, "grid")) as grid:
        assert grid.size == (288, 384)  # portrait: orientation applied


def test_comfyui_and_a1111_generation_metadata_is_stored_and_searchable(library, tmp_path):
    comfy = comfyui_png(tmp_path / "comfy.png")
    a1111 = a1111_png(tmp_path / "a1111.png")
    report = library.import_paths([comfy, a1111])
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}
    g = library.get(ids["comfy.png"]).generation
    assert g.tool == "comfyui"
    assert g.positive == "a lighthouse at dusk, volumetric fog"
    assert g.negative == "blurry, watermark"
    assert (g.checkpoint, g.seed, g.steps, g.cfg, g.sampler) == (
        "sdxl_base.safetensors",
        "123456789",
        30,
        6.5,
        "dpmpp_2m",
    )
    assert [(lora.name, lora.weight) for lora in g.loras] == [("film_grain.safetensors", 0.8)]
    assert '"last_node_id": 10' in g.raw_workflow
    g = library.get(ids["a1111.png"]).generation
    assert g.tool == "a1111"
    assert g.positive.startswith("masterpiece, a red fox in snow")
    assert g.negative == "lowres, bad anatomy"
    assert (g.checkpoint, g.seed, g.steps, g.cfg, g.sampler) == ("dreamshaper_8", "42", 25, 7.0, "Euler a")
    assert [(lora.name, lora.weight) for lora in g.loras] == [("fluffy", 0.7)]
    assert [p.id for p in library.page(PictureFilter(text="lighthouse")).items] == [ids["comfy.png"]]
    assert [p.id for p in library.page(PictureFilter(text="fox snow")).items] == [ids["a1111.png"]]
    assert [p.id for p in library.page(PictureFilter(text="dreamshaper")).items] == [ids["a1111.png"]]


def test_duplicates_are_reported_and_stored_once(library, tmp_path):
    first = tmp_path / "a.jpg"
    photo(320, 240, seed=5).save(first, quality=90)
    copy = tmp_path / "copy-of-a.jpg"
    copy.write_bytes(first.read_bytes())
    report = library.import_paths([first, copy])
    assert len(report.imported) == 1 and len(report.duplicates) == 1
    assert report.duplicates[0].picture_id == report.imported[0].picture_id
    again = library.import_paths([first])
    assert again.imported == [] and again.duplicates[0].picture_id == report.imported[0].picture_id
    assert len([p for p in (library.root / "originals").rglob("*") if p.is_file()]) == 1
    assert library.count() == 1


def test_importing_a_scrapped_picture_again_brings_it_back(library, tmp_path):
    first = tmp_path / "a.jpg"
    photo(320, 240, seed=6).save(first, quality=90)
    [picture] = library.import_paths([first]).imported
    library.edits.tag([picture.picture_id], add=["kept"])
    library.edits.scrap([picture.picture_id])
    assert library.count() == 0
    again = library.import_paths([first])
    assert [d.picture_id for d in again.duplicates] == [d.picture_id for d in again.restored] == [picture.picture_id]
    assert library.count() == 1 and [t.name for t in library.get(picture.picture_id).tags] == ["kept"]
    assert library.import_paths([first]).restored == []  # already back: an ordinary duplicate


def test_near_duplicates_form_groups(library, tmp_path):
    original = photo(640, 480, seed=11)
    original.save(tmp_path / "orig.jpg", quality=95)
    original.save(tmp_path / "recompressed.jpg", quality=60)
    original.resize((320, 240)).save(tmp_path / "smaller.png")
    photo(640, 480, seed=12).save(tmp_path / "other.jpg", quality=90)
    report = library.import_paths([tmp_path])
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}
    groups = library.duplicate_groups()
    assert [sorted(g.picture_ids) for g in groups] == [
        sorted([ids["orig.jpg"], ids["recompressed.jpg"], ids["smaller.png"]])
    ]
    assert {p.id for p in library.page(PictureFilter(duplicates=True)).items} == set(groups[0].picture_ids)
    assert [p.id for p in library.page(PictureFilter(duplicates=False)).items] == [ids["other.jpg"]]


def test_bad_input_is_reported_per_file_and_changes_nothing(library, tmp_path):
    good = tmp_path / "good.jpg"
    photo(200, 150, seed=4).save(good)
    library.import_paths([good])
    before = library_snapshot(library)
    expected = bad_corpus(tmp_path / "bad")
    report = library.import_paths([tmp_path / "bad", tmp_path / "does-not-exist"])
    reasons = {os.path.basename(s.path): s.reason for s in report.skipped}
    for name, word in expected.items():
        assert word in reasons[name], (name, reasons[name])
    assert "cannot read" in reasons["does-not-exist"]
    assert report.imported == [] and report.duplicates == []
    assert library_snapshot(library) == before


def test_configurable_pixel_limit(tmp_path, plugin_manager):
    from pixlstash.library import Library

    with Library.open(tmp_path / "lib", plugin_manager=plugin_manager, limits=MediaLimits(max_pixels=100 * 100)) as lib:
        photo(200, 200).save(tmp_path / "big.png")
        photo(90, 90).save(tmp_path / "small.png")
        report = lib.import_paths([tmp_path / "big.png", tmp_path / "small.png"])
        assert [os.path.basename(i.path) for i in report.imported] == ["small.png"]
        assert "over the 10,000-pixel limit" in report.skipped[0].reason


def test_a_good_batch_goes_on_around_bad_files(library, tmp_path):
    bad_corpus(tmp_path / "mixed")
    for n in range(5):
        photo(100, 80, seed=n).save(tmp_path / "mixed" / f"ok{n}.png")
    report = library.import_paths([tmp_path / "mixed"])
    assert len(report.imported) == 5 and len(report.skipped) == 6


def test_hostile_zip(library, tmp_path):
    good = tmp_path / "good.jpg"
    photo(200, 100, seed=8).save(good)
    archive = hostile_zip(tmp_path / "hostile.zip", good)
    report = library.import_paths([archive])
    assert [i.path for i in report.imported] == [f"{archive}!/album/good.jpg"]
    reasons = {s.path.split("!/")[1]: s.reason for s in report.skipped}
    assert "unsafe path" in reasons["../../escape.png"]
    assert "unsafe path" in reasons["/etc/absolute.png"]
    assert "zip bomb" in reasons["bomb.png"]
    assert not (tmp_path.parent / "escape.png").exists()
    assert list(library.tmp.iterdir()) == []  # nothing extracted is left behind
    picture = library.get(report.imported[0].picture_id)
    assert picture.original_name == "good.jpg"


def test_corrupt_zip_is_reported(library, tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    report = library.import_paths([tmp_path / "broken.zip"])
    assert "unreadable zip archive" in report.skipped[0].reason


def test_zip_entry_count_limit(tmp_path, plugin_manager):
    from pixlstash.importing.sources import ArchiveLimits
    from pixlstash.library import Library

    with zipfile.ZipFile(tmp_path / "many.zip", "w") as archive:
        for n in range(5):
            archive.writestr(f"{n}.png", b"x")
    with Library.open(
        tmp_path / "lib", plugin_manager=plugin_manager, archive_limits=ArchiveLimits(max_entries=3)
    ) as lib:
        report = lib.import_paths([tmp_path / "many.zip"])
        assert "over the 3 limit" in report.skipped[0].reason


def test_odd_file_names(library, tmp_path):
    folder = tmp_path / "names"
    folder.mkdir()
    odd = os.fsdecode(b"caf\xe9-latin1.png")  # not valid UTF-8
    photo(64, 64, seed=21).save(os.path.join(folder, odd))
    photo(64, 64, seed=22).save(folder / "名前 with spaces & 'quotes'.png")
    report = library.import_paths([folder])
    assert len(report.imported) == 2
    names = sorted(library.get(i.picture_id).original_name for i in report.imported)
    assert names[0].startswith("caf\ufffd-latin1")  # shown with a replacement character, stored safely
    assert names[1] == "名前 with spaces & 'quotes'.png"


def test_video_import(library, tmp_path):
    path = mp4(tmp_path / "clip.mp4", frames=36, fps=12)
    (imported,) = library.import_paths([path]).imported
    picture = library.get(imported.picture_id)
    assert (picture.media_type, picture.mime, picture.codec) == ("video", "video/mp4", "h264")
    assert (picture.width, picture.height) == (160, 120)
    assert picture.duration == pytest.approx(3.0, abs=0.2)
    with Image.open(library.thumbnail_path(picture.id, "grid")) as poster:
        assert poster.size == (160, 120)
    assert [p.id for p in library.page(PictureFilter(media_type="video")).items] == [picture.id]


def test_corrupt_video_is_reported(library, tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    report = library.import_paths([tmp_path / "broken.mp4"])
    assert report.imported == [] and "video" in report.skipped[0].reason


def test_missing_thumbnail_is_regenerated(library, tmp_path):
    photo(500, 400, seed=3).save(tmp_path / "p.jpg")
    (imported,) = library.import_paths([tmp_path / "p.jpg"]).imported
    path = library.thumbnail_path(imported.picture_id, "grid")
    path.unlink()
    assert library.thumbnail_path(imported.picture_id, "grid").is_file()


def test_pictures_are_visible_while_the_batch_runs(library, tmp_path):
    for n in range(12):
        photo(200, 150, seed=n).save(tmp_path / f"{n}.jpg")
    seen = []
    library.events.subscribe(lambda event: seen.append(library.count()) if event.kind == "picture.added" else None)
    library.import_paths([tmp_path])
    assert seen == list(range(1, 13))  # each picture counted as it landed, not at the end


def test_each_picture_says_where_its_date_came_from(library, tmp_path):
    from corpus import photo
    from PIL import Image

    folder = tmp_path / "dated"
    folder.mkdir()
    shot = photo(64, 48, seed=31)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2021:07:04 12:00:00"
    shot.save(folder / "camera.jpg", "JPEG", exif=exif)
    photo(64, 48, seed=32).save(folder / "render.png")
    os.utime(folder / "render.png", (1_600_000_000, 1_600_000_000))
    library.import_paths([folder])
    by_name = {
        library.get(pid).original_name: library.get(pid) for (pid,) in library.db.query("SELECT id FROM pictures")
    }
    assert by_name["camera.jpg"].taken_from == "exif"
    assert (by_name["render.png"].taken_at, by_name["render.png"].taken_from) == (1_600_000_000_000, "file")
