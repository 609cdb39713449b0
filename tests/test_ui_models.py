"""AI onboarding in the browser (issue 32, item 5): with an engine whose model is missing, the picture menu
still lists the engine kind and says the model is missing; "Find similar" answers in the grid with the
reason and a "Get model" button (no "Nothing found", no vanishing toast); Get model downloads it in the
background with progress, from a loopback server here, and the engine then runs. Settings says on-import
work waits for the model."""

from __future__ import annotations

from corpus import photo
from test_web_enrichment import wait_for_jobs
from test_web_model_pulls import MODEL_BYTES, FetchedModel, SlowModelServer, register_engine
from ui_support import OWNER, PASSWORD, expect, screenshot, signed_in_page


def test_a_missing_model_is_named_where_it_is_needed_and_got_with_progress(
    browser,
    library,
    plugin_manager,
    tmp_path,
    monkeypatch,
):
    from live_server import LiveServer

    model_server = SlowModelServer()
    model_server.thread.start()
    host, port = model_server.server_address
    monkeypatch.setenv("HF_ENDPOINT", f"http://{host}:{port}")
    engine = FetchedModel(tmp_path / "models" / "fetched", f"http://{host}:{port}/model.bin")

    register_engine(plugin_manager, engine)
    folder = tmp_path / "pictures"
    folder.mkdir()
    for n in range(3):
        photo(200, 150, seed=n).save(folder / f"p{n}.jpg")
    library.import_paths([folder])
    first = library.db.scalar("SELECT min(id) FROM pictures")
    try:
        with LiveServer(library) as live:
            live.state.auth.create_user(OWNER, PASSWORD)
            with signed_in_page(browser, live) as page:
                page.expected_errors.append("409")  # the search refused for want of a model
                tile = page.locator(f".tile[data-id='{first}']")
                tile.click(button="right")
                page.get_by_role("menuitem", name="Embed with").click()
                expect(page.get_by_role("menuitem", name="fetched/model: model missing, get it…")).to_be_visible()
                page.keyboard.press("Escape")
                tile.click(button="right")
                page.get_by_role("menuitem", name="Find similar pictures").click()
                empty = page.locator("#empty")
                expect(empty).to_contain_text("not on this machine")
                expect(page.locator("#toast")).to_be_hidden()
                screenshot(page, "model-missing-search")
                empty.get_by_role("button", name="Get model…").click()
                dialog = page.locator(".dialog")
                expect(dialog).to_contain_text("pixlstash models pull fetched/model")
                dialog.get_by_role("button", name="Get model").click()
                expect(dialog.locator(".pull-progress")).to_contain_text("MB so far")
                expect(page.locator("#toast")).to_contain_text("is ready", timeout=15_000)
                assert (tmp_path / "models" / "fetched" / "model.bin").stat().st_size == MODEL_BYTES
                # The pictures imported before the model came are embedded now; the search then finds them.
                wait_for_jobs(live.client(live.token("admin")))
                assert library.db.scalar("SELECT count(*) FROM embeddings WHERE engine_id = 'fetched/model'") == 3
                page.goto("/")
                page.wait_for_selector("body[data-ready='1']")
                tile.click(button="right")
                page.get_by_role("menuitem", name="Find similar pictures").click()
                expect(page.locator(".tile:visible")).to_have_count(2)  # the other two, by likeness
                page.get_by_role("button", name="Settings").click()
                expect(page.locator("#engine-settings")).not_to_contain_text("waits for its model")
    finally:
        model_server.shutdown()
        model_server.server_close()
