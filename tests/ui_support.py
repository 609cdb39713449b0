"""Helpers for the browser tests: a real headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The one `expect` of every browser test (its wait is set in `launch`); a module that imports it is skipped
# where Playwright is not installed.
expect = pytest.importorskip("playwright.sync_api").expect

SCREENSHOTS = Path(os.environ.get("PIXLSTASH_SCREENSHOTS", REPO / "artifacts" / "screenshots"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
    "--disable-features=MediaRouter,OptimizationHints,Translate",
]


def chromium_path() -> str | None:
    """Debian's headless shell (the build Playwright runs headless itself: same Blink and V8, a quarter
    less CPU than the full browser's headless mode), else the full browser; PIXLSTASH_TEST_CHROMIUM names
    another (`chromium` for the full one)."""
    chosen = os.environ.get("PIXLSTASH_TEST_CHROMIUM")
    for name in (chosen,) if chosen else ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def launch(playwright):
    path = chromium_path()
    if path is None and os.environ.get("PIXLSTASH_TEST_CHROMIUM"):
        pytest.fail(f"PIXLSTASH_TEST_CHROMIUM={os.environ['PIXLSTASH_TEST_CHROMIUM']} names no browser on PATH")
    if path is None:
        pytest.fail("Chromium is not installed: scripts/setup --dev installs Debian's chromium packages")
    # A busy CI machine (2 cores, another test building an image) can take longer than Playwright's 5 s
    # to answer an event a test waits for; waits end on the event, so a longer limit costs a passing test nothing.
    expect.set_options(timeout=20_000)
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)


class PageWatcher:
    """Collects console errors and failed requests so every test can assert there were none."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        # the stack too: an error seen once in a CI run must say where it was thrown
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}\n{getattr(e, 'stack', '')}"))

    def clean(self, *, allow: tuple[str, ...] = ()) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in allow)]


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


OWNER, PASSWORD = "owner", "correct horse battery"


def wait_for_the_list(page) -> None:
    """Until the grid shows the list of the page's address (a click changes the address before the list)."""
    page.wait_for_function(
        "() => document.body.dataset.ready === '1' && document.body.dataset.shown === location.search"
    )


def sign_in(page) -> None:
    page.goto("/")
    page.get_by_label("User name").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(".tile:not([hidden]) img")


@contextmanager
def library_server(library_root: Path, folder: Path, count: int):
    """A real server over a library of ``folder``'s ``count`` pictures (no plugins), with the owner's account."""
    from live_server import LiveServer

    from pixlstash.library import Library
    from pixlstash.plugins import make_plugin_manager

    library = Library.open(library_root, plugin_manager=make_plugin_manager(load_entry_points=False))
    try:
        assert len(library.import_paths([folder]).imported) == count
        with LiveServer(library) as live:
            live.state.auth.create_user(OWNER, PASSWORD)
            yield live
    finally:
        library.close()


@contextmanager
def photos_server(tmp_path_factory, count: int, *, size=(640, 480), seed: int = 0, name: str = "p{n}.png"):
    """``library_server`` over ``count`` photos made here: ``photo(*size, seed=seed + n)`` saved as ``name``."""
    from corpus import photo

    folder = tmp_path_factory.mktemp("pictures")
    for n in range(count):
        photo(*size, seed=seed + n).save(folder / name.format(n=n))
    with library_server(tmp_path_factory.mktemp("library"), folder, count) as live:
        yield live


@contextmanager
def signed_in_page(browser, server, **options):
    """A signed-in page in its own browser context (1280x800, no service worker, unless ``options`` say
    otherwise); on leaving, asserts the page logged no error but those the test listed in
    ``page.expected_errors``."""
    # No service worker, as a browser has none on the household's network over plain HTTP (not a secure
    # context): registering one made every test's first visit fetch the whole shell twice, a quarter of
    # the browser's CPU in these tests. test_ui_install.py tests the installed app with it.
    settings = {"viewport": {"width": 1280, "height": 800}, "service_workers": "block", **options}
    context = browser.new_context(base_url=server.url, **settings)
    page = context.new_page()
    watcher = PageWatcher(page)
    page.expected_errors = []  # console errors a test provokes on purpose (a refused request)
    sign_in(page)
    yield page
    errors = watcher.clean(allow=tuple(page.expected_errors))
    assert errors == [], errors
    context.close()


def boxes_overlap(a: dict, b: dict) -> bool:
    """Whether two bounding boxes (Playwright's x, y, width, height) share any area."""
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )
