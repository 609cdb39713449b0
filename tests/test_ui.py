"""End-to-end UI flows in real headless Chromium against a real server with a library made here."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import copy_of_library
from corpus import photo, solid
from test_enrichment import PALETTE
from test_web_enrichment import wait_for_jobs
from ui_support import OWNER, PASSWORD, PageWatcher, launch, screenshot, sign_in, wait_for_the_list

from pixlstash.library import Library
from pixlstash.plugins import make_plugin_manager
from pixlstash.testing import FakeEnginesPlugin

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

COLOURS = ("red", "green", "blue", "yellow", "magenta", "cyan", "white", "black")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The library every test here starts from, made once: 20 pictures imported and enriched by the fake
    engines behind a real server, and the owner's account. Each test gets a copy of the folder."""
    root, folder = tmp_path_factory.mktemp("template") / "library", tmp_path_factory.mktemp("pictures")
    for n, name in enumerate(COLOURS):
        solid(200 + 10 * n, 150, PALETTE[name]).save(folder / f"{name}.png")
    for n in range(12):
        photo(320, 200 + 10 * n, seed=n).save(folder / f"photo-{n:02d}.jpg")
    from live_server import LiveServer

    with Library.open(root, plugin_manager=_with_fake_engines()) as library, LiveServer(library) as live:
        library.import_paths([folder])
        live.state.auth.create_user(OWNER, PASSWORD)
        wait_for_jobs(live.client(live.token("admin")))
    return root


def _with_fake_engines():
    engines = make_plugin_manager(load_entry_points=False)
    engines.register(FakeEnginesPlugin(), name="fake-engines")
    return engines


@pytest.fixture
def server(template, tmp_path):
    from live_server import LiveServer

    with copy_of_library(template, tmp_path / "library", _with_fake_engines()) as library, LiveServer(library) as live:
        yield live


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watcher = PageWatcher(page)
    page.expected_errors = []  # console errors a test provokes on purpose (a refused request)
    sign_in(page)
    page.watcher = watcher
    yield page
    assert watcher.clean(allow=tuple(page.expected_errors)) == []
    context.close()


def ids_by_name(server) -> dict[str, int]:
    rows = server.library.db.query("SELECT id, original_name FROM pictures")
    return {name.rsplit(".", 1)[0]: pid for pid, name in rows}


def open_filters(page):
    """The toolbar's Filters panel, open (it stays open as filters change)."""
    if page.locator(".filters").get_attribute("open") is None:
        page.locator(".filters summary").click()
    return page.locator(".filters-panel")


def tile(page, picture_id):
    """The picture's tile, scrolled into view first (the grid only renders what is near the viewport)."""
    page.evaluate(
        "id => { const g = window.pixlstash.app.grid; const i = g.indexOf.get(id);"
        " if (i !== undefined) g.scrollToIndex(i, 'nearest'); }",
        picture_id,
    )
    return page.locator(f".tile[data-id='{picture_id}']:visible")


def test_first_run_setup_from_loopback_creates_the_owner(browser, fake_engines, library):
    from live_server import LiveServer

    with LiveServer(library) as live:
        context = browser.new_context(base_url=live.url)
        page = context.new_page()
        watcher = PageWatcher(page)
        page.goto("/")
        expect(page.get_by_text("Create the owner account")).to_be_visible()
        page.get_by_label("User name").fill("me")
        page.get_by_label("Password").fill("a long password")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_selector("body[data-ready='1']")
        expect(page.locator("#empty")).to_be_visible()
        assert live.state.auth.needs_setup is False
        assert watcher.clean(allow=("401",)) == []
        context.close()


def test_grid_paints_thumbnails_filters_sorts_and_keeps_the_url(page, server):
    tiles = page.locator(".tile:visible")
    expect(tiles).to_have_count(20)
    expect(page.locator("#count")).to_have_text("20 pictures")
    screenshot(page, "grid")
    page.get_by_label("Sort by").select_option("rating")
    expect(page).to_have_url(re.compile(r"sort=rating"))
    open_filters(page)
    page.get_by_label("Media type").select_option("video")
    expect(page.locator("#empty")).to_be_visible()
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.get_by_label("Sort by")).to_have_value("rating")
    expect(page.locator(".chip", has_text="videos")).to_be_visible()  # the filter in force, as a chip
    expect(page.get_by_label("Media type")).to_have_value("video")
    page.go_back()
    page.go_back()
    # Back twice: the first step (sort by rating, every type) also shows 20 tiles, so wait for the
    # second step's toolbar before opening its filters.
    expect(page.get_by_label("Sort by")).not_to_have_value("rating")
    expect(tiles).to_have_count(20)
    open_filters(page)
    page.get_by_label("Minimum width").fill("300")
    page.get_by_label("Minimum width").press("Enter")
    expect(page).to_have_url(re.compile(r"min_width=300"))
    expect(tiles).to_have_count(12)  # only the 320 px photos
    page.go_back()
    page.get_by_label("Layout").select_option("justified")
    expect(page).to_have_url(re.compile(r"layout=justified"))
    screenshot(page, "grid-justified")


