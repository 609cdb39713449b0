"""Turning, mirroring, straightening and cropping pictures without touching their originals: the geometry
against Pillow's own transforms, the API (one undo step each, bad input refused with nothing changed), the
thumbnails, shares, exports, snapshots and the command line all following the edit."""

from __future__ import annotations

import hashlib
import io
import json
import math

import numpy as np
import pytest
from conftest import run_cli
from corpus import mp4
from PIL import Image, ImageOps

from pixlstash.domain import EditChange, PictureEdit, PictureFilter
from pixlstash.domain.look_geometry import shown_box, shown_size, with_shown_crop
from pixlstash.media.look_pixels import render
from pixlstash.sharing.service import ShareOptions
from pixlstash.training.options import ExportOptions

W, H = 240, 160
RED = (230, 20, 20)


def marked(width: int = W, height: int = H) -> Image.Image:
    """Green, its top-left quarter red and a blue square at (150, 100)-(190, 130): where a turn, a mirror or
    a crop takes each part is plain to see."""
    image = Image.new("RGB", (width, height), (0, 150, 0))
    image.paste(RED, (0, 0, width // 2, height // 2))
    image.paste((20, 20, 230), (150, 100, 190, 130))
    return image


def quarter(image: Image.Image) -> str:
    """Which quarter of ``image`` is mostly red: "top-left", "bottom-right", ..."""
    pixels = np.asarray(image.convert("RGB")).astype(int)
    red = (pixels[..., 0] > 170) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    ys, xs = np.nonzero(red)
    h, w = red.shape
    return f"{'top' if ys.mean() < h / 2 else 'bottom'}-{'left' if xs.mean() < w / 2 else 'right'}"


def blue_box(image: Image.Image) -> tuple[int, int, int, int]:
    pixels = np.asarray(image.convert("RGB")).astype(int)
    ys, xs = np.nonzero((pixels[..., 2] > 170) & (pixels[..., 0] < 90))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


@pytest.fixture
def picture(library, tmp_path):
    marked().save(tmp_path / "marked.png")
    [imported] = library.import_paths([tmp_path / "marked.png"]).imported
    return imported.picture_id


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- geometry -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
@pytest.mark.parametrize("flip", [False, True])
def test_a_turn_and_a_mirror_are_pillows_own_transposes_and_boxes_follow(rotate, flip):
    edit = PictureEdit(rotate=rotate, flip=flip, crop=(20, 10, 200, 140))
    image = marked()
    expected = image.crop((20, 10, 220, 150))
    if flip:
        expected = ImageOps.mirror(expected)
    expected = expected.rotate(-rotate, expand=True)  # Pillow's rotate is anticlockwise
    got = render(image, edit, W, H)
    assert got.size == shown_size(edit, W, H) and np.array_equal(np.asarray(got), np.asarray(expected))
    assert blue_box(got) == tuple(round(v) for v in shown_box((150, 100, 190, 130), edit, W, H))


def test_straightening_fills_the_frame_and_moves_boxes_where_the_pixels_go():
    edit = PictureEdit(angle=8.0)
    got = render(marked(), edit, W, H)
    assert got.size == (W, H)
    corners = np.asarray(got.convert("RGB"))[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners.sum(axis=1) > 100).all(), "no empty (black) corner"
    x0, y0, x1, y1 = shown_box((150, 100, 190, 130), edit, W, H)
    bx0, by0, bx1, by1 = blue_box(got)
    assert abs((x0 + x1) / 2 - (bx0 + bx1) / 2) < 2 and abs((y0 + y1) / 2 - (by0 + by1) / 2) < 2


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
@pytest.mark.parametrize("flip", [False, True])
def test_a_crop_drawn_on_the_turned_picture_is_the_same_pixels(rotate, flip):
    """What the crop tool draws on (the picture turned and mirrored) and what is kept agree."""
    base = PictureEdit(rotate=rotate, flip=flip)
    shown = render(marked(), base, W, H)
    fraction = (0.1, 0.2, 0.6, 0.9)
    sw, sh = shown.size
    expected = shown.crop((round(0.1 * sw), round(0.2 * sh), round(0.6 * sw), round(0.9 * sh)))
    edit = with_shown_crop(base, fraction, W, H)
    got = render(marked(), edit, W, H)
    assert abs(got.width - expected.width) <= 1 and abs(got.height - expected.height) <= 1
    same = np.asarray(got.resize(expected.size)).astype(int) - np.asarray(expected).astype(int)
    assert np.mean(np.abs(same)) < 8


def test_a_face_the_crop_leaves_out_has_no_box_as_shown():
    assert shown_box((150, 100, 190, 130), PictureEdit(crop=(0, 0, 100, 80)), W, H) is None


# -- the library ------------------------------------------------------------------------------------------


def test_edits_are_undo_steps_and_never_touch_the_original(library, picture):
    original = library.original_path(picture)
    before = _sha(original)
    assert library.edits.change_look([picture], EditChange(rotate=90)) == [picture]
    p = library.get(picture)
    assert (p.width, p.height, p.original_width, p.original_height) == (H, W, W, H)
    assert quarter(Image.open(library.thumbnail_path(picture, "grid"))) == "top-right"
    library.edits.change_look([picture], EditChange(aspect="1:1"))
    library.edits.change_look([picture], EditChange(flip=True))
    labels = [step.label for step in library.edits.history().steps]
    assert labels == ["Mirror: picture 1", "Crop: picture 1", "Turn right: picture 1"]
    p = library.get(picture)
    assert (p.width, p.height) == (H, H) and p.edit.crop == (40, 0, 160, 160)
    assert quarter(Image.open(library.thumbnail_path(picture, "preview"))) == "top-left"
    [summary] = library.page(PictureFilter(), None, None, 10).items
    assert (summary.width, summary.height, summary.edit_key) == (H, H, p.edit_key)
    library.edits.undo()
    library.edits.undo()
    assert library.get(picture).edit == PictureEdit(rotate=90)
    library.edits.redo()
    assert library.get(picture).edit.crop == (40, 0, 160, 160)
    library.edits.change_look([picture], EditChange(revert=True))
    assert library.get(picture).edit is None and library.get(picture).width == W
    assert quarter(Image.open(library.thumbnail_path(picture, "grid"))) == "top-left"
    library.edits.undo()  # the revert
    assert library.get(picture).edit is not None
    assert _sha(original) == before, "the original's bytes never change"
    # the same change again changes nothing and records nothing
    steps = len(library.edits.history().steps)
    assert library.edits.change_look([picture], EditChange(set=library.get(picture).edit)) == []
    assert len(library.edits.history().steps) == steps


def test_a_snapshot_restore_brings_the_edit_back(library, picture):
    library.edits.change_look([picture], EditChange(rotate=180))
    snapshots = library.new_snapshot_service()
    try:
        snapshot = snapshots.take(label="before the revert")
        library.edits.change_look([picture], EditChange(revert=True))
        snapshots.restore(snapshot.id)
    finally:
        snapshots.close()
    assert library.get(picture).edit == PictureEdit(rotate=180)
    assert library.get(picture).width == W


def test_videos_are_refused_alone_and_left_out_of_a_mixed_selection(library, picture, tmp_path):
    video = mp4(tmp_path / "clip.mp4")
    [clip] = library.import_paths([video]).imported
    with pytest.raises(Exception, match="videos are not turned or cropped"):
        library.edits.change_look([clip.picture_id], EditChange(rotate=90))
    assert library.edits.change_look([picture, clip.picture_id], EditChange(rotate=90)) == [picture]
    assert library.get(clip.picture_id).edit is None


def test_a_training_export_writes_the_crop_before_its_resize(library, picture, tmp_path):
    library.edits.caption(picture, "a marked picture")
    library.edits.change_look([picture], EditChange(crop=(0, 0, 120, 80)))
    library.edits.change_look([picture], EditChange(rotate=90))
    options = ExportOptions(max_side=40)
    plan = library.training.plan(PictureFilter(ids=[picture]), options)
    library.training.write_folder(plan, options, tmp_path / "export")
    [image] = (tmp_path / "export").glob("*.png")
    exported = Image.open(image)
    assert exported.size == (27, 40)  # the 120x80 crop, turned, then fitted in 40
    assert quarter(exported) in ("top-left", "top-right") and np.asarray(exported)[..., 0].mean() > 150
    assert image.with_suffix(".txt").read_text().strip() == "a marked picture"


# -- the API -----------------------------------------------------------------------------------------------


def test_the_api_edits_serves_the_look_and_refuses_bad_input_with_nothing_changed(live, picture):
    admin, reader = live.client(live.token("admin")), live.client(live.token("read"))
    library = live.library
    content_hash = library.get(picture).content_hash
    before = _sha(library.original_path(picture))
    grid = admin.get(f"/api/v1/media/{content_hash}/grid.webp")
    assert grid.headers["cache-control"].endswith("immutable")
    answer = admin.patch(f"/api/v1/pictures/{picture}", json={"edit": {"rotate": 90}})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["width"], body["height"], body["edit"]) == (H, W, {"rotate": 90})
    key = body["edit_key"]
    stale = admin.get(f"/api/v1/media/{content_hash}/grid.webp")  # a URL of the old look: asked again
    assert stale.headers["cache-control"] == "private, no-cache"
    fresh = admin.get(f"/api/v1/media/{content_hash}/grid.webp", params={"edit": key})
    assert fresh.headers["cache-control"].endswith("immutable")
    assert quarter(Image.open(io.BytesIO(fresh.content))) == "top-right"
    by_id = admin.get(f"/api/v1/pictures/{picture}/preview.webp")
    assert Image.open(io.BytesIO(by_id.content)).size == (H, W)
    edited = admin.get(f"/api/v1/pictures/{picture}/edited")
    assert edited.headers["content-type"] == "image/png" and Image.open(io.BytesIO(edited.content)).size == (H, W)
    frame = admin.get(f"/api/v1/pictures/{picture}/frame.webp")
    assert Image.open(io.BytesIO(frame.content)).size == (H, W)
    [face_free] = admin.get("/api/v1/pictures").json()["items"]
    assert face_free["edit_key"] == key
    # the tool's crop, as fractions of the turned picture, and a bulk turn of a selection
    crop = admin.patch(f"/api/v1/pictures/{picture}", json={"edit": {"shown_crop": [0, 0, 0.5, 1], "angle": 2}})
    assert crop.json()["edit"]["crop"] == [
        0,
        80,
        240,
        80,
    ]  # turned right: its left half was the bottom and (crop.json()["width"], crop.json()["height"]) == (80, 240)
    bulk = admin.post(
        "/api/v1/pictures/bulk", json={"ids": [picture], "operation": {"action": "edit", "change": {"rotate": -90}}}
    )
    assert bulk.json() == {"action": "edit", "count": 1}
    history = [s["label"] for s in admin.get("/api/v1/history").json()["steps"][:3]]
    assert history == ["Turn left: picture 1", "Straighten and crop: picture 1", "Turn right: picture 1"]
    kept = library.get(picture).edit
    for bad, status in (
        ({"edit": {"rotate": 45}}, 422),  # against the schema: 422
        ({"edit": {"crop": [-1, 0, 10, 10]}}, 422),
        ({"edit": {"angle": 60}}, 422),
        ({"edit": {"angle": "NaN"}}, 422),
        ({"edit": {"aspect": "../1"}}, 422),
        ({"edit": {"set": {"crop": [0, 0, 0, 5]}}}, 422),
        ({"edit": {"sneaky": 1}}, 422),
        ({"edit": {"crop": [300, 0, 10, 10]}}, 400),  # well formed, but not on this picture: 400
        ({"edit": {"aspect": "0:1"}}, 400),
        ({"edit": {"shown_crop": [0.5, 0, 0.5, 1]}}, 400),
    ):
        refused = admin.patch(f"/api/v1/pictures/{picture}", json=bad)
        assert refused.status_code == status, (bad, refused.text)
        assert "\n" not in refused.json()["error"]["message"]
    assert admin.patch("/api/v1/pictures/999", json={"edit": {"rotate": 90}}).status_code == 404
    assert reader.patch(f"/api/v1/pictures/{picture}", json={"edit": {"rotate": 90}}).status_code == 403
    assert live.client().get(f"/api/v1/pictures/{picture}/edited").status_code == 401
    assert live.client().get(f"/api/v1/pictures/{picture}/frame.webp").status_code == 401
    assert library.get(picture).edit == kept and _sha(library.original_path(picture)) == before
    admin.patch(f"/api/v1/pictures/{picture}", json={"edit": {"revert": True}})
    assert admin.get(f"/api/v1/pictures/{picture}/edited").status_code == 404


def test_a_share_shows_the_edit_and_downloads_the_original_unless_told(live, picture):
    library, admin = live.library, live.client(live.token("admin"))
    library.edits.change_look([picture], EditChange(rotate=90))
    content_hash, key = library.get(picture).content_hash, library.get(picture).edit_key
    for edited_downloads in (False, True):
        _, token = live.state.shares.create(
            "pictures", picture_ids=[picture], options=ShareOptions(edited_downloads=edited_downloads)
        )
        base = f"/api/v1/shared/{token}"
        [item] = admin.get(f"{base}/pictures").json()["items"]
        assert (item["width"], item["height"], item["edit_key"]) == (H, W, key)
        preview = admin.get(f"{base}/media/{content_hash}/preview.webp", params={"edit": key})
        assert quarter(Image.open(io.BytesIO(preview.content))) == "top-right"
        original = admin.get(f"{base}/media/{content_hash}/original")
        size = Image.open(io.BytesIO(original.content)).size
        assert size == ((H, W) if edited_downloads else (W, H))
        assert admin.get(base).json()["edited_downloads"] is edited_downloads


# -- the command line -----------------------------------------------------------------------------------


def test_the_command_line_turns_crops_shows_and_reverts(tmp_path):
    marked().save(tmp_path / "marked.png")
    env = {"PIXLSTASH_LIBRARY": str(tmp_path / "library")}
    run_cli("import", str(tmp_path / "marked.png"), env=env)
    assert run_cli("edit", "rotate", "1", "90", env=env).stdout == "turned right 1 picture\n"
    assert run_cli("edit", "crop", "1", "--aspect", "1:1", env=env).stdout == "cropped 1 picture\n"
    assert run_cli("edit", "straighten", "1", "-1.5", env=env).stdout == "straightened (-1.5°) 1 picture\n"
    shown = run_cli("edit", "show", "1", env=env).stdout
    assert (
        shown == "picture 1: straightened -1.5°, cropped to 160x160 at 40,0, turned 90° clockwise; "
        "shown 160x160 (original 240x160)\n"
    )
    listed = json.loads(run_cli("ls", "--json", env=env).stdout)["items"][0]
    assert listed["edit"] == {"rotate": 90, "angle": -1.5, "crop": [40, 0, 160, 160]} and listed["width"] == 160
    assert "(edited)" in run_cli("ls", env=env).stdout
    bad = run_cli("edit", "crop", "1", "--box", "900,0,10,10", env=env, check=False)
    assert (
        bad.returncode == 1 and bad.stderr == "error: the crop box must lie on the picture (240x160) and have a size\n"
    )
    assert run_cli("edit", "crop", "1", "--box", "1,2,3", env=env, check=False).returncode == 2
    assert run_cli("edit", "rotate", "1", "45", env=env, check=False).returncode == 2
    assert run_cli("edit", "revert", "1", env=env).stdout == "reverted to the original 1 picture\n"
    assert run_cli("undo", env=env).returncode == 0
    assert json.loads(run_cli("edit", "show", "1", "--json", env=env).stdout)["edit"]["rotate"] == 90
    assert math.isclose(json.loads(run_cli("edit", "show", "1", "--json", env=env).stdout)["edit"]["angle"], -1.5)
