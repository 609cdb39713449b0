"""The Insights and Dataset panels in the browser (issue 64), on a library imported from renders that carry
A1111 parameters and from photos of a character's sizes: the keep rates and their findings, a finding
filtering the grid, a chart's table, the dataset check's findings showing their pictures, the bucket bars,
and the near-duplicates fix as one undo step; at desktop and phone sizes, in both themes, axe-clean."""

from __future__ import annotations

import re

import numpy as np
import pytest
from corpus import photo
from test_insights import _render
from test_scores import degraded
from test_ui_accessibility import serious
from ui_support import expect, library_server, screenshot, signed_in_page, wait_for_the_list

from pixlstash import hookimpl
from pixlstash.db.vectors import FaceRow

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """60 renders (20 with film_grain, 16 of them rated 5; 40 without, 4 rated 5) at 20, 25 or 30 steps;
    and Alice, a character of nine photos of training sizes, one a near copy of another."""
    folder = tmp_path_factory.mktemp("pictures")
    for n in range(60):
        _render(folder / f"r{n:02}.png", n, "film_grain:0.7" if n < 20 else None, "Euler a", f"model{n % 2}")
    sizes = [(1216, 832)] * 4 + [(832, 1216)] * 2 + [(1024, 1024), (600, 400)]
    for n, (width, height) in enumerate(sizes):
        photo(width, height, seed=900 + n).save(folder / f"alice{n}.png")
    photo(1216, 832, seed=900).resize((1200, 821)).save(folder / "alice0-again.png")
    for n in range(4):
        photo(1216, 832, seed=950 + n).save(folder / f"bob{n}.png")
    photo(3000, 150, seed=960).save(folder / "bob-wide.png")  # 20:1, past the widest bucket (2048x256, 8:1)
    degraded(9)["dark"].save(folder / "bob-dark.png")
    with library_server(tmp_path_factory.mktemp("library"), folder, 75) as live:
        library = live.library
        ids = {name: pid for pid, name in library.db.query("SELECT id, original_name FROM pictures")}
        renders = [ids[f"r{n:02}.png"] for n in range(60)]
        library.edits.set_fields(renders[:16] + renders[20:24], rating=5)
        alice = library.edits.create_collection("character", "Alice")
        library.edits.add_members(alice.id, [i for name, i in ids.items() if name.startswith("alice")])
        live.ids, live.alice = ids, alice.id
        # Bob: faces as a face engine stores them, one picture's of someone else.
        bob = library.edits.create_collection("character", "Bob")
        names = ["bob0.png", "bob1.png", "bob2.png", "bob3.png", "bob-wide.png", "bob-dark.png"]
        library.edits.add_members(bob.id, [ids[name] for name in names])
        rng = np.random.default_rng(5)
        him, other = (rng.normal(size=32) for _ in range(2))
        with library.db.write():
            for name in names:
                vector = (other if name == "bob3.png" else him) + rng.normal(scale=0.1, size=32)
                face = FaceRow((0, 0, 50, 50), 0.9, [], (vector / np.linalg.norm(vector)).astype(np.float32))
                library.vectors.replace_faces(ids[name], "test/faces", "1", [face], 0)
        live.bob = bob.id
        yield live


def open_insights(page):
    page.get_by_role("button", name="Insights", exact=True).click()
    panel = page.locator("#panel")
    expect(panel.locator(".insights-summary")).to_contain_text("60 pictures with generation data")
    return panel


