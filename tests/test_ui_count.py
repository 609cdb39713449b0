"""The view's count says "counting…" until the whole layout is in: never the tiles loaded so far (0, then
the first page's 120, for a view of thousands; once it stayed at 120)."""

from __future__ import annotations

import pytest
from ui_support import expect, photos_server, signed_in_page


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photos_server(tmp_path_factory, 130, size=(48, 32), seed=200, name="c{n:03}.png") as live:
        yield live


def test_the_count_is_never_the_tiles_loaded_so_far(browser, server):
    with signed_in_page(browser, server) as page:
        held = []  # the layout's request, answered when the test says (as on a slow machine at 100k)
        page.route("**/api/v1/pictures/layout*", lambda route: held.append(route))
        page.goto("/?rating_min=0")  # another view: its layout is asked for again
        page.wait_for_function("() => document.querySelectorAll('.tile:not([hidden]) img').length >= 10")  # first page
        assert held
        expect(page.locator("#count")).to_have_text("counting…")  # the first page is on screen, not counted
        for route in held:
            route.continue_()
        page.unroute("**/api/v1/pictures/layout*")
        expect(page.locator("#count")).to_have_text("130 pictures")