def test_selection_rating_tagging_and_keyboard(page, server):
    ids = ids_by_name(server)
    tile(page, ids["red"]).locator(".check").click(force=True)  # the check mark selects
    tile(page, ids["green"]).click()  # and once one is selected, clicks select
    expect(page.locator("#selection-bar")).to_contain_text("2 selected")
    page.keyboard.press("4")
    expect(page.locator("#toast")).to_contain_text("Rated 2 pictures ★★★★")
    assert {server.library.get(ids[n]).rating for n in ("red", "green")} == {4}
    page.keyboard.press("t")
    page.get_by_role("combobox", name="Add tags").fill("sunset, keeper")
    page.keyboard.press("Enter")
    expect(page.locator("#toast")).to_contain_text("Tagged 2")
    assert {t.name for t in server.library.get(ids["red"]).tags} >= {"sunset", "keeper"}
    red = tile(page, ids["red"])  # tiles fill in tags, suggestions and faces after the thumbnail
    expect(red.locator(".chips")).to_contain_text("keeper")
    expect(red.locator(".chips")).to_contain_text("sunset")
    expect(red.locator(".faces")).to_have_text("☺1")  # the fake face finder's one face
    expect(red.locator(".suggested")).to_have_text("+2")  # the fake tagger's "red" and "dark"
    assert "2 suggested tags to review" in red.get_attribute("title")
    # The tag box completes the last tag typed from the library's tags.
    page.keyboard.press("t")
    page.get_by_role("combobox", name="Add tags").press_sequentially("dusk, kee")
    expect(page.locator("#ask-suggestions option")).to_have_count(1)
    assert page.locator("#ask-suggestions option").get_attribute("value") == "dusk, keeper"
    page.keyboard.press("Escape")
    screenshot(page, "grid-badges")
    page.keyboard.press("Escape")
    expect(page.locator("#selection-bar")).to_be_hidden()
    page.keyboard.press("Control+a")
    expect(page.locator("#selection-bar")).to_contain_text("All 20 pictures selected")
    page.keyboard.press("Escape")
    page.locator("#grid").focus()
    page.keyboard.press("ArrowRight")  # the focus, not a selection
    expect(page.locator("#selection-bar")).to_be_hidden()
    page.keyboard.press("Shift+ArrowLeft")
    expect(page.locator("#selection-bar")).to_contain_text("2 selected")
    page.keyboard.press("Space")
    expect(page.locator("#selection-bar")).to_contain_text("1 selected")
    page.keyboard.press("?")
    expect(page.locator("#panel")).to_contain_text("Keyboard shortcuts")


def test_picture_overlay_tags_predictions_caption_and_navigation(page, server):
    ids = ids_by_name(server)
    tile(page, ids["red"]).click()
    overlay = page.locator("#overlay")
    expect(overlay).to_be_visible()
    expect(page).to_have_url(re.compile(rf"picture={ids['red']}"))
    expect(overlay).to_contain_text("Suggested")
    screenshot(page, "overlay")
    overlay.get_by_role("button", name="Accept red").click()
    expect(overlay.locator("#tags")).to_contain_text("red")
    assert "red" in {t.name for t in server.library.get(ids["red"]).tags}
    overlay.get_by_label("Caption").fill("a very red square")
    overlay.get_by_role("button", name="Save caption").click()
    expect(page.locator("#toast")).to_contain_text("Caption saved")
    assert server.library.get(ids["red"]).captions[0].text == "a very red square"
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#overlay")).to_be_visible()  # the URL brought it back
    index = page.evaluate(f"() => window.pixlstash.app.grid.indexOf.get({ids['red']})")
    page.keyboard.press("ArrowLeft" if index > 0 else "ArrowRight")
    neighbour = page.evaluate(f"() => window.pixlstash.app.grid.ids[{index - 1 if index > 0 else index + 1}]")
    expect(page).to_have_url(re.compile(rf"picture={neighbour}$"))
    page.keyboard.press("Escape")
    expect(page.locator("#overlay")).to_be_hidden()


def test_sidebar_projects_sets_drag_and_set_operations(page, server):
    lib = server.library
    ids = ids_by_name(server)
    project = lib.organise.create_project("Portfolio")
    warm = lib.organise.create_collection("set", "Warm")
    bright = lib.organise.create_collection("set", "Bright")
    lib.organise.add_members(warm.id, [ids["red"], ids["yellow"], ids["magenta"]])
    lib.organise.add_members(bright.id, [ids["yellow"], ids["white"], ids["cyan"]])
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    sidebar = page.locator("#sidebar")
    sidebar.get_by_label("set Warm").click()
    expect(page.locator(".tile:visible")).to_have_count(3)
    expect(page.locator("#breadcrumbs")).to_contain_text("Warm")
    # Drag pictures onto a set.
    tile(page, ids["red"]).click(modifiers=["Control"])
    tile(page, ids["red"]).drag_to(sidebar.get_by_label("set Bright"))
    expect(page.locator("#toast")).to_contain_text("Added 1 picture")
    assert ids["red"] in lib.organise.set_operation([bright.id], "union")
    expect(sidebar.get_by_label("set Bright").locator(".count")).to_have_text("4")  # the sidebar has settled
    # Drag a set onto a project.
    sidebar.get_by_label("set Warm").drag_to(sidebar.get_by_label("project Portfolio"))
    expect(page.locator("#toast")).to_contain_text("Moved Warm")
    assert lib.collections.collection(warm.id).project_id == project.id
    # Ctrl-click two sets and combine them.
    sidebar.get_by_label("set Warm").click(modifiers=["Control"])
    sidebar.get_by_label("set Bright").click(modifiers=["Control"])
    page.locator("#setops").get_by_role("button", name="Overlap").click()
    expected = set(lib.organise.set_operation([warm.id, bright.id], "overlap"))
    expect(page).to_have_url(re.compile(r"op=overlap"))
    wait_for_the_list(page)
    assert {int(i) for i in page.locator(".tile:visible").evaluate_all("els => els.map(e => e.dataset.id)")} == expected
    screenshot(page, "set-operations")