@pytest.mark.parametrize("size", SIZES)
def test_insights_name_the_lora_that_makes_keepers_and_show_its_pictures(browser, server, size):
    with signed_in_page(browser, server, viewport=SIZES[size], has_touch=size == "phone") as page:
        panel = open_insights(page)
        expect(panel.locator(".insights-summary")).to_contain_text("20 kept (33%)")
        finding = panel.locator(".findings li.above button").filter(has_text="LoRA film_grain")
        expect(finding.first).to_be_visible()
        # Each value's bar says its rate, interval and count in words (what a screen reader reads).
        bar = panel.locator("[data-setting=lora] .rate-bar").first
        expect(bar).to_have_attribute(
            "aria-label", re.compile(r"^LoRA film_grain: kept 80% \(95% interval \d+% to \d+%\)")
        )
        # Steps is a number: a chart of the rate over it, and its numbers as a table.
        panel.get_by_label("values on at least").fill("5")
        panel.get_by_label("values on at least").press("Enter")
        steps = panel.locator("[data-setting=steps]")
        expect(steps.locator("canvas").first).to_be_visible()
        steps.get_by_role("button", name="Table").click()
        expect(steps.locator("table tbody tr")).to_have_count(2)  # the renders alternate 20 and 30 steps
        expect(steps.locator("table")).to_contain_text("30")
        assert serious(page) == []
        screenshot(page, f"insights-{size}")
        page.emulate_media(color_scheme="dark")  # the other theme: the chart takes its colours again
        panel.get_by_label("values on at least").fill("6")
        panel.get_by_label("values on at least").press("Enter")
        expect(steps.locator("canvas").first).to_be_visible()
        screenshot(page, f"insights-{size}-dark")
        assert serious(page) == []
        finding.first.click()
        page.wait_for_url(re.compile(r"loras=film_grain"))
        wait_for_the_list(page)
        expect(page.locator("#count")).to_have_text("20 pictures")
        # The open panel follows the view: now over the film_grain renders alone.
        expect(panel.locator(".insights-summary")).to_contain_text("20 pictures with generation data")


def test_the_dataset_check_shows_findings_their_pictures_and_fixes_duplicates(browser, server):
    ids, library = server.ids, server.library
    with signed_in_page(browser, server) as page:
        page.locator("#sidebar").get_by_label("character Alice").click(button="right")
        page.get_by_text("Check as a dataset…").click()
        panel = page.locator("#panel")
        expect(panel.locator("h2")).to_contain_text("Dataset: Alice")
        expect(panel.locator(".dataset-body > p").first).to_have_text(
            re.compile(r"^9 pictures for kohya sd-scripts at 1024: \d+ buckets, 0 captioned")
        )
        # The buckets as sd-scripts makes them, largest first: the small 600x400 one joins 1216x832 (upscaled).
        buckets = panel.locator("#bucket-bars [data-bar]").evaluate_all("els => els.map(e => e.ariaLabel)")
        assert buckets == [
            "bucket 1024 by 1024: 1 picture",
            "bucket 832 by 1216: 2 pictures",
            "bucket 1216 by 832: 6 pictures",
        ]
        expect(panel.locator(".dataset-cut canvas").first).to_be_visible()
        assert serious(page) == []
        screenshot(page, "dataset-desktop")
        near = panel.locator("li[data-kind=near-duplicates]")
        near.get_by_role("button", name="Show 2 pictures").click()
        page.wait_for_url(re.compile(r"ids="))
        wait_for_the_list(page)
        shown = {int(i) for i in page.locator(".tile:visible").evaluate_all("els => els.map(e => e.dataset.id)")}
        assert shown == {ids["alice0.png"], ids["alice0-again.png"]}
        near.get_by_role("button", name="Keep the best of each group").click()
        expect(page.locator("#toast")).to_contain_text("Took 1 near-duplicate out of Alice")
        expect(panel.locator("li[data-kind=near-duplicates]")).to_have_count(0)
        members = "SELECT picture_id FROM collection_members WHERE collection_id = ?"
        assert ids["alice0-again.png"] not in {r[0] for r in library.db.query(members, (server.alice,))}
        page.keyboard.press("Control+z")
        expect(panel.locator("li[data-kind=near-duplicates]")).to_have_count(1)  # the panel follows the history
        assert ids["alice0-again.png"] in {r[0] for r in library.db.query(members, (server.alice,))}


def test_the_dataset_panel_on_a_phone(browser, server):
    with signed_in_page(browser, server, viewport=SIZES["phone"], has_touch=True) as page:
        page.get_by_role("button", name="Show or hide the sidebar").click()
        page.locator("#sidebar").get_by_label("character Alice").click(button="right")
        page.get_by_text("Check as a dataset…").click()
        panel = page.locator("#panel")
        expect(panel.locator(".dataset-cut canvas").first).to_be_visible()
        expect(page.locator("#sidebar")).not_to_be_in_viewport()  # the drawer gave way to the panel
        width = panel.evaluate("p => [p.scrollWidth, p.clientWidth]")
        assert width[0] <= width[1], width  # nothing wider than the phone
        assert serious(page) == []
        screenshot(page, "dataset-phone")


