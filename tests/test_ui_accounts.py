"""People and access in the browser (issue 62): the owner invites someone from Settings › Access, the
person opens the link and joins with a name and password of their own, sees no control their role cannot
use, is promoted and then disabled by the owner; at desktop and phone sizes, axe-clean."""

from __future__ import annotations

import re

import pytest
from test_ui_accessibility import serious
from ui_support import PageWatcher, expect, photos_server, screenshot, signed_in_page

from pixlstash.accounts import Accounts

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photos_server(tmp_path_factory, 3, seed=700) as live:
        yield live


def open_access(page):
    page.get_by_role("button", name="Settings", exact=True).click()
    page.get_by_role("tab", name="Access").click()
    return page.locator("#settings-access")


def test_an_invited_person_joins_sees_what_their_role_allows_and_is_stopped_when_disabled(browser, server):
    with signed_in_page(browser, server) as owner:
        access = open_access(owner)
        expect(access.get_by_label("Accounts")).to_contain_text("owner")
        access.get_by_label("Who the invite is for").fill("Dana, the client")
        access.get_by_label("Role of the invited").select_option("viewer")
        access.get_by_role("button", name="Create invite").click()
        link = access.locator("#invite-link code")
        expect(link).to_contain_text("/#invite=pxi_")
        url = link.inner_text()
        expect(access.get_by_label("Open invites")).to_contain_text("Dana, the client")
        assert serious(owner) == []
        screenshot(owner, "access-desktop")

        # Dana opens the link in a browser of her own.
        context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
        dana = context.new_page()
        watcher = PageWatcher(dana)
        dana.goto(url.replace(server.url, ""))
        expect(dana.locator("#login-hint")).to_have_text(
            "You are invited to this library: choose your name and password."
        )
        assert "#invite" not in dana.url  # the code leaves the address bar (and the history) at once
        assert serious(dana) == []
        screenshot(dana, "invite-sign-in")
        dana.get_by_label("User name").fill("dana")
        dana.get_by_label("Password").fill("danas password")
        dana.get_by_role("button", name="Join").click()
        dana.wait_for_selector("body[data-ready='1']")
        expect(dana.locator(".tile:not([hidden]) img").first).to_be_visible()
        assert dana.evaluate("document.body.dataset.scope") == "read"
        expect(dana.get_by_role("button", name="Upload")).to_be_hidden()
        expect(dana.get_by_role("button", name="Snapshots")).to_be_hidden()
        dana.get_by_role("button", name="Settings", exact=True).click()
        panel = dana.locator("#panel")
        expect(panel.get_by_role("button", name="Change password")).to_be_visible()
        expect(panel.get_by_role("tab")).to_have_count(0)  # nothing else of the settings is hers
        screenshot(dana, "viewer-settings")

        # The owner makes her a member: after a reload she may upload.
        owner.get_by_role("button", name="Settings", exact=True).click()  # closes the panel
        access = open_access(owner)
        access.get_by_label("Role of dana").select_option("member")
        expect(owner.locator("#toast")).to_contain_text("dana is now a member")
        access.get_by_label("Quota of dana").select_option(label="5 GB")
        expect(owner.locator("#toast")).to_contain_text("dana: 5 GB")
        assert Accounts(server.state.auth).named("dana").quota_bytes == 5 * 2**30
        dana.reload()
        dana.wait_for_selector("body[data-ready='1']")
        expect(dana.get_by_role("button", name="Upload")).to_be_visible()
        expect(dana.get_by_role("button", name="Snapshots")).to_be_hidden()

        # Disabled: her next request signs her out.
        access.get_by_role("button", name="Disable dana").click()
        owner.get_by_role("button", name="Disable", exact=True).click()  # the confirmation
        expect(owner.locator("#toast")).to_contain_text("Disabled dana")
        expect(access.get_by_label("Accounts")).to_contain_text(re.compile("member · disabled"))
        dana.reload()
        expect(dana.get_by_role("button", name="Sign in")).to_be_visible()
        assert watcher.clean(allow=("401",)) == []
        context.close()


def test_the_access_settings_on_a_phone(browser, server):
    with signed_in_page(browser, server, viewport=PHONE, has_touch=True) as page:
        access = open_access(page)
        expect(access.get_by_role("button", name="Create invite")).to_be_visible()
        width = page.locator("#panel").evaluate("p => [p.scrollWidth, p.clientWidth]")
        assert width[0] <= width[1], width  # nothing wider than the phone
        assert serious(page) == []
        screenshot(page, "access-phone")
