"""Scores in the browser: the score sort puts the best first with each tile showing its score, the filters
narrow by a score range, the statistics hold the histogram, and the prune dialog says what it would scrap
before scrapping it in one step that Undo reverses; at desktop and phone sizes, with axe on the dialog."""

from __future__ import annotations

import re

import pytest
from test_scores import degraded
from test_ui_accessibility import serious
from test_web_enrichment import wait_for_jobs
from ui_support import expect, library_server, screenshot, signed_in_page, wait_for_the_list

QUALITY = "Quality"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    for seed in (6, 7):
        for name, image in degraded(seed).items():
            image.save(folder / f"{name}-{seed}.png")
    with library_server(tmp_path_factory.mktemp("library"), folder, 8) as live:
        client = live.client(live.token("admin"))
        assert client.post("/api/v1/jobs", json={"task": "scorer", "engine": "pixlstash/quality"}).status_code == 202
        wait_for_jobs(client)
        live.scores = {
            pid: value
            for pid, value in live.library.db.query(
                "SELECT picture_id, value FROM picture_scores WHERE engine_id = 'pixlstash/quality'"
            )
        }
        assert len(live.scores) == 8
        yield live


def shown(page) -> list[int]:
    """The tiles' picture ids in reading order (top to bottom, left to right)."""
    wait_for_the_list(page)
    boxes = page.locator(".tile:visible").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.top, r.left, Number(e.dataset.id)]; })"
    )
    return [pid for _, _, pid in sorted(boxes)]


def sort_by_quality(page) -> None:
    page.get_by_label("Sort by").select_option(label=f"Score: {QUALITY}")
    page.wait_for_url(re.compile(r"sort=score%3Apixlstash%2Fquality"))


@pytest.mark.parametrize("size", SIZES)
def test_the_score_sort_shows_the_best_first_each_with_its_score(browser, server, size):
    with signed_in_page(browser, server, viewport=SIZES[size], has_touch=size == "phone") as page:
        sort_by_quality(page)
        best_first = sorted(server.scores, key=server.scores.get, reverse=True)
        expect(page.locator(".tile:visible .meta .score")).to_have_count(8)
        assert shown(page) == best_first
        for pid in best_first:
            expect(page.locator(f".tile:visible[data-id='{pid}'] .score")).to_have_text(f"{server.scores[pid]:.2f}")
        inside = page.locator(".tile:visible").evaluate_all(
            """els => els.map(t => { const b = t.querySelector('.score').getBoundingClientRect();
               const o = t.getBoundingClientRect();
               return o.left <= b.left && b.right <= o.right + 0.5
                 && o.top <= b.top && b.bottom <= o.bottom + 0.5; })"""
        )
        assert inside == [True] * 8  # each score is on its own tile, whole
        screenshot(page, f"scores-sorted-{size}")

        page.locator(".filters summary").click()  # labelled "Filters"; an icon alone on a phone
        page.get_by_label("Scorer", exact=True).select_option(label=QUALITY)
        cut = sorted(server.scores.values())[4]
        page.get_by_label("Score at least").fill(f"{cut:.6f}")
        page.get_by_label("Score at least").press("Enter")
        page.wait_for_url(re.compile(r"score_min="))
        kept = sum(v >= float(f"{cut:.6f}") for v in server.scores.values())
        expect(page.locator(".tile:visible")).to_have_count(kept)
        expect(page.locator(".chip", has_text=re.compile(r"quality ≥"))).to_be_visible()


def test_the_statistics_hold_the_score_histogram_and_a_bar_filters_to_it(browser, server):
    with signed_in_page(browser, server) as page:
        page.get_by_role("button", name="Statistics", exact=True).click()
        section = page.locator("#panel section", has=page.get_by_role("heading", name=re.compile(r"^Score: Quality")))
        expect(section.locator("[data-bar]")).to_have_count(10)
        counts = [int(t.replace(",", "")) for t in section.locator("[data-bar] > span:last-child").all_inner_texts()]
        assert sum(counts) == 8 and counts[0] >= 1 and counts[-1] >= 1
        section.locator("[data-bar]").last.click()
        page.wait_for_url(re.compile(r"score_engine=pixlstash%2Fquality"))
        expect(page.locator(".tile:visible")).to_have_count(counts[-1])


@pytest.mark.parametrize("size", SIZES)
def test_prune_says_what_goes_then_scraps_it_in_one_undoable_step(browser, server, size):
    with signed_in_page(browser, server, viewport=SIZES[size], has_touch=size == "phone") as page:
        sort_by_quality(page)
        page.get_by_role("button", name="Prune…").click()
        dialog = page.get_by_role("dialog", name="Prune this view")
        expect(dialog).to_be_visible()
        dialog.get_by_label("How many of the lowest").fill("3")
        lowest = sorted(server.scores.values())[:3]
        expect(dialog.get_by_role("status")).to_have_text(
            f"3 pictures would go, scored {lowest[0]:.2f} to {lowest[2]:.2f}."
        )
        expect(dialog.get_by_role("button", name="Scrap 3")).to_be_enabled()
        box = dialog.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"]  # the dialog fits the screen
        assert serious(page) == []
        screenshot(page, f"scores-prune-{size}")
        dialog.get_by_label("The score under which they go").fill("0")  # choosing its way too
        expect(dialog.get_by_role("radio", name="Those scored under")).to_be_checked()
        expect(dialog.get_by_role("status")).to_have_text("No picture is scored that low.")
        expect(dialog.get_by_role("button", name="Scrap", exact=True)).to_be_disabled()
        dialog.get_by_role("radio", name="The lowest").check()
        expect(dialog.get_by_role("button", name="Scrap 3")).to_be_enabled()
        dialog.get_by_role("button", name="Scrap 3").click()
        expect(page.locator(".tile:visible")).to_have_count(5)
        gone = sorted(server.scores, key=server.scores.get)[:3]
        assert not set(gone) & set(shown(page))
        page.locator(".toast").get_by_role("button", name="Undo").click()
        expect(page.locator(".tile:visible")).to_have_count(8)
