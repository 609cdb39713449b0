"""JoyCaption in the browser: "Describe with › JoyCaption" opens the engine's own controls (caption type,
length, extra options, generation settings), the caption arrives as a suggestion, and "Use this caption"
makes it the picture's caption. Real Chromium, real server, the tiny LLaVA model; desktop and phone."""

from __future__ import annotations

import pytest
from corpus import photo
from tiny_joycaption import build_tiny_joycaption

playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("transformers")
expect = playwright_api.expect

OWNER, PASSWORD = "owner", "correct horse battery"


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 800}])
def test_describe_with_joycaptions_controls_and_accept_the_caption(tmp_path, monkeypatch, viewport):
    import pixlstash_joycaption
    from live_server import LiveServer
    from test_ui import sign_in, tile
    from test_web_enrichment import wait_for_jobs
    from ui_support import PageWatcher, launch, screenshot

    from pixlstash import make_plugin_manager
    from pixlstash.domain import EnrichmentSettings
    from pixlstash.library import Library

    build_tiny_joycaption(tmp_path / "models" / "joycaption" / "tiny")
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_joycaption, name="joycaption")
    folder = tmp_path / "pictures"
    folder.mkdir()
    for n in range(3):
        photo(320, 200 + 20 * n, seed=n).save(folder / f"photo-{n}.jpg")
    phone = viewport["width"] < 600
    with Library.open(tmp_path / "lib", plugin_manager=pm) as library:
        library.engines.configure(EnrichmentSettings(on_import=[]))
        ids = [p.picture_id for p in library.import_paths([folder]).imported]
        with LiveServer(library) as live, playwright_api.sync_playwright() as p:
            live.state.auth.create_user(OWNER, PASSWORD)
            browser = launch(p)
            page = browser.new_page(base_url=live.url, viewport=viewport, is_mobile=phone)
            watcher = PageWatcher(page)
            sign_in(page)

            tile(page, ids[0]).click(button="right")
            menu = page.locator("#menu")
            menu.get_by_role("menuitem", name="Describe with ›").click()
            menu.get_by_role("menuitem", name="JoyCaption tiny…").click()
            dialog = page.locator(".engine-form")
            expect(dialog.locator("#param-caption_type")).to_have_value("Descriptive")
            dialog.locator("#param-caption_type").select_option("Straightforward")
            dialog.locator("#param-caption_length").select_option("short")
            dialog.get_by_label("lighting", exact=True).check()
            dialog.get_by_label("greedy").check()
            dialog.locator("#param-max_new_tokens").fill("6")
            screenshot(page, f"joycaption-dialog{'-phone' if phone else ''}")
            dialog.get_by_role("button", name="Run").click()
            expect(page.locator("#toast")).to_contain_text("Queued 1 for JoyCaption tiny")
            wait_for_jobs(live.client(live.token("read")), timeout=120)
            [suggested] = library.get(ids[0]).captions
            assert suggested.source == "joycaption/tiny" and suggested.text
            assert suggested.parameters["caption_type"] == "Straightforward"
            assert suggested.parameters["extra_options"] == ["lighting"] and suggested.parameters["greedy"] is True

            page.keyboard.press("Escape")
            tile(page, ids[0]).dblclick()
            overlay = page.locator("#overlay")
            expect(overlay).to_contain_text("joycaption/tiny · Straightforward")
            overlay.get_by_role("button", name="Use the caption from joycaption/tiny").click()
            expect(page.locator("#caption")).to_have_value(suggested.text)
            screenshot(page, f"joycaption-accepted{'-phone' if phone else ''}")
            assert library.get(ids[0]).captions[0].source == "user"

            # The same engine remembers the controls chosen last time.
            page.keyboard.press("Escape")
            tile(page, ids[1]).click(button="right")
            menu.get_by_role("menuitem", name="Describe with ›").click()
            menu.get_by_role("menuitem", name="JoyCaption tiny…").click()
            expect(dialog.locator("#param-caption_type")).to_have_value("Straightforward")
            dialog.get_by_role("button", name="Cancel").click()
            assert watcher.clean() == []
            browser.close()
