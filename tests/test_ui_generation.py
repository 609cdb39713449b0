"""The viewer's Generation section (issue 63): the generator by the name it goes by, and a Flux picture's
CFG and guidance on rows of their own."""

from __future__ import annotations

import pytest
from test_generators_forks import FORGE, _png
from test_ui import browser  # noqa: F401 - the module-scoped browser fixture
from ui_support import library_server, screenshot, signed_in_page

expect = pytest.importorskip("playwright.sync_api").expect

PAIRS = "dl => [...dl.querySelectorAll('dt')].map(dt => [dt.textContent, dt.nextElementSibling.textContent])"


def test_the_viewer_names_the_generator_and_shows_cfg_and_guidance_apart(browser, tmp_path):  # noqa: F811
    """Forge's Flux picture in the viewer: "Generation (Forge)", CFG 1 and Guidance 3.5 on their own rows,
    the scheduler, at desktop and phone sizes."""
    folder = tmp_path / "in"
    folder.mkdir()
    _png(folder / "forge.png", FORGE, 1)
    with library_server(tmp_path / "library", folder, 1) as live:
        [picture_id] = [pid for (pid,) in live.library.db.query("SELECT id FROM pictures")]
        for size, viewport in (("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})):
            with signed_in_page(browser, live, viewport=viewport) as page:
                page.locator(f".tile[data-id='{picture_id}']").click()
                section = page.locator("#overlay .info")
                expect(section.locator("h3", has_text="Generation")).to_have_text("Generation (Forge)")
                rows = section.locator("dl.kv").filter(has_text="Guidance")
                pairs = rows.evaluate(PAIRS)
                assert ["CFG", "1"] in pairs and ["Guidance", "3.5"] in pairs and ["Scheduler", "Simple"] in pairs
                section.locator("h3", has_text="Generation").scroll_into_view_if_needed()
                screenshot(page, f"generation-forge-{size}")
