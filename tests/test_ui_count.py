"""The view's count says "counting…" until the whole layout is in: never the tiles loaded so far (0, then
the first page's 120, for a view of thousands; once it stayed at 120)."""

from __future__ import annotations

import pytest
from corpus import photo
from ui_support import (
    browser,  # noqa: F401 - the module-scoped browser fixture
    library_server,
    signed_in_page,
)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    for n in range(130):
        photo(48, 32, seed=200 + n).save(folder / f"c{n:03}.png")
    with library_server(tmp_path_factory.mktemp("library"), folder, 130) as live:
        yield live


def test_the_count_is_never_the_tiles_loaded_so_far(browser, server):  # noqa: F811
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
