"""Private and shared pictures in the browser (issue 62): a member uploads, finds the picture under "My
pictures", private, and shares it from the viewer; another member finds it under "Shared with me"; a viewer
has no control to change it. At desktop and phone sizes, axe-clean."""

from __future__ import annotations

import re

import pytest
from corpus import photo
from test_ui_accessibility import serious
from test_ui_accounts import PHONE
from ui_support import PageWatcher, expect, photos_server, screenshot, wait_for_the_list

from pixlstash.accounts import Accounts


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photos_server(tmp_path_factory, 2, seed=800) as live:
        accounts = Accounts(live.state.auth)
        accounts.add("bob", "bobs password", "member")
        accounts.add("carol", "carols password", "member")
        accounts.add("dave", "daves password", "viewer")
        yield live


def signed_in_as(browser, server, name: str, **options):
    context = browser.new_context(base_url=server.url, **{"viewport": {"width": 1280, "height": 800}, **options})
    page = context.new_page()
    page.watcher = PageWatcher(page)
    page.goto("/")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(f"{name}s password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("body[data-ready='1']")
    return page


def test_a_member_shares_a_private_upload_and_another_finds_it(browser, server, tmp_path):
    bob = signed_in_as(browser, server, "bob")
    photo(300, 200, seed=901).save(tmp_path / "bobs-harbour.png")
    bob.get_by_role("button", name="Upload").click()
    tray = bob.get_by_role("region", name="Uploads")
    tray.locator("#pick-files").set_input_files([tmp_path / "bobs-harbour.png"])
    expect(tray.locator("#uploads-summary")).to_contain_text("1 imported")
    ((picture_id,),) = server.library.db.query("SELECT id FROM pictures WHERE original_name = 'bobs-harbour.png'")
    assert server.library.get(picture_id).private  # a member's uploads are theirs until shared

    carol = signed_in_as(browser, server, "carol")
    carol.get_by_role("link", name="Shared with me").click()
    wait_for_the_list(carol)
    expect(carol.locator("#count")).to_have_text("2 pictures")  # the owner's two, not bob's

    bob.get_by_role("link", name="My pictures").click()
    wait_for_the_list(bob)
    expect(bob.locator("#count")).to_have_text("1 picture")
    bob.locator(".tile:not([hidden]) img").first.click()
    line = bob.locator("#owner-line")
    expect(line).to_contain_text("Brought in by bob")
    expect(line).to_contain_text("Private")
    assert serious(bob) == []
    screenshot(bob, "viewer-private")
    line.get_by_role("button", name="Share with the library").click()
    expect(bob.locator("#owner-line")).to_contain_text("Shared with the library")
    assert not server.library.get(picture_id).private

    carol.reload()
    carol.wait_for_selector("body[data-ready='1']")
    wait_for_the_list(carol)
    expect(carol.locator("#count")).to_have_text("3 pictures")
    carol.goto(f"/?picture={picture_id}")
    expect(carol.locator("#owner-line")).to_contain_text("Brought in by bob")
    expect(carol.locator("#owner-line").get_by_role("button", name="Share with the library")).to_have_count(0)
    expect(carol.locator("#owner-line").get_by_role("button", name="Keep to myself")).to_have_count(0)  # not hers
    carol.locator("#owner-line").get_by_role("button", name="Add to my library").click()
    expect(carol.locator("#toast")).to_contain_text("Added to your library")
    expect(carol.locator("#owner-line").get_by_role("button")).to_have_count(0)
    carol.goto("/?whose=mine")
    wait_for_the_list(carol)
    expect(carol.locator("#count")).to_have_text("1 picture")  # bob's, now hers too

    dave = signed_in_as(browser, server, "dave", viewport=PHONE, has_touch=True)
    dave.goto(f"/?picture={picture_id}")
    expect(dave.locator("#owner-line")).to_contain_text("Shared with the library")
    expect(dave.locator("#owner-line").get_by_role("button")).to_have_count(0)
    for control in ("Add to…", "Share…", "Delete", "Turn left", "Rate 1", "Save caption"):  # a viewer changes nothing
        expect(dave.get_by_role("button", name=control, exact=True)).to_be_hidden()
    expect(dave.get_by_label("Add tag")).to_be_hidden()
    assert serious(dave) == []
    screenshot(dave, "viewer-shared-phone")
    for page in (bob, carol, dave):
        assert page.watcher.clean() == []
        page.context.close()


def test_a_member_chooses_to_share_uploads_by_default(browser, server):
    Accounts(server.state.auth).set_quota("carol", 50_000_000, by=None)
    carol = signed_in_as(browser, server, "carol", viewport=PHONE, has_touch=True)
    carol.get_by_role("button", name="Settings", exact=True).click()
    box = carol.get_by_label("Keep what I upload to myself until I share it (admins see everything)")
    expect(box).to_be_checked()
    expect(carol.locator("#uploads-quota")).to_have_text(re.compile(r"You use [0-9.]+ MB of the 50 MB you may upload"))
    box.uncheck()
    expect(carol.locator("#toast")).to_contain_text("Your uploads are shared with the library")
    assert Accounts(server.state.auth).named("carol").uploads_private is False
    assert serious(carol) == []
    screenshot(carol, "uploads-default-phone")
    assert carol.watcher.clean() == []
    carol.context.close()


def test_a_viewers_menu_offers_nothing_it_cannot_do(browser, server):
    before = server.library.count()
    dave = signed_in_as(browser, server, "dave")
    dave.locator(".tile:not([hidden]) img").first.click(button="right")
    menu = dave.get_by_role("menu")
    expect(menu.get_by_role("menuitem", name="Find similar pictures")).to_be_visible()
    for item in ("Rate", "Tag…", "Delete", "Share…", "Add to my library"):
        expect(menu.get_by_role("menuitem", name=item, exact=True)).to_have_count(0)
    dave.keyboard.press("Escape")
    dave.keyboard.press("Escape")  # the right-click had selected the first picture: none now
    dave.locator(".tile:not([hidden]) .check").nth(1).click(force=True)  # selected: the bar offers no writes
    bar = dave.get_by_role("toolbar", name="Selection")
    expect(bar).to_contain_text("selected")
    for control in ("New project", "New character", "New set", "Manage folders"):  # nor does the sidebar
        expect(dave.get_by_role("button", name=control, exact=True)).to_be_hidden()
    screenshot(dave, "viewer-selection")
    expect(bar.get_by_role("button", name="Similar")).to_be_visible()
    for control in ("Tag…", "Add to…", "Share…", "Delete", "Rate 5 stars"):
        expect(bar.get_by_role("button", name=control, exact=True)).to_be_hidden()
    bar.get_by_role("button", name="Clear selection").click()
    sent: list[str] = []
    dave.on("request", lambda request: sent.append(f"{request.method} {request.url}"))
    dave.keyboard.press("ArrowRight")  # the focus on a picture: its keys change nothing for a viewer
    for key in ("5", "Delete", "r", "Control+z"):
        dave.keyboard.press(key)
    dave.keyboard.press("?")  # a key a viewer may use, pressed last: once its panel shows, the others were handled
    expect(dave.locator("#panel")).to_be_visible()
    assert [line for line in sent if not line.startswith("GET")] == []  # nothing was even asked of the server
    assert {p.rating for p in server.library.page().items} == {0} and server.library.count() == before
    carol = signed_in_as(browser, server, "carol")
    carol.locator(".tile:not([hidden]) img").first.click(button="right")
    expect(carol.get_by_role("menu").get_by_role("menuitem", name="Add to my library")).to_be_visible()
    for page in (dave, carol):
        assert page.watcher.clean() == []
        page.context.close()


def test_a_member_adds_a_shared_picture_to_their_library_from_the_link(browser, server, tmp_path):
    photo(200, 150, seed=955).save(tmp_path / "bobs-secret.png")
    library = server.library
    bob = Accounts(server.state.auth).named("bob")
    report = library.import_paths([tmp_path / "bobs-secret.png"], owner_id=bob.id, private=True)
    (picture_id,) = [p.picture_id for p in report.imported]
    _, token = server.state.shares.create("pictures", picture_ids=[picture_id])
    carol = signed_in_as(browser, server, "carol")
    carol.goto(f"/s/{token}")
    carol.wait_for_selector("body[data-ready='1']")
    carol.locator(".tile:not([hidden]) img").first.click()
    carol.get_by_role("button", name="Add to my library").click()
    expect(carol.locator("#keep")).to_have_text("In your library")
    assert serious(carol) == []
    screenshot(carol, "share-add-to-library")
    carol.goto(f"/?picture={picture_id}")
    expect(carol.locator("#owner-line")).to_contain_text("Brought in by bob")  # hers to see now
    assert carol.watcher.clean() == []
    carol.context.close()
    # Someone who never signed in here is offered nothing of the kind.
    stranger = browser.new_context(base_url=server.url).new_page()
    stranger.goto(f"/s/{token}")
    stranger.wait_for_selector("body[data-ready='1']")
    stranger.locator(".tile:not([hidden]) img").first.click()
    expect(stranger.locator("#download, .info h2").first).to_be_visible()
    expect(stranger.get_by_role("button", name="Add to my library")).to_have_count(0)
    stranger.context.close()
