"""What the fourth walk through the UI found, each as a person meets it in a real Chromium on a library with
no plugins (so no embedder, face engine or text reader; the built-in quality scorer only): every engine
kind is in a picture's menu, and scoring starts from it; "Find similar" and the Meaning mode say why they
cannot run; Settings does not tick "on import" for engines that are not there; Esc in the tag box keeps
what was typed; the history says what an edit in the viewer changed; a merge of characters can be undone
from its toast."""

from __future__ import annotations

import io

import numpy as np
import pytest
from corpus import mp4, solid
from PIL import Image
from test_ui_sizes import check
from test_web_enrichment import wait_for_jobs
from ui_library import tile
from ui_support import expect, library_server, photos_server, screenshot, signed_in_page


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photos_server(tmp_path_factory, 4, name="walk-{n}.jpg") as live:
        live.ids = sorted(pid for (pid,) in live.library.db.query("SELECT id FROM pictures"))
        yield live


def open_menu(page, picture_id):
    box = tile(page, picture_id).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, button="right")
    menu = page.locator("#menu")
    expect(menu).to_be_visible()
    return menu


def test_every_engine_kind_is_in_the_menu_and_scoring_starts_from_it(browser, server):
    first = server.ids[0]
    with signed_in_page(browser, server) as page:
        menu = open_menu(page, first)
        for label in ("Re-tag with", "Describe with", "Embed with", "Find faces with", "Score with", "Read text with"):
            expect(menu.get_by_role("menuitem", name=f"{label} ›")).to_be_visible()
        menu.get_by_role("menuitem", name="Read text with ›").click()
        expect(menu.get_by_role("menuitem", name="No text reader installed (see Settings › Engines)")).to_be_visible()
        page.keyboard.press("Escape")
        menu = open_menu(page, first)
        menu.get_by_role("menuitem", name="Score with ›").click()
        screenshot(page, "menu-score-with")
        menu.get_by_role("menuitem", name="Quality…", exact=True).click()
        page.locator(".engine-form").get_by_role("button", name="Run").click()  # its own controls first
        expect(page.locator("#toast")).to_contain_text("Queued 1 for Quality")
        wait_for_jobs(server.client(server.token("read")))
        assert server.library.db.query(
            "SELECT picture_id FROM picture_scores WHERE engine_id = 'pixlstash/quality'"
        ) == [(first,)]


def test_find_similar_without_an_embedder_says_why_in_the_view(browser, server):
    with signed_in_page(browser, server) as page:
        page.expected_errors = ["404"]  # the refused search, whose reason the view shows
        mode = page.get_by_label("Search by")
        meaning = mode.locator("option[value='meaning']")
        expect(meaning).to_be_disabled()
        expect(meaning).to_have_text("Meaning (unavailable)")
        assert "no embedder that reads words" in meaning.get_attribute("title")
        tile(page, server.ids[1]).click(modifiers=["Control"])
        expect(page.locator("#selection-bar")).to_contain_text("1 selected")
        menu = open_menu(page, server.ids[1])
        menu.get_by_role("menuitem", name="Find similar pictures").click()
        empty = page.locator("#empty")
        expect(empty).to_be_visible()
        expect(empty).to_contain_text("embedder")  # the reason, where the pictures would be
        expect(empty).not_to_contain_text("Nothing found")
        expect(page.locator("#selection-bar")).to_be_hidden()
        screenshot(page, "similar-without-embedder")


def test_settings_do_not_tick_on_import_for_engines_that_are_not_installed(browser, server):
    with signed_in_page(browser, server) as page:
        page.get_by_role("button", name="Settings").click()
        panel = page.locator("#panel")
        panel.get_by_role("tab", name="Engines").click()
        for task in ("embedder", "faces", "tagger"):
            box = panel.locator(f"input[name='import-{task}']")
            expect(box).not_to_be_checked()
            expect(box).to_be_disabled()
            expect(box.locator("xpath=..")).to_contain_text("on import (none installed)")
        screenshot(page, "settings-on-import-none-installed")
        # A change saved here keeps the tasks the library runs on import once their engine is installed.
        panel.get_by_label("Device").select_option("cpu")
        expect(panel.locator("#engine-saved")).to_contain_text("Saved")
        assert {"embedder", "tagger", "faces"} <= set(server.library.engines.settings().on_import)


def test_esc_in_the_tag_box_keeps_the_text_and_the_history_says_what_changed(browser, server):
    picture = server.ids[2]
    with signed_in_page(browser, server) as page:
        page.goto(f"/?picture={picture}")
        page.wait_for_selector("body[data-ready='1']")  # start-up draws it again when its loads are in
        box = page.get_by_label("Add tag")
        box.click()
        box.type("dusk")
        page.keyboard.press("Escape")  # leaves the field; the viewer and the text stay
        expect(page.locator("#overlay")).to_be_visible()
        expect(box).not_to_be_focused()
        expect(box).to_have_value("dusk")
        box.press("Enter")
        expect(page.locator("#tags")).to_contain_text("dusk")
        page.keyboard.press("Escape")  # nothing typed and unsent now: the viewer closes
        expect(page.locator("#overlay")).to_be_hidden()
        page.get_by_role("button", name="History").click()
        steps = page.get_by_role("list", name="Steps, newest first")
        expect(steps.locator("li").first).to_contain_text(f"Tag dusk on picture {picture}")


