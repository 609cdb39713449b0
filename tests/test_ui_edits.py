"""Turning, mirroring and cropping from the viewer, as a person does it on a desktop and on a phone, judged
on screenshots: a framed picture with a red top-left quarter shows where every part went, in the viewer,
on the grid's tile and on a share recipient's page; undo, redo and Revert bring each look back, and the
original file never changes."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image
from ui_support import expect, library_server, screenshot, signed_in_page

from pixlstash.domain import EditChange
from pixlstash.sharing.service import ShareOptions

SIZES = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


def marked(width: int, height: int, red: bool = True) -> Image.Image:
    """Green in a magenta frame, its top-left quarter red."""
    image = Image.new("RGB", (width, height), (255, 0, 255))
    edge = max(4, min(width, height) // 20)
    image.paste((0, 150, 0), (edge, edge, width - edge, height - edge))
    if red:
        image.paste((230, 20, 20), (edge, edge, width // 2, height // 2))
    return image


def red_share(png: bytes) -> float:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return float(((pixels[..., 0] > 170) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)).mean())


def look(png: bytes) -> tuple[str, float, float]:
    """Where the red is in the picture on a screenshot ("top-left", ...), the picture's width / height, and
    how much of it is red. The picture is what its magenta frame holds."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    frame = (pixels[..., 0] > 170) & (pixels[..., 1] < 100) & (pixels[..., 2] > 170)
    rows, cols = np.flatnonzero(frame.any(axis=1)), np.flatnonzero(frame.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    red = (pixels[..., 0] > 170) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    ys, xs = np.nonzero(red[top:bottom, left:right])
    height, width = bottom - top, right - left
    where = f"{'top' if ys.mean() < height / 2 else 'bottom'}-{'left' if xs.mean() < width / 2 else 'right'}"
    return where, width / height, len(ys) / (width * height)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edits")
    marked(480, 320).save(folder / "marked.png")
    marked(300, 200, red=False).save(folder / "plain.png")
    with library_server(tmp_path_factory.mktemp("library"), folder, 2) as live:
        rows = live.library.db.query("SELECT id, original_name FROM pictures")
        live.ids = {name.split(".")[0]: pid for pid, name in rows}
        yield live


def loaded(page, selector: str) -> None:
    """Wait until the image at ``selector`` has loaded."""
    page.wait_for_function(
        "(sel) => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }",
        arg=selector,
    )


def _sha(server) -> str:
    return hashlib.sha256(server.library.original_path(server.ids["marked"]).read_bytes()).hexdigest()


def viewer_look(page, edit_key: str) -> tuple[str, float, float]:
    """The viewer's picture once the look named ``edit_key`` ("" for the original's) has loaded."""
    page.wait_for_function(
        """(key) => { const i = document.querySelector('#full'); if (!i || !i.complete || !i.naturalWidth) return false;
          return key ? i.src.includes('edit=' + key) : !i.src.includes('edit='); }""",
        arg=edit_key,
    )
    return look(page.locator("#stage").screenshot())


def current_key(server) -> str:
    return server.library.get(server.ids["marked"]).edit_key


@pytest.mark.parametrize("size", SIZES)
def test_turn_mirror_crop_undo_and_revert_in_the_viewer(browser, server, size):
    server.library.edits.change_look([server.ids["marked"], server.ids["plain"]], EditChange(revert=True))
    before = _sha(server)
    marked_id = server.ids["marked"]
    with signed_in_page(browser, server, **SIZES[size]) as page:
        page.locator(f".tile[data-id='{marked_id}']").click()
        assert viewer_look(page, "")[:2] == ("top-left", pytest.approx(1.5, abs=0.03))

        page.get_by_role("button", name="Turn right", exact=True).click()
        expect(page.locator(".edited-note")).to_contain_text("turned")
        where, ratio, _ = viewer_look(page, current_key(server))
        assert (where, ratio) == ("top-right", pytest.approx(2 / 3, abs=0.03))
        screenshot(page, f"edit-turned-{size}")

        page.keyboard.press("Shift+R")  # back to the left
        expect(page.locator(".edited-note")).to_have_count(0)
        assert viewer_look(page, "")[:2] == ("top-left", pytest.approx(1.5, abs=0.03))
        page.keyboard.press("r")
        expect(page.locator(".edited-note")).to_contain_text("turned")
        page.get_by_role("button", name="Mirror", exact=True).click()
        expect(page.locator(".edited-note")).to_contain_text("mirrored")
        assert viewer_look(page, current_key(server))[:2] == ("top-left", pytest.approx(2 / 3, abs=0.03))
        mirrored = current_key(server)

        page.keyboard.press("Control+z")  # the mirror undone: turned only
        expect(page.locator(".edited-note")).not_to_contain_text("mirrored")
        assert viewer_look(page, current_key(server))[0] == "top-right"
        page.keyboard.press("Control+y")
        expect(page.locator(".edited-note")).to_contain_text("mirrored")
        assert current_key(server) == mirrored and viewer_look(page, mirrored)[0] == "top-left"

        # The crop tool: the picture as turned and mirrored; a square, then a box dragged by its corner.
        page.get_by_role("button", name="Crop and straighten", exact=True).click()
        tool = page.get_by_role("dialog", name="Crop and straighten")
        expect(tool).to_be_visible()
        loaded(page, "#crop-image")
        tool.get_by_role("button", name="1:1", exact=True).click()
        screenshot(page, f"edit-crop-tool-{size}")
        tool.get_by_role("button", name="Done", exact=True).click()
        expect(page.locator(".edited-note")).to_contain_text("cropped")
        assert viewer_look(page, current_key(server))[1] == pytest.approx(1.0, abs=0.03)
        assert server.library.get(marked_id).width == server.library.get(marked_id).height

        square = current_key(server)
        page.get_by_role("button", name="Crop and straighten", exact=True).click()
        loaded(page, "#crop-image")
        tool.get_by_role("button", name="Free", exact=True).click()
        tool.get_by_role("button", name="Reset", exact=True).click()
        frame = page.locator("#crop-frame").bounding_box()
        handle = page.locator(".crop-handle.se").bounding_box()
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        page.mouse.down()
        page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2, steps=5)
        page.mouse.up()
        tool.get_by_role("button", name="Done", exact=True).click()
        # Done closes the tool at once and saves after: wait for the viewer to show the new look (a key
        # other than the square's), which it asks for only once the library has it.
        page.wait_for_function(
            """(old) => { const i = document.querySelector('#full');
              return !document.querySelector('.crop-tool') && i && i.src.includes('edit=')
                && !i.src.includes('edit=' + old); }""",
            arg=square,
        )
        p = server.library.get(marked_id)
        quarter = (pytest.approx(160, abs=3), pytest.approx(240, abs=3))
        assert (p.width, p.height) == quarter, "a quarter of the turned picture"
        where, ratio, red = viewer_look(page, p.edit_key)
        assert ratio == pytest.approx(2 / 3, abs=0.04) and red > 0.6, "the red quarter is what is kept"
        screenshot(page, f"edit-cropped-{size}")

        # The grid's tile shows the look too.
        page.keyboard.press("Escape")
        expect(page.locator("#overlay")).to_be_hidden()
        tile = page.locator(f".tile[data-id='{marked_id}'] img")
        expect(tile).to_have_attribute("src", f"/api/v1/pictures/{marked_id}/grid.webp?edit={p.edit_key}")
        loaded(page, f".tile[data-id='{marked_id}'] img")
        assert red_share(tile.screenshot()) > 0.6  # (a square tile: the frame's two kept sides may be cut)
        screenshot(page, f"edit-grid-{size}")

        page.locator(f".tile[data-id='{marked_id}']").click()
        page.get_by_role("button", name="Revert to original", exact=True).click()
        expect(page.locator(".edited-note")).to_have_count(0)
        assert viewer_look(page, "")[:2] == ("top-left", pytest.approx(1.5, abs=0.03))
        page.keyboard.press("Control+z")  # the revert undone: the crop is back
        expect(page.locator(".edited-note")).to_contain_text("cropped")
    assert _sha(server) == before, "the original file is never rewritten"


