"""A stack's tile in the grid: its tag chips sit above its badges (the stack's count button is taller than
a badge, and the chips used to cover the rating), and an action on it says that it covered the stack."""

from __future__ import annotations

import pytest
from ui_support import boxes_overlap, expect, photos_server, screenshot, signed_in_page


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photos_server(tmp_path_factory, 7, size=(400, 300), seed=70, name="s{n}.jpg") as live:
        library = live.library
        ids = [pid for (pid,) in library.db.query("SELECT id FROM pictures ORDER BY id")]
        stack = library.stacks.stack(ids[:4], cover_id=ids[0])
        library.edits.set_fields([ids[0]], rating=4)
        library.edits.tag([ids[0]], add=["lighthouse", "dusk", "coast"])
        live.ids, live.stack, live.cover = ids, stack, ids[0]
        live.set = library.organise.create_collection("set", "Keepers")
        yield live


def test_a_stack_covers_tag_chips_leave_its_rating_and_count_readable(browser, server):
    with signed_in_page(browser, server, viewport={"width": 1280, "height": 800}) as page:
        tile = page.locator(f".tile[data-id='{server.cover}']")
        expect(tile.locator(".stack-open")).to_be_visible()
        expect(tile.locator(".chips")).to_be_visible()
        chips = tile.locator(".chips").bounding_box()
        for badge in (".meta .stars", ".meta .stack-open"):
            assert not boxes_overlap(chips, tile.locator(badge).bounding_box()), badge
        screenshot(page, "stack-tile-chips")


def test_an_action_on_a_stacks_tile_says_it_covered_the_stack(browser, server):
    others = server.ids[4:7]
    with signed_in_page(browser, server, viewport={"width": 1280, "height": 800}) as page:
        page.locator(f".tile[data-id='{server.cover}'] .check").click()
        for picture_id in others:
            page.locator(f".tile[data-id='{picture_id}'] .check").click()
        expect(page.locator("#selection-count")).to_have_text("4 selected")
        page.locator("#selection-bar").get_by_role("button", name="Add to…").click()
        page.locator("#menu").get_by_role("menuitem", name="■ Keepers").click()
        expect(page.locator("#toast")).to_contain_text(
            "Added 7 pictures to Keepers (the 4 tiles hold 3 more pictures in their stacks)"
        )
    assert len(server.library.organise.set_operation([server.set.id], "union")) == 7
