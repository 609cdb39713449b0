"""The library the browser tests of test_ui.py and test_ui_panels.py share: 20 pictures imported and enriched
by the fake engines behind a real server, made once a module and copied for each test."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_of_library
from corpus import photo, solid
from test_enrichment import PALETTE
from test_web_enrichment import wait_for_jobs
from ui_support import OWNER, PASSWORD, signed_in_page

from pixlstash.library import Library
from pixlstash.plugins import make_plugin_manager
from pixlstash.testing import FakeEnginesPlugin

COLOURS = ("red", "green", "blue", "yellow", "magenta", "cyan", "white", "black")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The library every test of the module starts from, made once: 20 pictures imported and enriched by the
    fake engines behind a real server, and the owner's account. Each test gets a copy of the folder."""
    root, folder = tmp_path_factory.mktemp("template") / "library", tmp_path_factory.mktemp("pictures")
    for n, name in enumerate(COLOURS):
        solid(200 + 10 * n, 150, PALETTE[name]).save(folder / f"{name}.png")
    for n in range(12):
        photo(320, 200 + 10 * n, seed=n).save(folder / f"photo-{n:02d}.jpg")
    from live_server import LiveServer

    with Library.open(root, plugin_manager=_with_fake_engines()) as library, LiveServer(library) as live:
        library.import_paths([folder])
        live.state.auth.create_user(OWNER, PASSWORD)
        wait_for_jobs(live.client(live.token("admin")))
    return root


def _with_fake_engines():
    engines = make_plugin_manager(load_entry_points=False)
    engines.register(FakeEnginesPlugin(), name="fake-engines")
    return engines


@pytest.fixture
def server(template, tmp_path):
    from live_server import LiveServer

    with copy_of_library(template, tmp_path / "library", _with_fake_engines()) as library, LiveServer(library) as live:
        yield live


@pytest.fixture
def page(browser, server):
    with signed_in_page(browser, server) as page:
        yield page


def ids_by_name(server) -> dict[str, int]:
    rows = server.library.db.query("SELECT id, original_name FROM pictures")
    return {name.rsplit(".", 1)[0]: pid for pid, name in rows}


def open_filters(page):
    """The toolbar's Filters panel, open (it stays open as filters change)."""
    if page.locator(".filters").get_attribute("open") is None:
        page.locator(".filters summary").click()
    return page.locator(".filters-panel")


def tile(page, picture_id):
    """The picture's tile, scrolled into view first (the grid only renders what is near the viewport)."""
    page.evaluate(
        "id => { const g = window.pixlstash.app.grid; const i = g.indexOf.get(id);"
        " if (i !== undefined) g.scrollToIndex(i, 'nearest'); }",
        picture_id,
    )
    return page.locator(f".tile[data-id='{picture_id}']:visible")