def test_search_similar_and_context_menu_with_engines(page, server):
    ids = ids_by_name(server)
    page.keyboard.press("f")
    page.keyboard.type("red")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=red"))
    page.get_by_label("Search by").select_option("meaning")  # by likeness: every picture, red first
    expect(page).to_have_url(re.compile(r"mode=meaning"))
    first = page.locator(".tile[data-index='0']:visible")
    expect(first).to_have_attribute("data-id", str(ids["red"]))
    tile(page, ids["blue"]).click(button="right")
    menu = page.locator("#menu")
    expect(menu).to_be_visible()
    screenshot(page, "context-menu")
    menu.get_by_role("menuitem", name="Find similar pictures").click()
    expect(page).to_have_url(re.compile(rf"similar={ids['blue']}"))
    expect(page.locator(".tile[data-index='0']:visible")).not_to_have_attribute("data-id", str(ids["blue"]))
    page.get_by_role("link", name="Library").click()
    tile(page, ids["green"]).click(button="right")
    menu.get_by_role("menuitem", name="Describe with ›").click()
    menu.get_by_role("menuitem", name="Fake captioner…").click()
    dialog = page.locator(".engine-form")  # the engine's own controls before it runs
    dialog.locator("#param-prompt").fill("for training")
    screenshot(page, "engine-parameters")
    dialog.get_by_role("button", name="Run").click()
    expect(page.locator("#panel")).to_contain_text("Tasks")
    expect(page.locator("#panel")).to_contain_text("fake/captioner")
    wait_for_jobs(server.client(server.token("read")))
    [suggested] = server.library.get(ids["green"]).captions
    assert suggested.source == "fake/captioner" and "for training" in suggested.text
    assert suggested.parameters == {"prompt": "for training"}
    expect(page.locator("#panel")).to_contain_text("done 1/1")  # the panel follows the live stream
    screenshot(page, "tasks")
    # The machine caption is a suggestion until it is taken. (The right-click selected green: clear the
    # selection, or the click would select rather than open.)
    page.locator("#selection-bar").get_by_role("button", name="Clear selection").click()
    tile(page, ids["green"]).click()
    page.get_by_role("button", name="Use the caption from fake/captioner").click()
    expect(page.locator("#toast")).to_contain_text("Caption accepted")
    expect(page.locator("#caption")).to_have_value(suggested.text)
    assert server.library.get(ids["green"]).captions[0].source == "user"


def test_statistics_panel_filters_by_clicking_a_bar(page, server):
    ids = ids_by_name(server)
    server.library.edits.set_fields([ids["red"], ids["blue"]], rating=5)
    page.get_by_role("button", name="Statistics").click()
    panel = page.locator("#panel")
    expect(panel).to_contain_text("20 pictures")
    expect(panel).to_contain_text("≤ 0.1 MB")  # bucket labels from the API's bounds
    expect(panel).to_contain_text("> 32 MP")
    assert "NaN" not in panel.inner_text() and "undefined" not in panel.inner_text()
    screenshot(page, "statistics")
    panel.get_by_role("button", name="★★★★★: 2").click()
    expect(page.locator(".tile:visible")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"rating_min=5"))


def test_snapshots_take_preview_and_selective_restore(page, server):
    ids = ids_by_name(server)
    page.get_by_role("button", name="Snapshots").click()
    panel = page.locator("#panel")
    panel.get_by_label("Snapshot label").fill("before cleanup")
    panel.get_by_role("button", name="Take snapshot").click()
    expect(panel).to_contain_text("before cleanup")
    server.library.edits.set_fields([ids["blue"]], rating=2)  # an edit of a picture not restored below
    server.library.edits.set_fields([ids["red"], ids["green"]], rating=1)  # an edit that can be undone
    tile(page, ids["red"]).click(modifiers=["Control"])
    page.get_by_role("button", name="Snapshots").click()  # closes
    page.get_by_role("button", name="Snapshots").click()  # reopens with the selection
    panel.get_by_role("button", name="Preview restore").first.click()
    expect(panel).to_contain_text("3 to revert")  # red, green and blue were rated since
    panel.get_by_role("button", name="Restore selection…").first.click()
    expect(panel).to_contain_text("1 of 1 would change")
    screenshot(page, "snapshots")
    # The restore drops the undo steps that changed what it brings back: it says so first, and Cancel
    # leaves everything as it was.
    panel.get_by_role("button", name="Restore these").click()
    dialog = page.locator(".dialog")
    expect(dialog).to_contain_text("Undo steps that changed them can no longer be undone; the others stay")
    dialog.get_by_role("button", name="Cancel").click()
    assert server.library.get(ids["red"]).rating == 1 and server.library.edits.history().can_undo
    panel.get_by_role("button", name="Restore these").click()
    dialog.get_by_role("button", name="Restore these").click()
    expect(page.locator("#toast")).to_contain_text("Restored 1")
    assert server.library.get(ids["red"]).rating == 0  # restored
    assert server.library.get(ids["green"]).rating == 1  # not selected: left alone
    # The step that rated red (and green) went; the one about blue alone can still be undone.
    assert [step.label for step in server.library.edits.history().steps] == ["Rate 1 picture ★★"]


