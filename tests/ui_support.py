"""Helpers for the browser tests: a real headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
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
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def launch(playwright):
    path = chromium_path()
    if path is None:
        pytest.fail("Chromium is not installed: scripts/setup --dev installs Debian's chromium package")
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)


class PageWatcher:
    """Collects console errors and failed requests so every test can assert there were none."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def clean(self, *, allow: tuple[str, ...] = ()) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in allow)]


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
