"""Sets and people in the browser (issue 62): a contributor sends a picture to a curated set from the picture
menu, its curator accepts it in the set's Curating panel with one key; a member keeps a set private and lets
another look at it, who then gets no menu item the server would refuse; two people on one browser keep their
own settings. Desktop and phone, axe-clean."""

from __future__ import annotations

import pytest
from test_ui_accessibility import serious
from test_ui_visibility import PHONE, signed_in_as
from ui_support import expect, photos_server, screenshot

from pixlstash.accounts import Accounts
from pixlstash.pictures.visibility import Audience, seen_by


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photos_server(tmp_path_factory, 2, seed=820) as live:
        accounts = Accounts(live.state.auth)
        bob = accounts.add("bob", "bobs password", "member")
        carol = accounts.add("carol", "carols password", "member")
        best = live.library.organise.create_collection("set", "Best")
        live.library.curation.set_role(best.id, carol.id, "curator")
        live.library.curation.set_role(best.id, bob.id, "contributor")
        live.best = best.id
        yield live


def test_a_contributor_submits_and_the_curator_accepts_with_one_key(browser, server):
    bob = signed_in_as(browser, server, "bob")
    first = bob.locator(".tile:not([hidden])").first
    picture_id = int(first.get_attribute("data-id"))
    first.locator("img").click(button="right")
    bob.get_by_role("menuitem", name="Add to set / character / project").click()
    bob.get_by_role("menuitem", name="Submit to ■ Best").click()
    expect(bob.locator("#toast")).to_contain_text("Sent 1 picture to Best's curators")
    assert server.library.get(picture_id).collections == []  # nothing changed yet

    carol = signed_in_as(browser, server, "carol")
    carol.locator('.side-item[data-kind="set"]', has_text="Best").click(button="right")
    carol.get_by_role("menuitem", name="Curating…").click()
    panel = carol.locator("#panel")
    expect(panel.get_by_label("Submissions")).to_contain_text(server.library.get(picture_id).original_name)
    expect(panel.get_by_label("Submissions")).to_contain_text("from bob")
    assert serious(carol) == []
    screenshot(carol, "curating-desktop")
    carol.set_viewport_size(PHONE)
    expect(panel.get_by_role("button", name="Accept")).to_be_visible()
    screenshot(carol, "curating-phone")
    carol.keyboard.press("a")  # the focused submission: accepted
    expect(carol.locator("#toast")).to_contain_text("Accepted")
    expect(panel.get_by_label("Submissions")).to_contain_text("Nothing waits.")
    assert server.library.get(picture_id).collections == [server.best]
    with seen_by(Audience(Accounts(server.state.auth).named("carol").id, sees_all=False)):
        assert "submitted to Best" in server.library.edits.history().steps[0].label  # her undo step
    for page in (bob, carol):
        assert page.watcher.clean() == []
        page.context.close()


def test_a_set_kept_private_shows_only_to_whoever_may_see_it(browser, server):
    bob = signed_in_as(browser, server, "bob")
    made = server.library.organise.create_collection("set", "Gifts")
    server.library.db.execute("UPDATE collections SET owner_id = ? WHERE id = ?", (bob_id(server), made.id))
    bob.reload()
    bob.wait_for_selector("body[data-ready='1']")
    gifts = bob.locator('.side-item[data-kind="set"]', has_text="Gifts")
    gifts.click(button="right")
    bob.get_by_role("menuitem", name="Keep private…").click()
    bob.get_by_role("button", name="Keep private").click()
    expect(bob.locator("#toast")).to_contain_text("Gifts is private")
    expect(bob.locator('.side-item[data-kind="set"][aria-label="set Gifts (private)"] .private-mark')).to_be_visible()
    assert serious(bob) == []
    screenshot(bob, "private-set-desktop")

    carol = signed_in_as(browser, server, "carol")
    expect(carol.locator('.side-item[data-kind="set"]', has_text="Best")).to_be_visible()
    expect(carol.locator('.side-item[data-kind="set"]', has_text="Gifts")).to_have_count(0)
    # Bob lets carol look at it: from the set's Curating panel.
    gifts.click(button="right")
    bob.get_by_role("menuitem", name="Curating…").click()
    form = bob.locator("#give-role")
    form.get_by_label("Who").select_option(label="carol")
    form.get_by_label("Their role in the set").select_option("viewer")
    form.get_by_role("button", name="Give").click()
    expect(bob.locator("#panel").get_by_label("Roles")).to_contain_text("viewer")
    carol.reload()
    carol.wait_for_selector("body[data-ready='1']")
    expect(carol.locator('.side-item[data-kind="set"]', has_text="Gifts")).to_be_visible()
    carol.locator('.side-item[data-kind="set"]', has_text="Gifts").click(button="right")
    expect(carol.get_by_role("menuitem", name="Keep private…")).to_have_count(0)  # not hers to share
    expect(carol.get_by_role("menuitem", name="Share with the library")).to_have_count(0)
    for refused in ("Rename…", "Share…", "Delete set (keeps pictures)"):  # the server would refuse a viewer
        expect(carol.get_by_role("menuitem", name=refused)).to_have_count(0)
    carol.set_viewport_size(PHONE)
    screenshot(carol, "private-set-viewer-phone")
    for page in (bob, carol):
        assert page.watcher.clean() == []
        page.context.close()