def test_share_dialog_and_the_recipient_sees_only_the_share(page, server, browser):
    ids = ids_by_name(server)
    tile(page, ids["red"]).click(modifiers=["Control"])
    tile(page, ids["blue"]).click(modifiers=["Control"])
    page.locator("#selection-bar").get_by_role("button", name="Share…").click()
    dialog = page.locator(".dialog")
    dialog.get_by_label("Share title").fill("For the client")
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.locator("#share-link")
    expect(link).to_be_visible()
    url = link.get_attribute("href")
    screenshot(page, "share-dialog")
    recipient = browser.new_context().new_page()  # no session: a stranger with the link
    watcher = PageWatcher(recipient)
    recipient.goto(url)
    expect(recipient.locator("body")).to_contain_text("For the client")
    expect(recipient.locator("#grid .tile:visible img[src]")).to_have_count(2)
    shown = recipient.locator("#grid .tile:visible img").evaluate_all("els => els.map(e => e.src)")
    hashes = {server.library.get(i).content_hash for i in (ids["red"], ids["blue"])}
    assert len(shown) == 2 and all(any(h in src for h in hashes) for src in shown)
    screenshot(recipient, "recipient")
    assert recipient.request.get(f"{server.url}/api/v1/pictures").status == 401
    assert watcher.clean() == []
    recipient.context.close()


def test_settings_engines_tokens_and_update_check(page, server):
    page.get_by_role("button", name="Settings").click()
    panel = page.locator("#panel")
    expect(panel).to_contain_text("Engines")
    # Sections are tabs; a setting is saved as it changes (no button to forget).
    panel.get_by_role("tab", name="Library").click()
    expect(panel.get_by_label("Check for updates")).not_to_be_checked()  # off by default
    expect(panel.get_by_label("captioner engine")).to_be_hidden()
    panel.get_by_role("tab", name="Engines").click()
    panel.get_by_label("captioner engine").select_option("fake/captioner")
    expect(panel.locator("#engine-saved")).to_contain_text("Saved")
    assert server.library.engines.settings().defaults == {"captioner": "fake/captioner"}
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    panel.get_by_role("tab", name="Account").click()
    panel.get_by_label("Token name").fill("comfyui")
    panel.get_by_role("button", name="Create token").click()
    expect(panel.locator("#token-secret")).to_contain_text("pxl_")
    secret = panel.locator("#token-secret code").inner_text()
    panel.get_by_role("button", name="Copy token").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    screenshot(page, "settings")
    # Revoking asks first, then the token shows as revoked, with no button left to press.
    panel.get_by_role("button", name="Revoke token comfyui").click()
    dialog = page.locator(".dialog")
    expect(dialog).to_contain_text("Revoke the token comfyui?")
    dialog.get_by_role("button", name="Revoke").click()
    row = panel.get_by_label("API tokens").locator(".row", has_text="comfyui")
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("button")).to_have_count(0)
    assert [t.revoked for t in server.state.auth.tokens() if t.name == "comfyui"] == [True]
    # Each engine's parameters, used on import too, saved when the field is left; automatic snapshots.
    panel.get_by_role("tab", name="Engines").click()
    panel.get_by_label("Fake captioner parameters").locator("input").fill("house style")
    page.keyboard.press("Tab")
    expect(panel.locator("#engine-saved")).to_contain_text("Saved")
    assert server.library.engines.settings().parameters == {"fake/captioner": {"prompt": "house style"}}
    panel.get_by_role("tab", name="Library").click()
    admin = server.client(server.token("admin"))
    scheduled = admin.get("/api/v1/snapshots/schedule").json()["enabled"]
    box = panel.get_by_label("Take daily, weekly and monthly snapshots automatically")
    expect(box).to_be_checked(checked=scheduled)
    box.click()
    expect(page.locator("#toast")).to_contain_text(f"Automatic snapshots {'off' if scheduled else 'on'}")
    assert admin.get("/api/v1/snapshots/schedule").json() == {"enabled": not scheduled}
    # Another browser's session, ended from here.
    other = server.client()
    other.post("/api/v1/auth/login", json={"username": OWNER, "password": PASSWORD}).raise_for_status()
    page.get_by_role("button", name="Settings", exact=True).click()  # closes the panel
    page.get_by_role("button", name="Settings", exact=True).click()
    expect(panel.get_by_role("tab", name="Library")).to_have_attribute("aria-selected", "true")  # as left
    panel.get_by_role("tab", name="Account").click()
    sessions = panel.get_by_label("Browser sessions")
    expect(sessions.locator(".row")).to_have_count(2)
    sessions.get_by_role("button", name="End").click()
    page.locator(".dialog").get_by_role("button", name="End session").click()
    expect(sessions.locator(".row")).to_have_count(1)
    assert other.get("/api/v1/auth/me").status_code == 401
    # The password: a wrong current one is refused in place; the new one signs in.
    expect(panel.get_by_label("Browser sessions")).to_contain_text("(this browser)")
    page.expected_errors.append("status of 403 (Forbidden)")
    panel.get_by_label("Current password", exact=True).fill("not it")
    panel.get_by_label("New password", exact=True).fill("a new horse battery")
    panel.get_by_label("New password again").fill("a new horse battery")
    panel.get_by_role("button", name="Change password").click()
    expect(panel.locator("#password-error")).to_contain_text("the current password is wrong")
    panel.get_by_label("Current password", exact=True).fill(PASSWORD)
    panel.get_by_role("button", name="Change password").click()
    expect(page.locator("#toast")).to_contain_text("Password changed")
    assert (
        server.client()
        .post("/api/v1/auth/login", json={"username": OWNER, "password": "a new horse battery"})
        .is_success
    )
    server.state.auth.set_password(OWNER, PASSWORD)


