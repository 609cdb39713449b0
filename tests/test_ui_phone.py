"""A phone and an upright tablet (issue 32, item 8): the selection bar fits the screen with its count,
Delete and clear in reach (the rest under More…); the view says which set it shows; sets combine by
touch, without a Ctrl key."""

from __future__ import annotations

import re

import pytest
from ui_support import expect, photos_server, screenshot, signed_in_page, wait_for_the_list

TOUCH = {
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
    "tablet": {"viewport": {"width": 768, "height": 1024}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photos_server(tmp_path_factory, 6, size=(300, 200), name="p{n}.jpg") as live:
        library = live.library
        ids = [pid for (pid,) in library.db.query("SELECT id FROM pictures ORDER BY id")]
        summer = library.organise.create_collection("set", "Best of the summer shoot")
        library.organise.add_members(summer.id, ids[:4])
        keep = library.organise.create_collection("set", "Keep")
        library.organise.add_members(keep.id, ids[2:])
        live.sets, live.ids = (summer, keep), ids
        yield live


def on_screen(page, locator) -> bool:
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.mark.parametrize("size", TOUCH)
def test_the_selection_bar_fits_and_the_view_is_named(browser, server, size):
    summer, _ = server.sets
    with signed_in_page(browser, server, **TOUCH[size]) as page:
        page.goto(f"/?collections={summer.id}")
        page.wait_for_selector("body[data-ready='1']")
        if size == "phone":
            expect(page.locator("#view-title")).to_have_text("Best of the summer shoot")
        else:
            expect(page.locator("#breadcrumbs")).to_contain_text("Best of the summer shoot")
        # The timeline is beside the tiles, not over the right column (where taps would reach it, not a tile).
        scrubber = page.locator("#scrubber")
        expect(scrubber).to_be_visible()
        rightmost = max(
            box["x"] + box["width"] for box in (t.bounding_box() for t in page.locator(".tile:visible").all())
        )
        assert rightmost <= scrubber.bounding_box()["x"] + 0.5
        page.locator(".tile:visible .check").first.tap()
        bar = page.locator("#selection-bar")
        expect(bar.locator("#selection-count")).to_have_text("1 selected")
        for name in ("Add to…", "More actions", "Delete", "Clear selection"):
            assert on_screen(page, bar.get_by_role("button", name=name)), name
        assert page.evaluate(
            "() => { const b = document.getElementById('selection-bar'); return b.scrollWidth <= b.clientWidth; }"
        )
        screenshot(page, f"selection-bar-{size}")
        bar.get_by_role("button", name="More actions").tap()
        menu = page.locator("#menu")
        expect(menu.get_by_role("menuitem", name="Rate")).to_be_visible()  # what gave way is here
        menu.get_by_role("menuitem", name="Rate").tap()
        menu.get_by_role("menuitem", name="★★★★", exact=True).tap()
        expect(page.locator("#toast")).to_contain_text("Rated")


def test_sets_combine_by_touch(browser, server):
    with signed_in_page(browser, server, **TOUCH["phone"]) as page:
        page.get_by_role("button", name="Show or hide the sidebar").tap()
        sidebar = page.locator("#sidebar")
        sidebar.get_by_label("set Best of the summer shoot").click(button="right")  # a long press
        page.get_by_role("menuitem", name="Combine with others (then tap them)").tap()
        expect(page.locator("#setops")).to_contain_text("tap or Ctrl-click another set")
        sidebar.get_by_label("set Keep").tap()
        expect(page.locator("#setops")).to_contain_text("2 selected")
        page.get_by_role("button", name="Show or hide the sidebar").tap()
        page.locator("#setops").get_by_role("button", name="Overlap").tap()
        expected = set(server.ids[2:4])
        expect(page).to_have_url(re.compile(r"op=overlap"))
        wait_for_the_list(page)
        shown = page.locator(".tile:visible").evaluate_all("els => els.map(e => Number(e.dataset.id))")
        assert set(shown) == expected


def test_a_lost_connection_is_said_at_once_and_the_page_catches_up_when_it_is_back(browser, server):
    """A phone away from home (the network gone mid-session): the page says its changes are not saved
    instead of 'Failed to fetch' and broken tiles; back on the network, it reconnects by itself and shows
    what changed meanwhile."""
    with signed_in_page(browser, server, **TOUCH["phone"]) as page:
        page.expected_errors += ["ERR_INTERNET_DISCONNECTED", "Failed to fetch", "Failed to load resource"]
        banner = page.locator("#connection-banner")
        expect(banner).to_be_hidden()
        page.context.set_offline(True)
        page.locator(".tile:visible").first.click()  # opening a picture asks the server
        # (generous ceilings: on a busy machine the failed request and the banner can take a while)
        expect(banner).to_be_visible(timeout=60_000)
        expect(banner).to_contain_text("cannot be reached")
        screenshot(page, "connection-lost-phone")
        page.keyboard.press("Escape")
        server.library.edits.tag([server.ids[5]], add=["made while away"])
        page.context.set_offline(False)
        expect(banner).to_be_hidden(timeout=60_000)  # the live stream's own retry, or the next request
        expect(page.locator("#toast")).to_contain_text("Connected again", timeout=60_000)