def test_r_turns_a_selection_in_the_grid_and_a_share_shows_the_look(browser, server):
    library, ids = server.library, server.ids
    library.edits.change_look(list(ids.values()), EditChange(revert=True))
    with signed_in_page(browser, server, viewport={"width": 1440, "height": 900}) as page:
        for name in ("marked", "plain"):
            page.locator(f".tile[data-id='{ids[name]}'] .check").click()
        page.keyboard.press("r")
        expect(page.locator("#toast")).to_contain_text("Turned right 2 pictures")
        for name in ("marked", "plain"):
            expect(page.locator(f".tile[data-id='{ids[name]}'] img")).to_have_attribute(
                "src", f"/api/v1/pictures/{ids[name]}/grid.webp?edit={library.get(ids[name]).edit_key}"
            )
        assert [library.get(ids[name]).width for name in ("marked", "plain")] == [320, 200]
        page.keyboard.press("Control+z")
        expect(page.locator(f".tile[data-id='{ids['marked']}'] img")).to_have_attribute(
            "src", f"/api/v1/pictures/{ids['marked']}/grid.webp"
        )
    library.edits.change_look([ids["marked"]], EditChange(rotate=90))
    _, token = server.state.shares.create("pictures", picture_ids=[ids["marked"]], options=ShareOptions())
    for size, options in SIZES.items():
        context = browser.new_context(**options)
        page = context.new_page()
        page.goto(f"{server.url}/s/{token}")
        tile = page.locator(f".tile[data-id='{ids['marked']}']")
        loaded(page, f".tile[data-id='{ids['marked']}'] img")
        assert look(tile.locator("img").screenshot())[0] == "top-right"
        tile.click()
        loaded(page, "#full")
        where, ratio, _ = look(page.locator("#stage").screenshot())
        assert (where, ratio) == ("top-right", pytest.approx(2 / 3, abs=0.03)), size
        screenshot(page, f"edit-share-{size}")
        context.close()


