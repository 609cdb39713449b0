"""Sign-in with an identity provider in the browser (issue 62): the owner sets the provider up in
Settings › Access; a person opens PixlStash, chooses "Sign in with Household ID", signs in and consents on
the real provider's own pages (oidc-provider, tests/openid_provider.py) and lands in the library signed
in, able to act (the session's CSRF token reached the page); at desktop and phone sizes, axe-clean."""

from __future__ import annotations

import pytest
from openid_provider import CLIENT_ID, CLIENT_SECRET, OpenIdProvider
from test_ui_accessibility import serious
from test_ui_accounts import PHONE, open_access
from ui_support import OWNER, PASSWORD, PageWatcher, expect, photos_server, screenshot, signed_in_page

from pixlstash.accounts import Accounts


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photos_server(tmp_path_factory, 2, seed=900) as live:
        yield live


def test_a_person_signs_in_with_the_households_identity_provider(browser, server):
    with OpenIdProvider(server.url + "/api/v1/auth/oidc/callback") as provider:
        with signed_in_page(browser, server) as owner:
            access = open_access(owner)
            section = access.locator("#identity-provider")
            expect(section).to_contain_text(server.url + "/api/v1/auth/oidc/callback")
            section.get_by_label("Issuer").fill(provider.issuer)
            section.get_by_label("Client id").fill(CLIENT_ID)
            section.get_by_label("Client secret").fill(CLIENT_SECRET)
            section.get_by_label("Button name").fill("Household ID")
            section.get_by_label("Make an account at a person's first sign-in").check()
            section.get_by_role("button", name="Turn on").click()
            expect(owner.locator("#identity-provider").get_by_role("button", name="Turn off")).to_be_visible()
            expect(owner.locator("#identity-provider").get_by_label("Client secret")).to_have_value("")
            assert serious(owner) == []
            screenshot(owner, "identity-provider-settings")

        for size, name in (({"width": 1280, "height": 800}, "desktop"), (PHONE, "phone")):
            context = browser.new_context(base_url=server.url, viewport=size)
            # The provider's development pages ask Google for a font; nothing outside this machine is reached.
            context.route("https://fonts.googleapis.com/**", lambda r: r.fulfill(content_type="text/css", body=""))
            page = context.new_page()
            watcher = PageWatcher(page)
            page.goto("/")
            button = page.get_by_role("link", name="Sign in with Household ID")
            expect(button).to_be_visible()
            assert serious(page) == []
            screenshot(page, f"sign-in-with-provider-{name}")
            button.click()
            # The provider's own pages: any name signs in here, then the person consents.
            page.get_by_placeholder("Enter any login").fill(f"dana-{name}")
            page.get_by_placeholder("and password").fill("anything at all")
            page.get_by_role("button", name="Sign-in").click()
            page.get_by_role("button", name="Continue").click()
            page.wait_for_selector("body[data-ready='1']")
            assert page.evaluate("window.pixlstash.app.me.username") == f"dana-{name}"
            assert "pixlstash_csrf" not in page.evaluate("document.cookie")  # taken once, then gone
            # Settings › Account offers the link (already made) and signing out works: a CSRF-checked write.
            page.get_by_role("button", name="Settings", exact=True).click()
            expect(page.get_by_role("button", name="Link with Household ID")).to_be_visible()
            page.keyboard.press("Escape")
            page.locator("#logout").click()
            expect(page.get_by_role("link", name="Sign in with Household ID")).to_be_visible()
            assert watcher.clean() == []
            context.close()

    made = {a.username: a.role for a in Accounts(server.state.auth).list()}
    assert made["dana-desktop"] == made["dana-phone"] == "viewer"
    assert not [s for s in server.state.auth.sessions() if s.user.startswith("dana")]


def test_signing_in_while_the_page_still_asks_about_the_provider(browser, server):
    # The sign-in form is handled from the moment it shows: a person (or a test) quicker than the page's
    # question about the identity provider still signs in, and the password never lands in the address.
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    held = []
    context.route("**/api/v1/auth/oidc", lambda route: held.append(route))  # answered once signed in
    page = context.new_page()
    watcher = PageWatcher(page)
    page.goto("/")
    page.get_by_label("User name").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("body[data-ready='1']")
    assert "password" not in page.url and held
    for route in held:
        route.continue_()
    assert watcher.clean() == []
    context.close()