def test_a_merge_of_characters_is_undone_from_its_toast(browser, server):
    client = server.client(server.token("write"))
    hero = client.post("/api/v1/characters", json={"name": "Hero"}).json()
    twin = client.post("/api/v1/characters", json={"name": "Twin"}).json()
    client.post(f"/api/v1/characters/{twin['id']}/pictures", json={"ids": [server.ids[3]]})
    with signed_in_page(browser, server) as page:
        page.expected_errors = ["400"]  # suggestions for characters without faces: the panel says why
        page.locator("#sidebar .side-item", has_text="Twin").click(button="right")
        page.get_by_text("Faces and suggestions…").click()
        panel = page.locator("#panel")
        panel.get_by_label("Merge into").select_option(label="Hero")
        panel.get_by_role("button", name="Merge Twin into it").click()
        page.locator(".dialog").get_by_role("button", name="Merge").click()
        toast = page.locator("#toast")
        expect(toast).to_contain_text("Merged into Hero")
        screenshot(page, "merge-toast")
        toast.get_by_role("button", name="Undo").click()
        expect(toast).to_contain_text("Undone: Merge Twin into Hero")
        names = {c["name"]: c for c in client.get("/api/v1/characters").json()}
        assert set(names) == {"Hero", "Twin"}
        assert client.get(f"/api/v1/characters/{hero['id']}").json()["member_count"] == 0
        assert names["Twin"]["member_count"] == 1


@pytest.fixture(scope="module")
def badges_server(tmp_path_factory):
    """A white and a black picture and video, each picture rated, a favourite, with a face and a suggestion."""
    from pixlstash.db.vectors import FaceRow
    from pixlstash.system.clock import now_ms

    folder = tmp_path_factory.mktemp("extremes")
    for name, colour in (("white", (255, 255, 255)), ("black", (0, 0, 0))):
        solid(400, 300, colour).save(folder / f"{name}.png")
        mp4(folder / f"{name}-video.mp4", frames=12, colour=colour)
    with library_server(tmp_path_factory.mktemp("library"), folder, 4) as live:
        library = live.library
        pictures = [
            pid for pid, name in library.db.query("SELECT id, original_name FROM pictures") if "video" not in name
        ]
        library.edits.set_fields(pictures, rating=3, favourite=True)
        with library.db.write():
            for pid in pictures:
                library.tags.set_predictions(pid, "test/tagger", "1", [(library.tags.ensure("sky"), 0.9)])
                library.vectors.replace_faces(
                    pid, "test/faces", "1", [FaceRow((10, 10, 90, 90), 0.9, [], None)], now_ms()
                )
        yield live


def contrast(png: bytes) -> float:
    """The WCAG contrast ratio between the lightest and the darkest pixel of a badge's screenshot: its text
    against what is right behind it."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64) / 255
    linear = np.where(pixels <= 0.04045, pixels / 12.92, ((pixels + 0.055) / 1.055) ** 2.4)
    luminance = linear @ [0.2126, 0.7152, 0.0722]
    return (luminance.max() + 0.05) / (luminance.min() + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_badges_on_tiles_read_on_a_white_and_a_black_picture(browser, badges_server, theme):
    with signed_in_page(browser, badges_server, color_scheme=theme) as page:
        page.wait_for_function("() => document.querySelectorAll('.tile .meta .faces').length === 2")
        expect(page.locator(".tile .meta .video")).to_have_count(2)
        screenshot(page, f"badges-{theme}")
        kinds = {"stars": 2, "fav": 2, "faces": 2, "suggested": 2, "video": 2}
        for kind, count in kinds.items():
            badges = page.locator(f".tile .meta .{kind}")
            expect(badges).to_have_count(count)
            for i in range(count):
                ratio = contrast(badges.nth(i).screenshot())
                assert ratio >= 4.5, f"{kind} badge {i}: {ratio:.2f}:1 in the {theme} theme"


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    solid(112, 80, (230, 20, 20)).save(folder / "icon.png")
    with library_server(tmp_path_factory.mktemp("library"), folder, 1) as live:
        ((live.picture,),) = live.library.db.query("SELECT id FROM pictures")
        yield live


def red_box(png: bytes) -> tuple[int, int]:
    """Width and height of the red picture as drawn in a screenshot of the stage."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    red = (pixels[..., 0] > 180) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
    rows, columns = np.flatnonzero(red.any(axis=1)), np.flatnonzero(red.any(axis=0))
    return int(columns[-1] - columns[0] + 1), int(rows[-1] - rows[0] + 1)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_small_picture_is_shown_at_twice_its_size_until_fit_is_asked_for(browser, tiny_server, size):
    phone = size == "phone"
    options = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True} if phone else {}
    with signed_in_page(browser, tiny_server, **options) as page:
        page.goto(f"/?picture={tiny_server.picture}")
        page.wait_for_selector("body[data-ready='1']")  # start-up draws it again when its loads are in
        stage = page.locator("#stage")
        page.wait_for_function("() => document.querySelector('#full')?.complete")
        width, height = red_box(stage.screenshot())
        assert (width, height) == (pytest.approx(224, abs=2), pytest.approx(160, abs=2))
        fit = page.get_by_role("button", name="Fit", exact=True)
        expect(fit).to_have_attribute("aria-pressed", "false")
        fit.click()
        expect(fit).to_have_attribute("aria-pressed", "true")
        box = stage.bounding_box()
        width, height = red_box(stage.screenshot())
        assert width == pytest.approx(box["width"], abs=2) or height == pytest.approx(box["height"], abs=2)
        check(page, phone, f"small-picture-fit-{size}")  # the viewer's bar, Fit included, fits the screen
