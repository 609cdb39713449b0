"""axe-core (the engine inside browsers' accessibility checkers, bundled by axe-playwright-python) on the
main views at desktop and phone sizes in both themes (issue 32, item 10): no critical or serious
violations, on what a person actually has open: the grid, the picture viewer, each panel, a menu, a
dialog, the duplicates view, the upload tray and a share recipient's page."""

from __future__ import annotations

import pytest
from corpus import photo
from ui_support import library_server, signed_in_page

from pixlstash.sharing.service import ShareOptions

playwright_api = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")
expect = playwright_api.expect

SIZES = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    for n in range(8):
        photo(320, 200 + 20 * n, seed=n).save(folder / f"p{n}.jpg")
    with library_server(tmp_path_factory.mktemp("library"), folder, 8) as live:
        library = live.library
        ids = [pid for (pid,) in library.db.query("SELECT id FROM pictures ORDER BY id")]
        library.edits.tag(ids[:3], add=["dusk", "harbour"])
        project = library.organise.create_project("Client")
        picks = library.organise.create_collection("set", "Picks", project.id)
        library.organise.add_members(picks.id, ids[:4])
        library.organise.create_collection("character", "Mara")
        _, token = live.state.shares.create("set", picks.id, title="Picks", options=ShareOptions())
        live.share_url = f"{live.url}/s/{token}"
        yield live


def serious(page) -> list[str]:
    """The critical and serious violations on the page as it is, one line each with where."""
    results = axe_playwright.Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def panel(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    expect(page.locator("#panel")).to_be_visible()


@pytest.mark.parametrize("scheme", ["dark", "light"])
@pytest.mark.parametrize("size", SIZES)
def test_no_critical_or_serious_violations_on_the_main_views(browser, server, size, scheme):
    found: dict[str, list[str]] = {}
    with signed_in_page(browser, server, color_scheme=scheme, **SIZES[size]) as page:
        found["grid"] = serious(page)
        page.locator(".tile:visible").first.click()
        expect(page.locator("#overlay")).to_be_visible()
        found["viewer"] = serious(page)
        page.keyboard.press("c")  # the crop tool
        expect(page.get_by_role("dialog", name="Crop and straighten")).to_be_visible()
        found["crop tool"] = serious(page)
        page.keyboard.press("Escape")  # leaves the crop tool ...
        expect(page.locator(".crop-tool")).to_have_count(0)
        page.keyboard.press("Escape")  # ... and then the viewer
        for name in ("Settings", "People", "Statistics", "History", "Snapshots", "Tasks"):
            panel(page, name)
            found[name] = serious(page)
            page.keyboard.press("Escape")
        page.locator(".tile:visible").first.click(button="right")
        expect(page.locator("#menu")).to_be_visible()
        found["menu"] = serious(page)
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Upload", exact=True).click()
        found["uploads"] = serious(page)
        page.get_by_role("button", name="Close uploads").click()
        if size == "phone":
            page.get_by_role("button", name="Show or hide the sidebar").click()
        page.locator("#sidebar").get_by_role("button", name="New set").click()
        expect(page.locator(".dialog")).to_be_visible()
        found["dialog"] = serious(page)
        page.keyboard.press("Escape")
        if size == "phone" and page.locator("#sidebar").is_hidden():
            page.get_by_role("button", name="Show or hide the sidebar").click()
        page.locator("#sidebar").get_by_role("link", name="Duplicates").click()
        expect(page.locator("#duplicates-view")).to_be_visible()
        found["duplicates"] = serious(page)
    context = browser.new_context(color_scheme=scheme, **SIZES[size])
    recipient = context.new_page()
    recipient.goto(server.share_url)
    expect(recipient.locator("#grid .tile:visible img[src]")).to_have_count(4)
    found["share"] = serious(recipient)
    recipient.locator("#grid .tile:visible").first.click()
    expect(recipient.locator("#overlay")).to_be_visible()
    found["share viewer"] = serious(recipient)
    context.close()
    assert {view: problems for view, problems in found.items() if problems} == {}


def test_the_keyboard_alone_reaches_the_pictures_the_viewer_and_the_menus(browser, server):
    active = "() => { const a = document.activeElement; return a.id || a.getAttribute('role') || a.tagName; }"
    with signed_in_page(browser, server, viewport={"width": 1280, "height": 800}) as page:
        page.reload()  # a page as it opens: nothing focused yet
        page.wait_for_selector("body[data-ready='1']")
        page.keyboard.press("Tab")  # the first stop skips the toolbar and the sidebar
        expect(page.get_by_role("link", name="Skip to pictures")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#grid")).to_be_focused()
        page.keyboard.press("ArrowRight")
        focus = page.evaluate("() => window.pixlstash.app.grid.focus")
        # The context-menu key: arrows move in the menu, not the grid behind it; Right opens a submenu.
        page.keyboard.press("Shift+F10")
        menu = page.locator("#menu")
        expect(menu).to_be_visible()
        expect(menu.get_by_role("menuitem", name="Open")).to_be_focused()
        page.keyboard.press("ArrowDown")
        expect(menu.get_by_role("menuitem", name="Rate")).to_be_focused()
        page.keyboard.press("ArrowRight")
        expect(menu.get_by_role("menuitem", name="★★★★★")).to_be_visible()
        page.keyboard.press("ArrowLeft")
        expect(menu.get_by_role("menuitem", name="Open")).to_be_focused()
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        expect(page.locator("#grid")).to_be_focused()
        assert page.evaluate("() => window.pixlstash.app.grid.focus") == focus
        # The viewer takes the focus and keeps it while Tab goes round; Esc gives it back to the grid.
        page.keyboard.press("Enter")
        overlay = page.locator("#overlay")
        expect(overlay).to_be_visible()
        assert page.evaluate("() => document.getElementById('overlay').contains(document.activeElement)")
        for _ in range(40):
            page.keyboard.press("Tab")
            assert page.evaluate("() => document.getElementById('overlay').contains(document.activeElement)"), (
                page.evaluate(active)
            )
        for _ in range(5):
            page.keyboard.press("Shift+Tab")
            assert page.evaluate("() => document.getElementById('overlay').contains(document.activeElement)")
        page.keyboard.press("Escape")
        expect(overlay).to_be_hidden()
        expect(page.locator("#grid")).to_be_focused()


def test_every_icon_the_ui_names_is_in_its_sprite():
    """An icon missing from the shipped sprite shows as an empty box (the viewer's Details button once did)."""
    import re
    from pathlib import Path

    static = Path(__file__).resolve().parent.parent / "pixlstash-web" / "pixlstash_web" / "static"
    sprite = set(re.findall(r'<symbol id="([a-z-]+)"', (static / "icons" / "lucide.svg").read_text()))
    sources = [p.read_text() for p in [*static.glob("js/**/*.js"), *static.glob("*.html")]]
    named = {
        n for text in sources for n in re.findall(r'icon\("([a-z-]+)"\)|lucide\.svg#([a-z-]+)', text) for n in n if n
    }
    assert named and named <= sprite, sorted(named - sprite)
