"""The node pack in ComfyUI's own frontend, in headless Chromium against the session's real ComfyUI:
its templates are listed, have thumbnails and open with every node known and no error, and each queues
exactly the API workflow kept beside it; the settings page stores a connection with the token masked."""

from __future__ import annotations

import json

import pytest
from comfy_frontend import open_comfy
from PIL import Image
from real_comfyui import PACK
from ui_support import screenshot

pytestmark = [pytest.mark.slow, pytest.mark.browser]
TEMPLATES = sorted(p.stem for p in (PACK / "example_workflows").glob("*.json"))


@pytest.fixture
def editor(comfyui):
    from playwright.sync_api import sync_playwright

    Image.new("RGB", (64, 64), (90, 90, 90)).save(comfyui.base / "input" / "example.png")  # as ComfyUI ships
    with sync_playwright() as playwright:
        browser, page = open_comfy(playwright, comfyui)
        yield page
        browser.close()


def test_the_templates_are_listed_with_thumbnails_and_open_cleanly(comfyui, editor):
    listed = comfyui.get("/workflow_templates").json()
    assert list(listed) == ["comfyui-pixlstash"] and sorted(listed["comfyui-pixlstash"]) == TEMPLATES
    assert sorted(p.stem for p in (PACK / "api_workflows").glob("*.json")) == TEMPLATES
    for name in TEMPLATES:
        thumbnail = comfyui.get(f"/api/workflow_templates/comfyui-pixlstash/{name}.jpg")
        assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
        workflow = json.loads((PACK / "example_workflows" / f"{name}.json").read_text())
        assert workflow["version"] == 0.4 and workflow["nodes"] and workflow["links"]
        opened = editor.load_template(name)
        assert opened["missing"] == [], name
        assert opened["prompt"] == json.loads((PACK / "api_workflows" / f"{name}.json").read_text()), name
    assert editor.problems == [] and editor.toasts() == []
    # The template browser, as a person opens it: the pack's section, a card with its picture per template.
    editor.command("Comfy.BrowseTemplates")
    editor.page.get_by_role("button", name="comfyui-pixlstash").or_(
        editor.page.get_by_text("comfyui-pixlstash", exact=True)
    ).first.click()
    cards = editor.page.locator("[data-testid^='template-workflow-']")
    cards.first.wait_for()
    assert cards.count() == len(TEMPLATES)
    editor.page.wait_for_function(
        "[...document.querySelectorAll(\"[data-testid^='template-workflow-'] img\")]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    screenshot(editor.page, "comfyui-templates")
    assert editor.problems == []


def test_the_settings_page_stores_the_connection_and_shows_the_token_masked(comfyui, editor, live):
    token = live.token("write")
    editor.command("Comfy.ShowSettingsDialog")
    editor.page.get_by_role("option", name="PixlStash").or_(
        editor.page.get_by_text("PixlStash", exact=True)
    ).first.click()
    status = editor.page.locator(".pixlstash-status")
    status.wait_for()
    url, secret = editor.page.locator("#pixlstash-url"), editor.page.locator("#pixlstash-token")
    assert secret.get_attribute("type") == "password"
    url.fill(live.url)
    secret.fill(token)
    editor.page.get_by_role("button", name="Save and check").click()
    editor.page.wait_for_function("document.querySelector('.pixlstash-status').textContent.includes('Connected')")
    stored = comfyui.base / "user" / "pixlstash" / "connection.json"
    assert status.text_content() == (
        f"Connected: the server takes this write token. Server {live.url} with token …{token[-4:]}, from {stored}."
    )
    assert token not in editor.page.content() and secret.input_value() == ""
    screenshot(editor.page, "comfyui-settings-pixlstash")
    assert token not in comfyui.get("/settings").text
    assert editor.problems == []
