"""Finding one's way through time and picking pictures as in photo apps: date headers (by day, by month
when tiles are small), rating headers, the timeline scrubber, click to open, the check mark and long press
to select, and tiles that load a thumbnail sharp at their size. Real Chromium, real server, 240 pictures
taken over three years."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pytest
from corpus import solid
from test_ui_curation import wait_until
from ui_library import tile
from ui_support import expect, library_server, screenshot, signed_in_page

COUNT = 240
FIRST_DAY = datetime(2023, 1, 1, 12, tzinfo=UTC)  # noon: a day in every viewer's time zone
DAY_SECONDS = 86_400


def taken(n: int) -> float:
    """Picture n's time: three pictures a day, a day every 13 days from 2023 to late 2025."""
    return FIRST_DAY.timestamp() + (n // 3) * 13 * DAY_SECONDS + n % 3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    for n in range(COUNT):
        path = folder / f"t{n:03d}.png"
        solid(60 + n % 40, 40 + n % 30, (n * 7 % 256, n * 13 % 256, n * 29 % 256)).save(path)
        os.utime(path, (taken(n), taken(n)))  # no EXIF: the file's time is when it was taken
    with library_server(tmp_path_factory.mktemp("library"), folder, COUNT) as live:
        ids = [pid for (pid,) in live.library.db.query("SELECT id FROM pictures ORDER BY original_name")]
        live.library.edits.set_fields(ids[:30], rating=5)
        live.library.edits.set_fields(ids[30:50], rating=3)
        yield live


@pytest.fixture
def page(browser, server):
    with signed_in_page(browser, server) as page:
        yield page


def headers(page) -> list[str]:
    return page.locator(".group-header").all_inner_texts()


def test_date_headers_by_day_by_month_when_small_and_rating_headers(page, server):
    # Newest first: the first header is the last picture's day, in the viewer's words.
    last = datetime.fromtimestamp(taken(COUNT - 1), UTC)
    first_header = page.locator(".group-header").first
    expect(first_header).to_contain_text(str(last.year))
    expect(first_header).to_contain_text(last.strftime("%B"))
    expect(first_header).to_contain_text(str(last.day))
    screenshot(page, "timeline-days")
    # Every header sits above its pictures: the first tile under the first header is the newest picture.
    newest = server.library.db.scalar("SELECT id FROM pictures ORDER BY taken_at DESC, id DESC LIMIT 1")
    header_box = first_header.bounding_box()
    tile_box = tile(page, newest).bounding_box()
    assert tile_box["y"] >= header_box["y"] + header_box["height"] - 1
    # Small tiles: months, and no day is named.
    page.evaluate("() => window.pixlstash.app.update({ size: 100 }, { replace: true })")
    expect(first_header).to_have_text(last.strftime("%B %Y"))
    months = page.evaluate("() => window.pixlstash.app.grid.groups.labels.length")
    assert 30 <= months <= 37  # three years of months, each with a picture
    screenshot(page, "timeline-months")
    # By rating: one header per rating present, best first; no timeline beside it.
    page.get_by_label("Sort by").select_option("rating")
    expect(page.locator(".group-header").first).to_contain_text("5 stars")
    labels = page.evaluate("() => window.pixlstash.app.grid.groups.labels")
    assert [label.split(" ", 1)[-1] for label in labels] == ["5 stars", "3 stars", "Unrated"]
    expect(page.locator("#scrubber")).to_be_hidden()
    # By file size: no headers at all.
    page.get_by_label("Sort by").select_option("file_size")
    wait_until(page, "() => !window.pixlstash.app.grid.groups && !document.querySelector('.group-header')")


def test_scrubber_shows_years_jumps_on_drag_and_names_where_you_are(page, server):
    scrubber = page.locator("#scrubber")
    expect(scrubber).to_be_visible()
    years = scrubber.locator(".year").all_inner_texts()
    assert years == ["2025", "2024", "2023"]
    box = scrubber.bounding_box()
    # Drag from the top to near the bottom: the grid follows, the label names a month of 2023.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.9, steps=5)
    label = scrubber.locator(".scrubber-label")
    expect(label).to_be_visible()
    expect(label).to_contain_text("2023")
    page.mouse.up()
    grid = page.evaluate(
        "() => { const g = document.getElementById('grid');"
        " return { top: g.scrollTop, max: g.scrollHeight - g.clientHeight }; }"
    )
    assert grid["top"] > 0.8 * grid["max"]
    # Tiles are painted where the drag landed.
    expect(page.locator(".tile:visible img[src]").first).to_be_visible()
    screenshot(page, "timeline-scrubbed")
    # A click near the top jumps back to the newest pictures.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 2)
    wait_until(page, "() => document.getElementById('grid').scrollTop < 50")


def test_click_opens_the_check_mark_selects_and_then_clicks_select(page, server):
    ids = [pid for (pid,) in server.library.db.query("SELECT id FROM pictures ORDER BY taken_at DESC LIMIT 3")]
    tile(page, ids[0]).click()
    expect(page.locator("#overlay")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#overlay")).to_be_hidden()
    # The check mark shows on hover and selects without opening; the grid does not move.
    top = tile(page, ids[1]).bounding_box()["y"]
    tile(page, ids[1]).hover()
    check = tile(page, ids[1]).locator(".check")
    expect(check).to_be_visible()
    check.click()
    expect(tile(page, ids[1])).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("#selection-bar")).to_be_visible()
    assert tile(page, ids[1]).bounding_box()["y"] == top
    # While anything is selected, a click selects too.
    tile(page, ids[2]).click()
    expect(page.locator("#overlay")).to_be_hidden()
    assert sorted(page.evaluate("() => window.pixlstash.app.selection()")) == sorted(ids[1:3])
    screenshot(page, "selecting")
    page.keyboard.press("Escape")
    expect(page.locator(".tile.selected")).to_have_count(0)


def test_large_tiles_load_the_preview_small_ones_the_grid_thumbnail(page, server):
    first = page.locator(".tile[data-index='0'] img")
    expect(first).to_have_attribute("src", re.compile(r"/grid\.webp$"))
    # 400 px tiles on this screen want more than the grid thumbnail's 384 px: the 1024 px preview.
    page.evaluate("() => window.pixlstash.app.update({ size: 400 }, { replace: true })")
    expect(first).to_have_attribute("src", re.compile(r"/preview\.webp$"))
    wait_until(page, "() => document.querySelector(\".tile[data-index='0'] img\").naturalWidth > 0")


@pytest.fixture
def phone(browser, server):
    options = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True}
    with signed_in_page(browser, server, has_touch=True, **options) as page:
        yield page


def touch(page, x: float, y: float, hold_ms: int) -> None:
    """A finger resting on (x, y) for hold_ms: real touch events through the DevTools protocol."""
    cdp = page.context.new_cdp_session(page)
    point = [{"x": x, "y": y}]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point})
    page.wait_for_timeout(hold_ms)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_on_a_phone_tap_opens_and_long_press_selects(phone, server):
    ids = [pid for (pid,) in server.library.db.query("SELECT id FROM pictures ORDER BY taken_at DESC LIMIT 2")]
    # The check marks show without hovering on a touch screen.
    expect(tile(phone, ids[0]).locator(".check")).to_be_visible()
    box = tile(phone, ids[0]).bounding_box()
    touch(phone, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 700)
    expect(tile(phone, ids[0])).to_have_class(re.compile(r"\bselected\b"))
    expect(phone.locator("#overlay")).to_be_hidden()
    box = tile(phone, ids[1]).bounding_box()
    tile(phone, ids[1]).tap()
    assert sorted(phone.evaluate("() => window.pixlstash.app.selection()")) == sorted(ids)
    phone.keyboard.press("Escape")
    tile(phone, ids[1]).tap()
    expect(phone.locator("#overlay")).to_be_visible()
