"""The picture viewer as a person sees and uses it (issue 32, items 1 and 2): every picture is shown
whole, whatever its proportions and the screen's, in the library and in a share recipient's viewer; the
viewer's tag and caption boxes take typing, and a shortcut key typed into them stays text."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image
from ui_support import boxes_overlap, expect, library_server, screenshot, signed_in_page

from pixlstash.sharing.service import ShareOptions

# width, height: 1:4, 2:3, 1:1, 3:2, 4:1 and a 112 px face crop
SHAPES = {"tall": (250, 1000), "portrait": (512, 768), "square": (800, 800), "landscape": (900, 600),
          "wide": (1600, 400), "small": (112, 112)}  # fmt: skip
SIZES = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "tablet": {"viewport": {"width": 768, "height": 1024}, "has_touch": True, "is_mobile": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


def framed(width: int, height: int) -> Image.Image:
    """Green with a magenta frame: where the frame shows on screen is where the whole picture lies."""
    image = Image.new("RGB", (width, height), (0, 150, 0))
    edge = max(4, min(width, height) // 20)
    pixels = np.asarray(image).copy()
    pixels[:edge], pixels[-edge:], pixels[:, :edge], pixels[:, -edge:] = (
        (255, 0, 255),
        (255, 0, 255),
        (255, 0, 255),
        (255, 0, 255),
    )
    return Image.fromarray(pixels)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shapes")
    for name, (width, height) in SHAPES.items():
        framed(width, height).save(folder / f"{name}.png")
    with library_server(tmp_path_factory.mktemp("library"), folder, len(SHAPES)) as live:
        ids = {
            name.rsplit(".", 1)[0]: pid for pid, name in live.library.db.query("SELECT id, original_name FROM pictures")
        }
        _, token = live.state.shares.create("pictures", picture_ids=list(ids.values()), options=ShareOptions())
        live.ids, live.share_url = ids, f"{live.url}/s/{token}"
        yield live


def shown_box(page) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """(left, top, right, bottom) of the frame's pixels in a screenshot of the stage, and the stage's size."""
    stage = page.locator("#stage")
    pixels = np.asarray(Image.open(io.BytesIO(stage.screenshot())).convert("RGB")).astype(int)
    frame = (pixels[..., 0] > 170) & (pixels[..., 1] < 100) & (pixels[..., 2] > 170)
    rows, cols = np.flatnonzero(frame.any(axis=1)), np.flatnonzero(frame.any(axis=0))
    assert len(rows) and len(cols), "the picture's frame is nowhere on the stage"
    return (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1), (pixels.shape[1], pixels.shape[0])


def assert_whole_and_fitted(page, name: str, label: str) -> None:
    page.wait_for_function(
        "() => { const i = document.querySelector('#stage img'); return i && i.complete && i.naturalWidth; }"
    )
    if name == "small":  # at twice its size, centred (a small picture blown up to the screen is a blur) ...
        (left, top, right, bottom), (width, height) = shown_box(page)
        assert (right - left, bottom - top) == (pytest.approx(224, abs=3), pytest.approx(224, abs=3)), (label, name)
        assert abs((left + right) - width) <= 3 and abs((top + bottom) - height) <= 3, (label, name, "not centred")
        page.get_by_role("button", name="Fit", exact=True).click()  # ... and fitted when asked for
        expect(page.get_by_role("button", name="Fit", exact=True)).to_have_attribute("aria-pressed", "true")
    (left, top, right, bottom), (width, height) = shown_box(page)
    # All four edges of the frame are on the stage (the screenshot is the stage: nothing is cut) ...
    frame_width, frame_height = right - left, bottom - top
    picture_width, picture_height = SHAPES[name]
    # ... the frame is the picture's proportions (not cropped to the stage's) ...
    assert abs(frame_width / frame_height - picture_width / picture_height) < 0.03 * picture_width / picture_height, (
        label,
        name,
        (left, top, right, bottom),
        (width, height),
    )
    # ... and it fills the stage on one axis (fitted, centred on the other).
    assert frame_width >= width - 3 or frame_height >= height - 3, (
        label,
        name,
        (left, top, right, bottom),
        (width, height),
    )
    assert abs((left + right) - width) <= 3 and abs((top + bottom) - height) <= 3, (label, name, "not centred")


@pytest.mark.parametrize("size", SIZES)
def test_the_viewer_shows_every_picture_whole_at_every_size(browser, server, size):
    with signed_in_page(browser, server, **SIZES[size]) as page:
        for name, picture_id in server.ids.items():
            page.locator(f".tile[data-id='{picture_id}']").click()
            expect(page.locator("#overlay")).to_be_visible()
            assert_whole_and_fitted(page, name, f"library {size}")
            if name == "tall":
                screenshot(page, f"viewer-tall-{size}")
            page.keyboard.press("Escape")
            expect(page.locator("#overlay")).to_be_hidden()
    context = browser.new_context(**SIZES[size])
    recipient = context.new_page()
    recipient.goto(server.share_url)
    expect(recipient.locator("#grid .tile:visible img[src]")).to_have_count(len(SHAPES))
    for n in range(len(SHAPES)):
        recipient.locator(f"#grid .tile[data-index='{n}']").click()
        expect(recipient.locator("#overlay")).to_be_visible()
        # The recipient's viewer names pictures by position; its details give the size, which names the shape.
        details = recipient.locator("#overlay .info .muted").text_content()
        name = next(k for k, (w, h) in SHAPES.items() if details.startswith(f"{w}×{h}"))
        assert_whole_and_fitted(recipient, name, f"recipient {size}")
        recipient.keyboard.press("Escape")
        expect(recipient.locator("#overlay")).to_be_hidden()
    context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_viewer_s_tag_and_caption_boxes_take_typing(browser, server, size):
    picture_id = server.ids["square"]
    with signed_in_page(browser, server, **SIZES[size]) as page:
        page.locator(f".tile[data-id='{picture_id}']").click()
        # A PNG without a date of its own is dated by its file, and the viewer says so.
        expect(page.locator("#taken")).to_contain_text("(file date)")
        sent = []
        page.on("request", lambda r: r.method == "PATCH" and sent.append(r.post_data_json))
        box = page.get_by_placeholder("add tag (T)")
        box.tap() if size == "phone" else box.click()
        page.keyboard.type("coffee 5")  # "5" would rate the picture if the key reached the page's shortcuts
        expect(box).to_have_value("coffee 5")
        page.keyboard.press("Enter")
        expect(page.locator("#tags")).to_contain_text("coffee 5")
        caption = page.locator("#caption")
        caption.click()
        page.keyboard.type("a cup on a table; 1 of 3")
        expect(caption).to_have_value("a cup on a table; 1 of 3")
        page.get_by_role("button", name="Save caption").click()
        expect(page.locator("#toast")).to_contain_text("Caption saved")
        assert {"add_tags": ["coffee 5"]} in sent and {"caption": "a cup on a table; 1 of 3"} in sent
        stored = server.library.get(picture_id)
        assert not stored.rating and "coffee 5" in {t.name for t in stored.tags}
        assert {c.text for c in stored.captions if c.source == "user"} == {"a cup on a table; 1 of 3"}
        server.library.edits.tag([picture_id], remove=["coffee 5"])
        server.library.edits.caption(picture_id, None)


def test_the_viewer_s_action_bar_and_details_toggle(browser, server):
    picture_id = server.ids["landscape"]
    with signed_in_page(browser, server, **SIZES["desktop"]) as page:
        page.locator(f".tile[data-id='{picture_id}']").click()
        bar = page.get_by_role("toolbar", name="Picture actions")
        index = page.evaluate("id => window.pixlstash.app.grid.indexOf.get(id)", picture_id)
        expect(bar.locator("#position")).to_have_text(f"{index + 1} of {len(SHAPES)}")
        stage = page.locator("#stage")
        narrow = stage.bounding_box()["width"]
        page.keyboard.press("i")  # the details give the picture their room
        expect(page.locator("#overlay .info")).to_be_hidden()
        assert stage.bounding_box()["width"] > narrow + 300
        assert_whole_and_fitted(page, "landscape", "details hidden")
        expect(page.get_by_role("button", name="Close")).to_be_visible()
        bar.get_by_role("button", name="Details").click()
        expect(page.locator("#overlay .info")).to_be_visible()
        bar.get_by_role("button", name="Add to…").click()
        page.get_by_role("menuitem", name="New set…").click()
        page.get_by_role("textbox", name="Name of the new set").fill("Wide ones")
        page.keyboard.press("Enter")
        expect(page.locator("#toast")).to_contain_text("Added 1 picture to Wide ones")
        (wide,) = [c for c in server.library.collections.collections("set") if c.name == "Wide ones"]
        assert server.library.organise.set_operation([wide.id], "union") == [picture_id]
        # Delete from the viewer: the picture goes to the scrapheap, the viewer shows the next one.
        bar.get_by_role("button", name="Delete").click()
        expect(page.locator("#toast")).to_contain_text("moved to the scrapheap")
        expect(page).not_to_have_url(re.compile(rf"picture={picture_id}(&|$)"))
        assert server.library.get(picture_id).deleted_at is not None
        expect(page.locator("#overlay")).to_be_visible()
        assert page.evaluate("() => window.pixlstash.app.view.picture") != picture_id
    server.library.edits.undo()  # the other tests here want every shape
    assert server.library.get(picture_id).deleted_at is None
    server.library.edits.undo(), server.library.edits.undo()  # and no set
    assert server.library.collections.collections("set") == []


def _covered_buttons(page) -> list[str]:
    """The visible buttons of the viewer (and its crop tool) that the toast lies over."""
    toast = page.locator("#toast").bounding_box()
    covered = []
    for button in page.locator("#overlay button:visible").all():
        box = button.bounding_box()
        if box and box["width"] and boxes_overlap(toast, box):
            covered.append(button.get_attribute("aria-label") or button.inner_text())
    return covered


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_toast_never_covers_the_viewers_buttons_or_the_crop_controls(browser, server, size):
    picture_id = server.ids["landscape"]
    with signed_in_page(browser, server, **SIZES[size]) as page:
        page.locator(f".tile[data-id='{picture_id}']").click()
        expect(page.locator("#overlay")).to_be_visible()
        page.keyboard.press("3")
        expect(page.locator("#toast")).to_contain_text("Rated")
        assert _covered_buttons(page) == []
        screenshot(page, f"viewer-toast-{size}")
        page.get_by_role("button", name="Crop and straighten", exact=True).click()
        expect(page.get_by_role("dialog", name="Crop and straighten")).to_be_visible()
        expect(page.locator("#toast")).to_be_visible()  # the rating's toast is still up
        assert _covered_buttons(page) == []
        screenshot(page, f"crop-toast-{size}")
        page.get_by_role("button", name="Cancel", exact=True).click()
    server.library.edits.undo()
