"""The text in pictures in the browser: the viewer lists what was read, pointing at a line marks its region
on the picture where that text is; the Filters panel keeps pictures with (or without) text; the search box
finds a picture by a word read in it."""

from __future__ import annotations

import re

import pytest
from corpus import photo
from ui_support import expect, library_server, screenshot, signed_in_page

from pixlstash.domain import TextRun
from pixlstash.system.clock import now_ms

SIGN = [
    TextRun("GRAND OPENING", [100, 80, 700, 80, 700, 200, 100, 200]),
    TextRun("Saturday", [120, 500, 400, 520, 395, 580, 115, 560]),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    photo(1200, 900, seed=1).save(folder / "shopfront.jpg")
    photo(900, 1200, seed=2).save(folder / "meadow.jpg")
    photo(800, 800, seed=3).save(folder / "unread.jpg")
    with library_server(tmp_path_factory.mktemp("library"), folder, 3) as live:
        library = live.library
        ids = {name.rsplit(".", 1)[0]: pid for pid, name in library.db.query("SELECT id, original_name FROM pictures")}
        with library.db.write():  # what a text reader wrote (the reader itself is tested in test_ocr.py)
            library.texts.put(ids["shopfront"], "test/reader", "1", SIGN, now_ms())
            library.texts.put(ids["meadow"], "test/reader", "1", [], now_ms())
            library.pictures.refresh_text([ids["shopfront"], ids["meadow"]])
        live.ids = ids
        yield live


def wait_until_shown(page, ids: set[int]) -> None:
    """The grid shows exactly these pictures (waited for: right after a filter changes, the old grid may
    still show as many tiles as the new one will)."""
    page.wait_for_function(
        """(ids) => document.body.dataset.ready === '1' && JSON.stringify(
            [...document.querySelectorAll('.tile')].filter((e) => e.offsetParent !== null)
                .map((e) => Number(e.dataset.id)).sort((a, b) => a - b)) === JSON.stringify(ids)""",
        arg=sorted(ids),
        timeout=60_000,
    )


def test_the_viewer_lists_the_text_and_marks_where_each_line_is(browser, server):
    with signed_in_page(browser, server, viewport={"width": 1440, "height": 900}) as page:
        page.goto(f"/?picture={server.ids['shopfront']}")
        page.wait_for_selector("body[data-ready='1']")  # start-up draws it again when its loads are in
        rows = page.locator("#text-runs li")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_have_text("GRAND OPENING")
        image = page.locator("#full")
        expect(image).to_be_visible()
        page.wait_for_function("() => document.querySelector('#full').complete")
        rows.nth(1).hover()
        marked = page.locator("#textboxes polygon.marked")
        expect(marked).to_have_count(1)
        expect(page.locator("#textboxes")).to_have_css("opacity", "1")
        picture = image.bounding_box()
        scale = min(picture["width"] / 1200, picture["height"] / 900)
        left = picture["x"] + (picture["width"] - 1200 * scale) / 2
        top = picture["y"] + (picture["height"] - 900 * scale) / 2
        # The shape's own box (Playwright's bounding box takes in the stroke's width and its mitred corners).
        box = marked.evaluate(
            "e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
        )
        xs, ys = SIGN[1].quad[0::2], SIGN[1].quad[1::2]
        assert box["x"] == pytest.approx(left + min(xs) * scale, abs=1)
        assert box["y"] == pytest.approx(top + min(ys) * scale, abs=1)
        assert box["width"] == pytest.approx((max(xs) - min(xs)) * scale, abs=1)
        assert box["height"] == pytest.approx((max(ys) - min(ys)) * scale, abs=1)
        screenshot(page, "ocr-viewer-desktop")
        page.goto(f"/?picture={server.ids['meadow']}")
        page.wait_for_selector("body[data-ready='1']")  # start-up draws it again when its loads are in
        expect(page.get_by_text("None found.")).to_be_visible()


def test_the_filters_keep_pictures_with_or_without_text_and_search_finds_a_word(browser, server):
    with signed_in_page(browser, server) as page:
        page.locator(".filters summary").click()
        page.get_by_label("Text in the picture").select_option(label="has text")
        page.wait_for_url(re.compile(r"has_text=yes"))
        wait_until_shown(page, {server.ids["shopfront"]})
        expect(page.locator(".chip", has_text="has text")).to_be_visible()
        page.get_by_label("Text in the picture").select_option(label="no text")
        page.wait_for_url(re.compile(r"has_text=no"))
        wait_until_shown(page, {server.ids["meadow"]})  # the unread picture is neither
        page.keyboard.press("Escape")
        page.goto("/")
        page.wait_for_selector("body[data-ready='1']")  # the search form is bound once the page is ready
        box = page.get_by_label("Search pictures")
        box.fill("saturday")
        box.press("Enter")
        expect(page).to_have_url(re.compile(r"q=saturday"))
        wait_until_shown(page, {server.ids["shopfront"]})