def test_upload_by_drop_and_the_new_pictures_pill(page, server):
    buffer = io.BytesIO()
    solid(90, 60, (10, 200, 90)).save(buffer, "PNG")
    # The server imports; the pill comes from the live stream (a grid at rest takes them in at once: a
    # selection keeps it still).
    page.locator(".tile:visible").first.click(modifiers=["Control"])
    client = server.client(server.token("write"))
    client.post("/api/v1/uploads", files=[("file", ("new.png", buffer.getvalue(), "image/png"))])
    pill = page.locator("#new-pictures")
    expect(pill).to_be_visible()
    pill.click()
    expect(page.locator(".tile:visible")).to_have_count(21)


def test_phone_sized_screen_is_usable(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 800}, is_mobile=True)
    page = context.new_page()
    watcher = PageWatcher(page)
    sign_in(page)
    expect(page.locator("#sidebar")).to_be_hidden()
    page.get_by_role("button", name="Show or hide the sidebar").click()
    expect(page.locator("#sidebar")).to_be_visible()
    screenshot(page, "phone")
    unnamed = page.evaluate("""() => [...document.querySelectorAll('button, input, select')]
        .filter(e => e.offsetParent && !(e.getAttribute('aria-label') || e.textContent.trim() || e.labels?.length))
        .map(e => e.outerHTML)""")
    assert unnamed == []
    assert watcher.clean() == []
    context.close()


def test_people_panel_names_a_person_and_takes_suggestions(page, server):
    from pixlstash.domain import PeopleSettings

    # Fake face vectors are colour vectors: at 0.97 likeness the photos' faces make a few people and
    # the solid colours each their own, so there is something left to suggest after naming one.
    server.library.people.configure(PeopleSettings(cluster_threshold=0.97))
    server.library.people.clustering.rebuild()
    page.get_by_role("button", name="People").click()
    panel = page.locator("#panel")
    expect(panel.locator("#unnamed [data-person]").first).to_be_visible()
    people = server.library.people.unnamed(min_faces=1)
    biggest = people[0]
    screenshot(page, "people")
    form = panel.locator(f"[data-name-person='{biggest.cluster_id}'] input")
    form.fill("Alice")
    form.press("Enter")
    expect(page.locator("#toast")).to_contain_text("Named Alice")
    expect(page.locator("#sidebar")).to_contain_text("Alice")
    [alice] = [c for c in server.library.collections.collections("character") if c.name == "Alice"]
    assert alice.member_count == biggest.pictures
    # Naming opens Alice's page: her faces, then suggestions to take or leave.
    expect(panel.locator("h2")).to_contain_text("Alice")
    expect(panel.locator("#named-faces .suggestion")).to_have_count(biggest.faces)
    first = panel.locator("#suggestions .suggestion").first
    expect(first).to_be_visible()
    face_id = int(first.get_attribute("data-face"))
    first.get_by_role("button", name=f"Reject face {face_id}").click()
    expect(page.locator("#toast")).to_contain_text("Rejected")
    expect(panel.locator(f"#suggestions .suggestion[data-face='{face_id}']")).to_have_count(0)
    second = panel.locator("#suggestions .suggestion").first
    accepted = int(second.get_attribute("data-face"))
    second.get_by_role("button", name=f"Accept face {accepted}").click()
    expect(page.locator("#toast")).to_contain_text("Accepted")
    assert accepted in {f for f, _ in server.library.vectors.character_faces(alice.id)}
    expect(panel.locator(f"#named-faces [data-face='{accepted}']")).to_be_visible()
    screenshot(page, "people-character")

    # A wrong face is split out: unnamed, gone from her page and her suggestions.
    panel.get_by_role("button", name=f"Not Alice: face {accepted}").click()
    expect(page.locator("#toast")).to_contain_text("No longer Alice")
    expect(panel.locator(f"#named-faces [data-face='{accepted}']")).to_have_count(0)
    assert accepted not in {f for f, _ in server.library.vectors.character_faces(alice.id)}
    expect(panel.locator("#suggestions .suggestion").first).to_be_visible()
    expect(panel.locator(f"#suggestions [data-face='{accepted}']")).to_have_count(0)

    # The People front page lists her with her faces; the sidebar's menu opens her page again.
    panel.get_by_role("button", name="People").first.click()
    expect(panel.get_by_role("button", name="Open Alice")).to_contain_text(f"{biggest.faces} faces")
    panel.locator("[data-close]").click()
    page.locator("#sidebar .side-item", has_text="Alice").click(button="right")
    page.get_by_text("Faces and suggestions…").click()
    expect(panel.locator("#named-faces .suggestion")).to_have_count(biggest.faces)