def bob_id(server) -> int:
    return Accounts(server.state.auth).named("bob").id


def test_two_people_on_one_browser_each_keep_their_own_settings(browser, server):
    project = server.library.organise.create_project("Trips")
    server.library.organise.create_collection("set", "Alps", project_id=project.id)
    bob = signed_in_as(browser, server, "bob")
    folded = '.side-item[data-kind="set"]:has-text("Alps")'
    expect(bob.locator(folded)).to_be_visible()
    bob.locator(f'[data-toggle="{project.id}"]').click()  # bob folds the project
    expect(bob.locator(folded)).to_have_count(0)
    bob.locator("#logout").click()
    # Carol signs in on the same browser (its storage is bob's too): the project is open for her.
    bob.get_by_label("User name").fill("carol")
    bob.get_by_label("Password").fill("carols password")
    bob.get_by_role("button", name="Sign in").click()
    bob.wait_for_selector("body[data-ready='1']")
    expect(bob.locator(folded)).to_be_visible()
    bob.locator("#logout").click()
    bob.get_by_label("User name").fill("bob")
    bob.get_by_label("Password").fill("bobs password")
    bob.get_by_role("button", name="Sign in").click()
    bob.wait_for_selector("body[data-ready='1']")
    expect(bob.locator(folded)).to_have_count(0)  # and bob's is still folded
    assert bob.watcher.clean() == []
    bob.context.close()


def test_a_project_kept_private_and_its_people(browser, server):
    with seen_by(Audience(bob_id(server), sees_all=False)):
        project = server.library.organise.create_project("Proposal")
        server.library.organise.create_collection("set", "Rings", project_id=project.id)
    bob = signed_in_as(browser, server, "bob")
    bob.locator('.side-item[data-kind="project"]', has_text="Proposal").click(button="right")
    bob.get_by_role("menuitem", name="Keep private…").click()
    bob.get_by_role("button", name="Keep private").click()
    expect(bob.locator("#toast")).to_contain_text("Proposal is private")
    carol = signed_in_as(browser, server, "carol")
    expect(carol.locator('.side-item[data-kind="project"]', has_text="Proposal")).to_have_count(0)
    expect(carol.locator('.side-item[data-kind="set"]', has_text="Rings")).to_have_count(0)
    bob.locator('.side-item[data-kind="project"]', has_text="Proposal").click(button="right")
    bob.get_by_role("menuitem", name="People…").click()
    form = bob.locator("#give-role")
    form.get_by_label("Who").select_option(label="carol")
    form.get_by_label("Their role in the project").select_option("viewer")
    form.get_by_role("button", name="Give").click()
    expect(bob.locator("#panel").get_by_label("Roles")).to_contain_text("carol viewer")
    assert serious(bob) == []
    screenshot(bob, "project-people-desktop")
    carol.reload()
    carol.wait_for_selector("body[data-ready='1']")
    expect(carol.locator('.side-item[data-kind="set"]', has_text="Rings")).to_be_visible()
    carol.locator('.side-item[data-kind="project"]', has_text="Proposal").click(button="right")
    for refused in ("Rename…", "Share…", "Delete project (keeps pictures)", "Keep private…"):
        expect(carol.get_by_role("menuitem", name=refused)).to_have_count(0)
    for page in (bob, carol):
        assert page.watcher.clean() == []
        page.context.close()
