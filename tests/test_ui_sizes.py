"""Every main view at a desktop, a tablet and two phone sizes, in the dark and the light theme: nothing wider
than the screen, no control cut off at its edge, no control under 32 px tall where fingers are the pointer,
and a screenshot of each (artifacts/screenshots/sizes-*). Real Chromium against a real server."""

from __future__ import annotations

import os

import pytest
from corpus import photo, solid
from test_ui_curation import wait_until
from ui_support import PageWatcher, expect, library_server, screenshot, signed_in_page

from pixlstash.sharing.service import ShareOptions

# name: (width, height, touch screen, phone). The narrowest phones in use are 360 px wide.
SIZES = {
    "desktop": (1440, 900, False, False),
    "tablet": (768, 1024, True, False),
    "phone": (390, 844, True, True),
    "narrow-phone": (360, 740, True, True),
}
DAY = 86_400


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    for n in range(48):
        path = folder / f"s{n:02d}.jpg"
        (photo(360, 240 + 8 * n, seed=n) if n % 2 else solid(300, 200, (n * 5, 90, 200 - n * 3))).save(path)
        os.utime(path, (1_700_000_000 + (n // 4) * 9 * DAY,) * 2)
    with library_server(tmp_path_factory.mktemp("library"), folder, 48) as live:
        library = live.library
        ids = [pid for (pid,) in library.db.query("SELECT id FROM pictures ORDER BY original_name")]
        library.edits.tag(ids[:12], add=["portrait", "studio lighting", "a rather long tag name", "film"])
        library.edits.set_fields(ids[:6], rating=4)
        project = library.organise.create_project("Autumn shoot")
        chosen = library.organise.create_collection("set", "Chosen for print", project_id=project.id)
        library.organise.add_members(chosen.id, ids[:10])
        _, token = live.state.shares.create(
            "set", chosen.id, title="Autumn shoot: picks", options=ShareOptions(allow_original=True)
        )
        live.share_url = f"{live.url}/s/{token}"
        live.chosen = chosen.id
        yield live


OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrollsSideways = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if ((o === 'auto' || o === 'scroll') && p.scrollWidth > p.clientWidth) return true;
    }
    return false;
  };
  const controls = [...document.querySelectorAll(
    'button, a[href], input:not([type=hidden]), select, summary, textarea, [role=button], [role=checkbox]')]
    .filter((el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && el.closest('[hidden]') === null
        && !(el.closest('details:not([open])') && !el.matches('summary')); });
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.getAttribute('aria-label')
    || el.textContent || '').trim().slice(0, 30)}"`;
  const search = document.getElementById('search');
  return {
    pageWidth: document.documentElement.scrollWidth, width,
    searchWidth: search && search.offsetParent ? search.getBoundingClientRect().width : null,
    cut: controls.filter((el) => { const r = el.getBoundingClientRect();
      return (r.left < -1 || r.right > width + 1) && !scrollsSideways(el); }).map(name),
    short: controls.filter((el) => el.getBoundingClientRect().height < 32 && el.type !== 'checkbox'
      && el.type !== 'range' && !el.closest('.scrubber')).map(name),
  };
}"""


def check(page, touch: bool, label: str) -> None:
    """No sideways overflow, nothing cut off, big enough to touch; then a screenshot in both themes."""
    found = page.evaluate(OVERFLOW)
    assert found["pageWidth"] <= found["width"], f"{label}: the page is {found['pageWidth']} px wide"
    assert found["cut"] == [], f"{label}: cut off at the screen's edge: {found['cut']}"
    if found["searchWidth"] is not None:  # the search box keeps room to type in (it once shrank to 18 px)
        assert found["searchWidth"] >= 120, f"{label}: the search box is {found['searchWidth']} px wide"
    if touch:
        assert found["short"] == [], f"{label}: controls under 32 px on a touch screen: {found['short']}"
    for theme in ("dark", "light"):
        page.emulate_media(color_scheme=theme)
        page.wait_for_timeout(50)
        screenshot(page, f"sizes-{label}-{theme}")


@pytest.mark.parametrize("size", SIZES)
def test_every_view_fits_the_screen_in_both_themes(browser, server, size):
    width, height, touch, mobile = SIZES[size]
    viewport = {"width": width, "height": height}
    with signed_in_page(browser, server, viewport=viewport, has_touch=touch, is_mobile=mobile) as page:
        walk_the_app(page, browser, server, size, touch, mobile)


def walk_the_app(page, browser, server, size: str, touch: bool, mobile: bool) -> None:
    check(page, touch, f"{size}-library")
    # The filters panel, open.
    page.locator(".filters summary").click()
    expect(page.locator(".filters-panel")).to_be_visible()
    check(page, touch, f"{size}-filters")
    page.locator(".filters summary").click()
    # A set inside a project, with a selection (the selection bar over the toolbar).
    page.goto(f"/?collections={server.chosen}")
    page.wait_for_selector(".tile:not([hidden]) img")
    page.wait_for_selector("body[data-ready='1']")  # a click before the grid's handlers are bound does nothing
    page.locator(".tile:visible .check").first.click(force=True)
    expect(page.locator("#selection-bar")).to_be_visible()
    check(page, touch, f"{size}-set-selected")
    page.keyboard.press("Escape")
    # The sidebar: beside the grid on wide screens, a drawer on phones.
    if mobile:
        page.get_by_role("button", name="Show or hide the sidebar").click()
        expect(page.locator("#sidebar")).to_be_visible()
        check(page, touch, f"{size}-drawer")
        page.locator("#sidebar").get_by_text("Chosen for print").click()
        expect(page.locator("#sidebar")).to_be_hidden()  # the drawer closes on choice
    # A picture open, its details beside it (below it on a phone).
    page.locator(".tile:visible").first.click()
    expect(page.locator("#overlay")).to_be_visible()
    page.wait_for_selector("#overlay #full")
    check(page, touch, f"{size}-overlay")
    page.keyboard.press("Escape")
    # A panel: settings.
    page.get_by_role("button", name="Settings").click()
    expect(page.locator("#panel")).to_contain_text("Engines")
    check(page, touch, f"{size}-settings")
    page.keyboard.press("Escape")
    # Near-duplicates.
    page.goto("/?dupes=1")
    expect(page.locator("#duplicates-view")).to_be_visible()
    check(page, touch, f"{size}-duplicates")
    viewport = page.viewport_size
    # The share recipient's page, as a stranger with the link.
    recipient = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=mobile).new_page()
    stranger = PageWatcher(recipient)
    recipient.goto(server.share_url)
    recipient.wait_for_selector(".tile:not([hidden]) img")
    check(recipient, touch, f"{size}-recipient")
    recipient.locator(".tile:visible").first.click()
    expect(recipient.locator("#overlay")).to_be_visible()
    wait_until(recipient, "() => !!document.querySelector('#overlay img')")
    check(recipient, touch, f"{size}-recipient-overlay")
    assert stranger.clean() == []
    recipient.context.close()
    # Signed out: the sign-in page.
    signed_out = browser.new_context(viewport=viewport, has_touch=touch).new_page()
    signed_out.goto(server.url)
    expect(signed_out.get_by_label("User name")).to_be_visible()
    check(signed_out, touch, f"{size}-sign-in")
    signed_out.context.close()