def test_a_picture_opened_by_its_address_offers_the_characters_for_its_faces(page, server):
    ids = ids_by_name(server)
    server.library.organise.create_collection("character", "Hero")
    # The characters arrive only after the viewer has drawn (held back here, as a slow answer would be).
    held = []
    page.route("**/api/v1/characters", lambda route: held.append(route))
    with page.expect_request("**/api/v1/characters"):
        page.goto(f"/?picture={ids['red']}")
    select = page.get_by_label("Character of face 1")
    expect(select).to_be_visible()
    assert held, "the characters were asked for"
    for route in held:
        route.continue_()
    expect(select.locator("option", has_text="Hero")).to_have_count(1)
    page.unroute("**/api/v1/characters")


def test_export_dialog_previews_the_captions_the_zip_then_holds(page, server, tmp_path):
    import zipfile
    from pathlib import Path

    ids = ids_by_name(server)
    library = server.library
    lora = library.organise.create_collection("set", "LoRA")
    members = [ids["red"], ids["green"], ids["blue"], ids["yellow"]]
    library.organise.add_members(lora.id, [*members, ids["white"]])  # white: no caption, no tags
    library.edits.tag(members, add=["solo"])
    library.edits.caption(ids["red"], "a red square")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.locator("#sidebar").get_by_label("set LoRA").click(button="right")
    page.get_by_text("Export for training…").click()
    dialog = page.locator(".export-form")
    samples = dialog.locator(".export-samples li")
    expect(samples).to_have_count(3)
    # Said before anything is written: white gets no caption file (sd-scripts stops on an empty one).
    warning = dialog.locator("#export-preview .warning")
    expect(warning).to_have_text(re.compile(r"^1 picture has no caption or tags: no caption file is written"))
    box = warning.bounding_box()
    assert box and box["height"] > 10 and box["width"] > 200  # shown, not a sliver
    screenshot(page, "export-dialog-warning")
    dialog.get_by_label("Trigger word (first)").fill("ohwx")
    expect(warning).to_have_count(0)  # with a trigger every picture has a caption
    dialog.get_by_label("Caption file", exact=True).select_option("tags")
    dialog.get_by_label("Repeats (kohya folder N_trigger; 0: none)").fill("10")
    expect(dialog.locator("#export-preview")).to_contain_text("10_ohwx/")
    expect(samples.first).to_contain_text("ohwx, solo")
    screenshot(page, "export-dialog")
    shown = [(li.locator("code").inner_text(), li.locator(".export-caption").inner_text()) for li in samples.all()]
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="Download zip").click()
    data = Path(download_info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for image, caption in shown:  # the preview is what the export wrote
            assert archive.read(image.rsplit(".", 1)[0] + ".txt").decode().strip() == caption
        assert len([n for n in archive.namelist() if n.endswith(".txt")]) == 5
        assert archive.read(f"10_ohwx/{ids['white']}.txt") == b"ohwx\n"
    assert library.training.remembered(lora.id).trigger == "ohwx"  # remembered for the set


def test_generation_data_filters_find_renders_by_lora_sampler_and_seed(page, server, tmp_path):
    from corpus import a1111_png, comfyui_png

    renders = tmp_path / "renders"
    renders.mkdir()
    comfyui_png(renders / "lighthouse.png")
    a1111_png(renders / "fox.png")
    server.library.import_paths([renders])
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    names = ids_by_name(server)
    tiles = page.locator(".tile:visible")
    expect(tiles).to_have_count(22)
    open_filters(page)
    page.get_by_label("LoRA names (all of them)").fill("film_grain")
    page.get_by_label("LoRA names (all of them)").press("Enter")
    expect(page).to_have_url(re.compile(r"loras=film_grain"))
    expect(tiles).to_have_count(1)
    expect(tile(page, names["lighthouse"])).to_be_visible()
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(tiles).to_have_count(1)  # the filter is part of the URL
    open_filters(page)
    page.get_by_label("LoRA names (all of them)").fill("")
    page.get_by_label("LoRA names (all of them)").press("Enter")
    expect(tiles).to_have_count(22)
    open_filters(page)
    page.get_by_label("Sampler").fill("euler a")
    page.get_by_label("Sampler").press("Enter")
    expect(tiles).to_have_count(1)
    expect(tile(page, names["fox"])).to_be_visible()
    open_filters(page)
    page.get_by_label("Seed").fill("4x2")
    page.get_by_label("Seed").press("Enter")
    expect(page.get_by_text("A seed is a whole number")).to_be_visible()
    page.get_by_label("Seed").fill("42")
    page.get_by_label("Seed").press("Enter")
    expect(page).to_have_url(re.compile(r"generation_seed=42"))
    expect(tiles).to_have_count(1)
    expect(page.locator(".chip", has_text="sampler euler a")).to_be_visible()  # what narrows the view is shown
    open_filters(page)
    screenshot(page, "generation-filters")
    page.get_by_label("Remove filter sampler euler a").click()
    page.get_by_label("Remove filter seed 42").click()
    expect(tiles).to_have_count(22)


def test_the_task_manager_shows_a_ray_cluster_s_nodes(page, server):
    from pixlstash.domain import ClusterProgress
    from pixlstash.system.clock import now_ms

    # What a worker running on Ray reports (the Ray tests check that it does): seen from another process.
    server.library.enrichment.report_cluster(
        ClusterProgress(
            "ray://gpu-head:10001", {"a1b2c3d4e5f6a7b8": 1200, "f0e1d2c3b4a59687": 1150}, 3, 48.5, False, now_ms()
        )
    )
    page.get_by_role("button", name="Tasks").click()
    section = page.locator("#cluster")
    expect(section).to_contain_text("ray://gpu-head:10001 · 3 batches out")
    expect(section).to_contain_text("48.5 pictures/s")
    expect(section.locator(".row")).to_have_count(2)
    expect(section).to_contain_text("node a1b2c3d4e5f6")
    expect(section).to_contain_text("1,200 pictures")
    screenshot(page, "tasks-on-ray")


def test_an_empty_grid_says_why_it_is_empty(page, server):
    """A filter that matches nothing, an empty set and an empty scrapheap are not an empty library."""
    tiles = page.locator(".tile:visible")
    expect(tiles).to_have_count(20)
    open_filters(page)
    page.get_by_label("Media type").select_option("video")
    page.keyboard.press("Escape")  # closes the Filters panel
    empty = page.locator("#empty")
    expect(empty).to_contain_text("No pictures match these filters.")
    expect(empty).not_to_contain_text("Upload")
    screenshot(page, "empty-filtered")
    empty.get_by_role("button", name="Show all pictures").click()
    expect(tiles).to_have_count(20)
    expect(page.get_by_label("Media type")).to_have_value("")
    expect(page.locator("#count")).to_have_text("20 pictures")
    page.goto("/?scrapheap=1")
    page.wait_for_selector("body[data-ready='1']")
    expect(empty).to_contain_text("The scrapheap is empty.")
    cats = server.library.organise.create_collection("set", "Cats")
    page.goto(f"/?collections={cats.id}")
    page.wait_for_selector("body[data-ready='1']")
    expect(empty).to_contain_text("Nothing in here yet")
    [one] = [pid for pid in ids_by_name(server).values()][:1]
    server.library.organise.add_members(cats.id, [one])
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#count")).to_have_text("1 picture")


def test_the_tag_filter_completes_names_and_refuses_a_misspelt_tag(page, server):
    names = ids_by_name(server)
    server.library.edits.tag([names["red"], names["blue"], names["green"]], add=["cat"])
    server.library.edits.tag([names["white"]], add=["catalogue"])
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    open_filters(page)
    tag_input = page.get_by_label("Filter by tag")
    tag_input.fill("ca")
    expect(page.locator("#tag-names option[value='cat']")).to_have_count(1)  # the most used first
    expect(page.locator("#tag-names option").first).to_have_attribute("value", "cat")
    expect(page.locator("#tag-names option[value='catalogue']")).to_have_count(1)
    tag_input.fill("catt")
    tag_input.press("Enter")
    expect(page.locator("#toast")).to_contain_text("No tag named “catt”. Did you mean cat, catalogue?")
    expect(page).not_to_have_url(re.compile(r"tags="))
    expect(page.locator(".tile:visible")).to_have_count(20)
    page.get_by_label("Filter by tag").fill("CAT")  # any case
    page.get_by_label("Filter by tag").press("Enter")
    expect(page).to_have_url(re.compile(r"tags=cat"))
    expect(page.locator(".tile:visible")).to_have_count(3)


def test_the_statistics_panel_shows_the_api_s_figures_for_the_view_and_follows_it(page, server):
    ids = ids_by_name(server)
    server.library.edits.set_fields([ids["red"], ids["blue"], ids["photo-01"]], rating=3)
    server.library.edits.set_fields([ids["green"]], rating=5)
    client = server.client(server.token("read"))

    def shown_bars() -> dict[str, str]:
        labels = page.locator("#panel [data-bar]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
        return dict(label.rsplit(": ", 1) for label in labels)

    def api_bars(params) -> dict[str, str]:
        stats = client.get("/api/v1/pictures/stats", params=params).json()
        bars = {("★" * r if r else "unrated"): str(stats["rating"].get(str(r), 0)) for r in range(6)}
        bars.update({t["name"]: str(t["count"]) for t in stats["tags"][:25]})
        return bars, stats["count"]

    page.get_by_role("button", name="Statistics").click()
    expect(page.locator("#panel")).to_contain_text("20 pictures")
    expected, count = api_bars({})
    assert {k: v for k, v in shown_bars().items() if k in expected} == expected
    open_filters(page)
    page.get_by_label("Media type").select_option("image")  # a filter while the panel is open
    page.locator("#panel").get_by_role("button", name="★★★: 3").click()
    expect(page).to_have_url(re.compile(r"rating_min=3&rating_max=3|rating_max=3&rating_min=3"))
    expect(page.locator(".tile:visible")).to_have_count(3)
    expect(page.locator("#panel")).to_contain_text("3 pictures")  # the panel follows the view
    expected, count = api_bars({"media_type": "image", "rating_min": 3, "rating_max": 3})
    assert count == 3 and {k: v for k, v in shown_bars().items() if k in expected} == expected
    chip = page.get_by_label("Remove filter rating ≤ 3")  # the exact rating is visible and removable
    expect(page.locator(".chip", has_text="rating ≤ 3")).to_be_visible()
    chip.click()
    expect(page.locator(".tile:visible")).to_have_count(4)
    expect(page.locator("#panel")).to_contain_text("4 pictures")


def test_the_search_box_finds_words_and_by_meaning_on_request(page, server):
    """Words find pictures whose captions, prompts or names hold them; Meaning ranks every picture by an
    embedder's likeness to the words (the fake colour embedder here)."""
    ids = ids_by_name(server)
    server.library.edits.caption(ids["photo-03"], "a lighthouse on a cliff at dusk")
    box = page.get_by_label("Search pictures")
    box.fill("lighthouse")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"q=lighthouse"))
    tiles = page.locator(".tile:visible")
    expect(tiles).to_have_count(1)  # not every picture, ranked
    expect(tiles.first).to_have_attribute("data-id", str(ids["photo-03"]))
    expect(page.locator("#count")).to_have_text("1 picture")
    page.get_by_label("Search by").select_option("meaning")
    expect(page).to_have_url(re.compile(r"mode=meaning"))
    expect(tiles).to_have_count(20)  # every picture, by likeness
    expect(page.locator("#count")).to_have_text("20 matches")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.get_by_label("Search by")).to_have_value("meaning")


