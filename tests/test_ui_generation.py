"""The viewer's Generation section (issue 63): the generator by the name it goes by, and a Flux picture's
CFG and guidance on rows of their own."""

from __future__ import annotations

import re

import pytest
from test_content_credentials import signer  # noqa: F401 - the module-scoped signing fixture
from test_generators_forks import FORGE, _png
from ui_support import library_server, screenshot, signed_in_page, wait_for_the_list

expect = pytest.importorskip("playwright.sync_api").expect

PAIRS = "dl => [...dl.querySelectorAll('dt')].map(dt => [dt.textContent, dt.nextElementSibling.textContent])"


def test_the_viewer_names_the_generator_and_shows_cfg_and_guidance_apart(browser, tmp_path):
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


def test_the_filters_keep_pictures_made_by_generative_ai_or_not(browser, tmp_path):
    """The Filters panel's "Made by": a render (its generation data) and a picture whose XMP says
    trainedAlgorithmicMedia, against a camera's photo; the viewer says where a picture came from."""
    import pyexiv2
    from corpus import a1111_png, photo

    folder = tmp_path / "in"
    folder.mkdir()
    a1111_png(folder / "render.png")
    for name, term in (("firefly.jpg", "trainedAlgorithmicMedia"), ("camera.jpg", "digitalCapture")):
        photo(200, 150, seed=len(name)).save(folder / name, quality=90)
        with pyexiv2.Image(str(folder / name)) as image:
            image.modify_xmp(
                {"Xmp.iptcExt.DigitalSourceType": f"http://cv.iptc.org/newscodes/digitalsourcetype/{term}"}
            )
    with library_server(tmp_path / "library", folder, 3) as live:
        ids = {name: pid for pid, name in live.library.db.query("SELECT id, original_name FROM pictures")}
        with signed_in_page(browser, live) as page:
            page.locator(".filters summary").click()
            page.get_by_label("Made by", exact=True).select_option(label="generative AI")
            page.wait_for_url(re.compile(r"made=ai"))
            wait_for_the_list(page)
            shown = page.locator(".tile:visible").evaluate_all("els => els.map(e => Number(e.dataset.id))")
            assert sorted(shown) == sorted([ids["render.png"], ids["firefly.jpg"]])
            expect(page.locator(".chip", has_text="made by AI")).to_be_visible()
            screenshot(page, "filter-made-by-ai")
            page.get_by_label("Made by", exact=True).select_option(label="not AI")
            page.wait_for_url(re.compile(r"made=not-ai"))
            wait_for_the_list(page)
            shown = page.locator(".tile:visible").evaluate_all("els => els.map(e => Number(e.dataset.id))")
            assert shown == [ids["camera.jpg"]]
            page.keyboard.press("Escape")
            page.locator(f".tile[data-id='{ids['camera.jpg']}']").click()
            expect(page.locator("#overlay .info dl.kv", has_text="Source")).to_contain_text("a camera")


def test_the_viewer_shows_content_credentials_and_their_verdict(browser, tmp_path, signer):  # noqa: F811
    """A signed render and a tampered one: the viewer's Content Credentials section says who made and
    signed each, and whether it verifies, at desktop and phone sizes."""
    from test_content_credentials import AI, signed_jpeg

    folder = tmp_path / "in"
    folder.mkdir()
    signed_jpeg(signer, folder / "firefly.jpg", generator="Adobe Firefly 3.1", source_type=AI)
    signed_jpeg(signer, folder / "tampered.jpg", generator="Adobe Firefly 3.1", source_type=AI)
    data = bytearray((folder / "tampered.jpg").read_bytes())
    data[-300] ^= 0xFF
    (folder / "tampered.jpg").write_bytes(bytes(data))
    with library_server(tmp_path / "library", folder, 2) as live:
        ids = {name: pid for pid, name in live.library.db.query("SELECT id, original_name FROM pictures")}
        for size, viewport in (("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})):
            with signed_in_page(browser, live, viewport=viewport) as page:
                page.locator(f".tile[data-id='{ids['firefly.jpg']}']").click()
                section = page.locator("#overlay #credentials")
                expect(section).to_contain_text("signature valid, signer not on the trust list")
                expect(section).to_contain_text("Adobe Firefly 3.1")
                expect(section).to_contain_text("Test Studio")
                section.scroll_into_view_if_needed()
                screenshot(page, f"content-credentials-{size}")
                page.keyboard.press("Escape")
                page.locator(f".tile[data-id='{ids['tampered.jpg']}']").click()
                expect(section).to_contain_text("does not verify")
                expect(section).to_contain_text("assertion.dataHash.mismatch")
