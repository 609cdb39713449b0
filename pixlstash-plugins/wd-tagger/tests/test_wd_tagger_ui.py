"""The WD tagger in the browser: tag a selection with the engine chosen in the menu, see its suggestions
with confidences, accept one by dragging it onto the tags, make a character tag a character, and read
the confidences in the statistics panel. Real Chromium, real server, the tiny WD model."""

from __future__ import annotations

import re

import pytest
from corpus import photo
from tiny_wd import build_tiny_wd

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

OWNER, PASSWORD = "owner", "correct horse battery"


def test_tagging_suggestions_characters_and_confidences_in_the_browser(tmp_path, monkeypatch):
    import pixlstash_wd_tagger
    from live_server import LiveServer
    from test_ui import sign_in, tile
    from test_web_enrichment import wait_for_jobs
    from ui_support import PageWatcher, launch, screenshot

    from pixlstash import make_plugin_manager
    from pixlstash.domain import EnrichmentSettings
    from pixlstash.library import Library

    models = tmp_path / "models"
    build_tiny_wd(models / "wd-tagger" / "tiny-wd", sure=("hatsune_miku", "long_hair"))
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(models))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_wd_tagger, name="wd-tagger")
    folder = tmp_path / "pictures"
    folder.mkdir()
    for n in range(6):
        photo(320, 200 + 20 * n, seed=n).save(folder / f"photo-{n}.jpg")
    with Library.open(tmp_path / "lib", plugin_manager=pm) as library:
        library.engines.configure(EnrichmentSettings(on_import=[]))
        ids = [p.picture_id for p in library.import_paths([folder]).imported]
        with LiveServer(library) as live, playwright_api.sync_playwright() as p:
            live.state.auth.create_user(OWNER, PASSWORD)
            browser = launch(p)
            page = browser.new_page(base_url=live.url, viewport={"width": 1280, "height": 800})
            watcher = PageWatcher(page)
            sign_in(page)

            tile(page, ids[0]).click(button="right")
            menu = page.locator("#menu")
            menu.get_by_role("menuitem", name="Re-tag with ›").click()
            menu.get_by_role("menuitem", name="WD tiny-wd").click()
            dialog = page.locator(".engine-form")  # the engine's own controls, defaults filled in
            expect(dialog.locator("#param-general_threshold")).to_have_value("0.35")
            dialog.get_by_role("button", name="Run").click()
            expect(page.locator("#toast")).to_contain_text("Queued 1 for WD tiny-wd")
            wait_for_jobs(live.client(live.token("read")), timeout=60)

            tile(page, ids[0]).dblclick()
            overlay = page.locator("#overlay")
            suggestions = overlay.locator("#predictions")
            expect(suggestions).to_contain_text("long hair")
            expect(suggestions).to_contain_text(re.compile(r"\d+%"))
            screenshot(page, "wd-tagger-suggestions")
            suggestions.locator("[data-prediction='long hair']").drag_to(overlay.locator("#tags"))
            expect(overlay.locator("#tags")).to_contain_text("long hair")
            assert "long hair" in {t.name for t in library.get(ids[0]).tags}
            # Dragging a suggestion onto the bin (shown while dragging) rejects it; a tag there is removed.
            suggestions.locator("[data-prediction='smile']").hover()
            page.mouse.down()
            page.mouse.move(1000, 300, steps=4)  # the drag starts, and the bin appears
            overlay.locator("#drop-bin").hover()
            page.mouse.up()
            expect(page.locator("#toast")).to_contain_text("Rejected smile")
            rejected = {x.name for x in library.get(ids[0]).predictions if x.state == "rejected"}
            assert rejected == {"smile"}
            overlay.locator("#tags [data-tag='long hair']").hover()
            page.mouse.down()
            page.mouse.move(1000, 300, steps=4)
            overlay.locator("#drop-bin").hover()
            page.mouse.up()
            expect(page.locator("#toast")).to_contain_text("Removed long hair")
            assert "long hair" not in {t.name for t in library.get(ids[0]).tags}

            overlay.get_by_role("button", name="Make hatsune miku a character").click()
            expect(page.locator("#toast")).to_contain_text("Filed under hatsune miku")
            [character] = library.collections.collections("character")
            assert character.name == "hatsune miku" and character.member_count == 1
            page.keyboard.press("Escape")

            page.get_by_role("button", name="Statistics").click()
            histogram = page.locator("#tag-bars .confidence[role='img']").first
            expect(histogram).to_have_attribute("aria-label", re.compile(r"confidence 90-100%: 1"))
            screenshot(page, "wd-tagger-statistics")
            assert watcher.clean() == []
            browser.close()