def _touch_drag(page, start: tuple[float, float], end: tuple[float, float], steps: int = 6) -> None:
    """One finger on the touch screen, from ``start`` to ``end`` (Chromium's own touch events)."""
    cdp = page.context.new_cdp_session(page)
    for kind, (x, y) in [
        ("touchStart", start),
        *[
            ("touchMove", (start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps))
            for i in range(1, steps + 1)
        ],
    ]:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_a_finger_near_a_crop_corner_resizes_on_a_phone(browser, server):
    """Handles drawn 22 px wide answer a finger within 24 px of their centre: a touch 14 px inside a corner
    resized nothing and moved the whole box."""
    marked_id = server.ids["marked"]
    server.library.edits.change_look([marked_id], EditChange(revert=True))
    with signed_in_page(browser, server, **SIZES["phone"]) as page:
        page.locator(f".tile[data-id='{marked_id}']").click()
        page.get_by_role("button", name="Crop and straighten", exact=True).click()
        loaded(page, "#crop-image")
        for corner in ("se", "nw"):
            box = page.locator(".crop-box").bounding_box()
            handle = page.locator(f".crop-handle.{corner}").bounding_box()
            cx, cy = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
            inward = -14 if corner == "se" else 14
            # Every point within 22 px of the centre (a 44 px target) is the handle's, edges of the screen too.
            for dx, dy in ((22, 0), (-22, 0), (0, 22), (0, -22), (15, 15), (-15, -15)):
                hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.dataset.handle", [cx + dx, cy + dy])
                assert hit == corner, (corner, dx, dy, hit)
            _touch_drag(page, (cx + inward, cy + inward), (cx + 3 * inward, cy + 3 * inward))
            after = page.locator(".crop-box").bounding_box()
            if corner == "se":  # resized from the corner: the opposite corner stays where it was
                assert (after["x"], after["y"]) == (pytest.approx(box["x"], abs=1), pytest.approx(box["y"], abs=1))
                assert after["width"] < box["width"] - 20
            else:
                assert after["x"] + after["width"] == pytest.approx(box["x"] + box["width"], abs=1)
                assert after["x"] > box["x"] + 20
        screenshot(page, "crop-handles-by-touch-phone")
        page.get_by_role("button", name="Cancel", exact=True).click()