def test_duplicates_view_keeps_one_of_a_group_and_undo_brings_the_rest_back(page, server, tmp_path):
    folder = tmp_path / "variants"
    folder.mkdir()
    original = photo(320, 230, seed=3)  # photo-03's own scene, as other files
    original.resize((160, 115)).save(folder / "small.png")
    original.save(folder / "lossy.jpg", quality=40)
    server.library.import_paths([folder])
    ids = ids_by_name(server)
    page.get_by_role("link", name="Duplicates").click()
    view = page.get_by_role("region", name="Near-duplicates")
    expect(view).to_contain_text("keeping the largest of each frees")
    group = view.locator(".duplicate-group", has=page.locator(f"[data-id='{ids['small']}']"))
    expect(group.locator(".duplicate-card")).to_have_count(3)
    expect(group.locator(f"[data-id='{ids['photo-03']}']")).to_contain_text("largest")
    expect(group.locator(f"[data-id='{ids['small']}'] figcaption")).to_contain_text("small.png")  # named, not numbered
    screenshot(page, "duplicates")
    group.get_by_role("button", name="Keep photo-03.jpg, scrap the rest of its group").click()
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Kept photo-03.jpg; 2 moved to the scrapheap")
    assert server.library.get(ids["small"]).deleted_at is not None
    assert server.library.get(ids["lossy"]).deleted_at is not None
    assert server.library.get(ids["photo-03"]).deleted_at is None
    toast.get_by_role("button", name="Undo").click()
    expect(toast).to_contain_text("Undone: Move 2 pictures to the scrapheap")
    assert server.library.get(ids["small"]).deleted_at is None
    expect(view.locator(f".duplicate-card[data-id='{ids['small']}']")).to_be_visible()
    # Alike but not duplicates: the group goes, and Undo brings it back.
    group = view.locator(".duplicate-group", has=page.locator(f"[data-id='{ids['small']}']"))
    group.get_by_role("button", name="Not duplicates").click()
    expect(toast).to_contain_text("3 pictures marked as not duplicates")
    expect(view.locator(f".duplicate-card[data-id='{ids['small']}']")).to_have_count(0)
    assert all(ids["small"] not in g.picture_ids for g in server.library.duplicate_groups())
    toast.get_by_role("button", name="Undo").click()
    expect(view.locator(f".duplicate-card[data-id='{ids['small']}']")).to_be_visible()
    view.get_by_role("button", name="Back to the pictures").click()
    expect(view).to_be_hidden()
    expect(page.locator(".tile:visible").first).to_be_visible()