def test_the_dataset_fixes_crop_to_the_bucket_and_take_out_someone_else(browser, server):
    members = "SELECT picture_id FROM collection_members WHERE collection_id = ?"
    ids, library = server.ids, server.library
    with signed_in_page(browser, server) as page:
        page.locator("#sidebar").get_by_label("character Bob").click(button="right")
        page.get_by_text("Check as a dataset…").click()
        panel = page.locator("#panel")
        crop = panel.locator("li[data-kind=heavy-crop]")
        expect(crop).to_contain_text("1 picture")
        expect(panel.locator("li[data-kind=exposure]")).to_contain_text("1 picture is crushed to black")
        someone = panel.locator("li[data-kind=someone-else]")
        expect(someone).to_contain_text("1 picture looks like someone else")
        expect(panel.locator(".dataset-variety canvas").first).to_be_visible()  # by face
        assert serious(page) == []
        screenshot(page, "dataset-fixes-desktop")

        # The look's crop to the bucket: nothing is cut by the trainer any more (and the original is whole).
        crop.get_by_role("button", name="Crop each to its bucket").click()
        expect(panel.locator("li[data-kind=heavy-crop]")).to_have_count(0)
        edit = library.pictures.get(ids["bob-wide.png"]).edit
        assert edit is not None and edit.crop is not None
        someone.get_by_role("button", name="Take them out").click()
        expect(panel.locator("li[data-kind=someone-else]")).to_have_count(0)
        assert ids["bob3.png"] not in {r[0] for r in library.db.query(members, (server.bob,))}
        # Both were steps of the history: two undos bring both back.
        page.keyboard.press("Control+z")
        expect(panel.locator("li[data-kind=someone-else]")).to_have_count(1)
        page.keyboard.press("Control+z")
        expect(panel.locator("li[data-kind=heavy-crop]")).to_have_count(1)
        assert library.pictures.get(ids["bob-wide.png"]).edit is None


class CaptionTokenizers:
    """The CLIP plugin's own tokenizers, without its engines (the server's library has no plugins)."""

    @hookimpl
    def register_caption_tokenizers(self, register, settings):
        from pixlstash_clip.caption_tokens import ClipTokens, T5Tokens

        register(ClipTokens())
        register(T5Tokens())


def test_the_dataset_panel_counts_caption_tokens_and_names_the_cut_captions(browser, server):
    pytest.importorskip("open_clip")
    ids, library = server.ids, server.library
    captioned = [ids[f"r{n:02}.png"] for n in (50, 51, 52)]
    pets = library.edits.create_collection("set", "Captioned")
    library.edits.add_members(pets.id, captioned)
    library.edits.caption(captioned[0], "a cat on a windowsill, soft light")
    library.edits.caption(captioned[1], ", ".join(f"detail {n} of the scene" for n in range(30)))  # past 75 tokens
    tokenizers = CaptionTokenizers()
    library.plugin_manager.register(tokenizers, name="caption-tokenizers")
    try:
        with signed_in_page(browser, server) as page:
            page.locator("#sidebar").get_by_label("set Captioned").click(button="right")
            page.get_by_text("Check as a dataset…").click()
            panel = page.locator("#panel")
            long_ones = panel.locator("li[data-kind=long-captions]")
            expect(long_ones).to_contain_text("1 picture has a caption longer than the 75 tokens CLIP (SD 1.5, SDXL)")
            tokens = panel.locator(".dataset-tokens")
            expect(tokens.locator("canvas").first).to_be_visible()
            expect(tokens).to_contain_text("T5 (Flux, SD3): tokens not counted: no T5 tokenizer on this machine")
            said = "tokens per caption (it reads 75, 1 caption cut)"
            expect(tokens.locator("figcaption").first).to_contain_text(said)
            tokens.get_by_role("button", name="Table").first.click()
            expect(tokens.locator("table").first).to_be_visible()  # the counts as rows, for a screen reader
            assert serious(page) == []
            screenshot(page, "dataset-tokens-desktop")
            long_ones.get_by_role("button", name="Show 1 picture").click()
            page.wait_for_url(re.compile(r"ids="))
            wait_for_the_list(page)
            shown = page.locator(".tile:visible").evaluate_all("els => els.map(e => Number(e.dataset.id))")
            assert shown == [captioned[1]]
    finally:
        library.plugin_manager.unregister(tokenizers)
