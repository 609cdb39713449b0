"""ComfyUI and stacks in the browser, as a person uses them (real Chromium, a real server, the session's real
ComfyUI): link a ComfyUI in the settings, remix a picture from its menu, follow the run in the task panel,
see the result stacked under the source (one tile with a count), open the stack, and keep its cover."""

from __future__ import annotations

import pytest
from test_comfy_runs import NOISE, made_by_comfyui
from test_ui_curation import wait_until
from ui_library import tile
from ui_support import OWNER, PASSWORD, screenshot, signed_in_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def server(live, comfyui, tmp_path):
    made = tmp_path / "ComfyUI_00001_.png"
    made.write_bytes(made_by_comfyui(comfyui, NOISE))
    source = live.library.import_paths([made]).imported[0].picture_id
    live.state.auth.create_user(OWNER, PASSWORD)
    return live, source


@pytest.mark.parametrize("viewport", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_link_remix_follow_and_open_the_stack_in_the_browser(browser, server, comfyui, viewport):
    live, source = server
    width, height = viewport
    touch = width < 500
    with signed_in_page(browser, live, viewport={"width": width, "height": height}, has_touch=touch) as page:
        page.get_by_role("button", name="Settings").click()
        page.get_by_role("tab", name="ComfyUI").click()
        page.get_by_label("ComfyUI address").fill(comfyui.url)
        page.get_by_role("button", name="Link", exact=True).click()
        page.get_by_text("linked; its PixlStash nodes now reach").wait_for()
        page.get_by_label("Linked ComfyUIs").get_by_text(comfyui.url).wait_for()
        page.keyboard.press("Escape")
        # The picture's menu: Remix in ComfyUI, with a pinned seed typed in.
        box = tile(page, source).bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, button="right")
        page.get_by_text("Remix in ComfyUI…").click()
        page.get_by_label("Seed (empty: a new random one").fill("9")
        page.get_by_role("button", name="Remix", exact=True).click()
        runs = page.locator("#comfy-runs")
        runs.get_by_text("done").wait_for(timeout=180_000)
        assert runs.get_by_text("1 picture(s) filed").is_visible()
        screenshot(page, f"comfy-run-done-{width}")
        page.locator("#panel").get_by_role("button", name="Close").click()
        # One tile for the stack, with its count, fully inside the tile.
        wait_until(page, "document.querySelector('.tile .stack-open') !== null", 60)
        tiles = page.locator(".tile:visible")
        assert tiles.count() == 1
        # Measured in one step: the tile is redecorated when its badges arrive, replacing the button.
        shown = page.evaluate(
            """() => { const b = document.querySelector('.tile:not([hidden]) .stack-open');
            const box = (e) => { const r = e.getBoundingClientRect();
              return {x: r.x, width: r.width, height: r.height}; };
            return {badge: box(b), cell: box(b.closest('.tile')), text: b.textContent}; }"""
        )
        badge, cell = shown["badge"], shown["cell"]
        assert shown["text"] == "2"
        assert cell["x"] <= badge["x"] and badge["x"] + badge["width"] <= cell["x"] + cell["width"] + 0.5
        assert badge["height"] >= 24 and badge["width"] >= 24  # big enough to tap
        page.locator(".tile:visible .stack-open").click()
        wait_until(page, "document.querySelectorAll('.tile:not([hidden]) img').length === 2", 60)
        assert (
            "stack=" in page.url and page.locator(".tile:visible .stack-open").count() == 0
        )  # no count inside the stack
        closer = page.get_by_role("button", name="Remove filter stack")  # says where one is, on a phone too
        closer.wait_for()
        chip = closer.bounding_box()
        assert chip and chip["x"] >= 0 and chip["x"] + chip["width"] <= width, chip
        screenshot(page, f"comfy-stack-open-{width}")
        closer.click()
        wait_until(page, "document.querySelectorAll('.tile:not([hidden]) img').length === 1", 60)
        # An action on the stack's tile is an action on the whole stack.
        members = live.library.stacks.get(live.library.stacks.store.stacks_of([source])[source]).member_ids
        tile(page, source).locator(".check").click()
        if width > 1000:
            page.get_by_role("button", name="Rate 5 stars").click()
        else:  # a phone's selection bar keeps rating under More…
            page.get_by_role("button", name="More actions").click()
            page.get_by_role("menuitem", name="Rate").click()
            page.get_by_role("menuitem", name="★★★★★", exact=True).click()
        page.get_by_text("Rated 2 pictures").wait_for()
        assert [live.library.get(i).rating for i in members] == [5, 5]
        page.get_by_role("button", name="Clear selection").click()
        box = tile(page, source).bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, button="right")
        page.get_by_text("Keep the cover, scrap the rest").click()
        page.get_by_text("Kept the cover; the rest is in the scrapheap").wait_for()
        assert live.library.count() == 1


def test_linking_a_comfyui_without_the_nodes_says_how_to_install_them(browser, server, comfyui_without_pack):
    live, _ = server
    with signed_in_page(browser, live, viewport={"width": 1440, "height": 900}) as page:
        page.get_by_role("button", name="Settings").click()
        page.get_by_role("tab", name="ComfyUI").click()
        page.get_by_label("ComfyUI address").fill(comfyui_without_pack.url)
        page.get_by_role("button", name="Link", exact=True).click()
        toast = page.locator("#toast")
        toast.get_by_text("custom_nodes").wait_for()
        said = toast.inner_text()
        assert "PixlStash nodes are not installed" in said and "restart ComfyUI" in said, said
        assert "<" not in said and "html" not in said.lower(), said  # never ComfyUI's own error page
        page.get_by_label("Linked ComfyUIs").get_by_text(comfyui_without_pack.url).wait_for()
        screenshot(page, "comfy-link-without-nodes")