def test_a_share_page_searches_what_it_shows_and_names_what_a_download_gives(browser, server):
    library, ids = server.library, server.ids
    library.edits.change_look([ids["marked"]], EditChange(rotate=90))
    library.edits.change_look([ids["plain"]], EditChange(revert=True))
    library.edits.tag([ids["marked"]], add=["lighthouse"])
    _, plain_share = server.state.shares.create(
        "pictures", picture_ids=list(ids.values()), options=ShareOptions(allow_original=True)
    )
    _, meta_share = server.state.shares.create(
        "pictures",
        picture_ids=list(ids.values()),
        options=ShareOptions(allow_original=True, include_metadata=True, watermark={"text": "proof", "opacity": 0.5}),
    )
    for size, options in SIZES.items():
        context = browser.new_context(**options)
        page = context.new_page()
        page.goto(f"{server.url}/s/{plain_share}")
        page.wait_for_selector("body[data-ready='1']")
        expect(page.locator("#share-search")).to_be_hidden()  # no metadata shown: nothing to search
        page.locator(f".tile[data-id='{ids['marked']}']").click()
        expect(page.locator("#download")).to_have_text("Download original")  # the edit is not what it gives
        context.close()

        context = browser.new_context(**options)
        page = context.new_page()
        page.goto(f"{server.url}/s/{meta_share}")
        page.wait_for_selector("body[data-ready='1']")
        search = page.get_by_label("Search these pictures")
        search.fill("lightho")
        expect(page.locator("#count")).to_have_text("1 picture found")
        expect(page.locator(".tile:visible")).to_have_count(1)
        screenshot(page, f"share-search-{size}")
        search.fill("plain")  # a file name: not shown by the share, so not searched
        expect(page.locator("#count")).to_have_text("0 pictures found")
        search.fill("")
        expect(page.locator("#count")).to_have_text("2 pictures")
        page.locator(f".tile[data-id='{ids['marked']}']").click()
        expect(page.locator("#download")).to_have_text("Download edited picture")  # watermarked, and its look
        page.keyboard.press("Escape")
        page.locator(f".tile[data-id='{ids['plain']}']").click()
        expect(page.locator("#download")).to_have_text("Download picture")  # watermarked: not the file itself
        context.close()


def test_an_aspect_keeps_a_dragged_box_and_the_training_bucket_shows_its_box_first(browser, server):
    from pixlstash.training.images import aspect_bucket

    marked_id = server.ids["marked"]
    server.library.edits.change_look([marked_id], EditChange(revert=True))
    with signed_in_page(browser, server, **SIZES["desktop"]) as page:
        page.locator(f".tile[data-id='{marked_id}']").click()
        page.get_by_role("button", name="Crop and straighten", exact=True).click()
        tool = page.get_by_role("dialog", name="Crop and straighten")
        loaded(page, "#crop-image")
        frame = page.locator("#crop-frame").bounding_box()
        handle = page.locator(".crop-handle.se").bounding_box()
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        page.mouse.down()
        page.mouse.move(frame["x"] + frame["width"] * 0.5, frame["y"] + frame["height"] * 0.5, steps=5)
        page.mouse.up()
        dragged = page.locator(".crop-box").bounding_box()
        tool.get_by_role("button", name="1:1", exact=True).click()
        square = page.locator(".crop-box").bounding_box()
        assert square["width"] == pytest.approx(square["height"], abs=2)
        # The dragged box's size is kept (its area), not thrown away for the largest square.
        assert square["width"] * square["height"] == pytest.approx(dragged["width"] * dragged["height"], rel=0.05)
        assert square["height"] < frame["height"] * 0.8
        tool.get_by_role("button", name="Training bucket", exact=True).click()
        expect(tool).to_be_visible()  # shown first: nothing saved yet
        assert server.library.get(marked_id).edit_key == ""
        expect(tool.get_by_role("button", name="Training bucket", exact=True)).to_have_attribute("aria-pressed", "true")
        shown = page.locator(".crop-box").bounding_box()
        tool.get_by_role("button", name="Done", exact=True).click()
        page.wait_for_function("() => !document.querySelector('.crop-tool')")
        expect(page.locator(".edited-note")).to_contain_text("cropped")
    picture = server.library.get(marked_id)
    bucket = aspect_bucket(picture.width, picture.height, 1024)
    assert picture.width / picture.height == pytest.approx(bucket[0] / bucket[1], abs=0.01)
    assert picture.width / picture.height == pytest.approx(shown["width"] / shown["height"], abs=0.02)  # as shown
    server.library.edits.change_look([marked_id], EditChange(revert=True))