def test_the_update_banner_names_a_security_release_and_is_dismissed_per_version(page, server):
    from test_web_privacy import _UpdateServer

    updates = _UpdateServer(
        {"latest": "9.0.0", "severity": "high", "notes_url": "https://example.invalid/notes", "affected": "<0.2.0"}
    )
    try:
        admin = server.client(server.token("admin"))
        admin.put("/api/v1/settings/update-check", json={"enabled": False, "url": updates.url}).raise_for_status()
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        banner = page.locator("#update-banner")
        expect(banner).to_be_hidden()  # off until the owner turns it on: nothing asked, nothing shown
        assert updates.requests == []
        page.get_by_role("button", name="Settings").click()
        page.get_by_role("tab", name="Library").click()
        page.get_by_label("Check for updates").check()
        expect(banner).to_contain_text("Security fix (high): PixlStash 9.0.0 is out")
        expect(banner).to_contain_text("It fixes versions <0.2.0.")
        expect(banner.get_by_role("link", name="Release notes")).to_have_attribute(
            "href", "https://example.invalid/notes"
        )
        assert len(updates.requests) == 1
        page.get_by_role("button", name="Settings", exact=True).click()  # closes the panel
        screenshot(page, "update-banner")
        banner.get_by_role("button", name="Dismiss the notice of 9.0.0").click()
        expect(banner).to_be_hidden()
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        expect(page.locator("#count")).to_be_visible()
        expect(banner).to_be_hidden()  # dismissed for 9.0.0 ...
        # The dismissal is the person's own (prefs.js keeps it under their account): another version's.
        page.evaluate(
            "() => localStorage.setItem(`pixlstash.u${window.pixlstash.app.me.user_id}.update.dismissed`, '8.0.0')"
        )
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        expect(banner).to_be_visible()  # ... not for other versions
    finally:
        updates.close()
