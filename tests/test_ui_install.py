"""The UI installs as an app (Chromium's own installability check), opens offline from its cached shell,
and never caches a picture or API data."""

from __future__ import annotations

import pytest
from corpus import photo
from ui_support import CHROMIUM_FLAGS, OWNER, PASSWORD, PageWatcher, chromium_path, screenshot, sign_in

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server(library, tmp_path):
    from live_server import LiveServer

    folder = tmp_path / "pictures"
    folder.mkdir()
    for n in range(3):
        photo(320, 240, seed=n).save(folder / f"p{n}.jpg")
    library.import_paths([folder])
    with LiveServer(library) as live:
        live.state.auth.create_user(OWNER, PASSWORD)
        yield live


def test_chromium_sees_an_installable_app_that_opens_offline_without_private_data(server, tmp_path):
    with playwright_api.sync_playwright() as p:
        # A profile of its own: Chromium installs nothing from an incognito context, which is what a
        # plain new_context() is.
        context = p.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_FLAGS,
            base_url=server.url,
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
        )
        page = context.pages[0]
        watcher = PageWatcher(page)
        sign_in(page)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        # A function, not an expression: Playwright evaluates it once (past the page's CSP, which forbids
        # eval) and calls it on each poll; an expression would be evaluated again, and refused, each time.
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [], manifest["errors"]
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        icon = page.request.get("/ui/icons/app-512.png")
        assert icon.ok and icon.headers["content-type"] == "image/png"

        # A view with a search in its address, opened through the service worker: what was searched for
        # must not stay in the browser's cache (it used to, past sign-out).
        page.goto("/?text=lighthouse-secret")
        page.wait_for_selector(".tile:not([hidden]) img, .empty:not([hidden])")
        cached = page.evaluate(
            """async () => {
                const urls = [];
                for (const name of await caches.keys()) {
                    const cache = await caches.open(name);
                    for (const request of await cache.keys()) {
                        const url = new URL(request.url);
                        urls.push(url.pathname + url.search);
                    }
                }
                return urls;
            }"""
        )
        assert "/" in cached and "/ui/js/app.js" in cached and "/ui/app.css" in cached
        assert not [url for url in cached if url.startswith(("/api/", "/s/"))], cached  # nothing private
        assert not [url for url in cached if "?" in url or "lighthouse-secret" in url], cached

        context.set_offline(True)  # the server is out of reach: the shell still opens, and says so
        page.reload()
        banner = page.get_by_role("alert").filter(has_text="cannot reach its server")
        banner.wait_for()
        assert page.title() == "PixlStash"
        assert banner.get_by_role("button", name="Try again").is_visible()
        screenshot(page, "install-offline-phone")
        context.set_offline(False)
        page.get_by_role("button", name="Try again").click()  # back online: the library again
        page.wait_for_selector(".tile:not([hidden]) img")
        assert [e for e in watcher.errors if "Failed to fetch" not in e and "ERR_INTERNET_DISCONNECTED" not in e] == []
        context.close()
