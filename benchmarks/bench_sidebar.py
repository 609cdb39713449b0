"""The sidebar at scale in headless Chromium: 20 projects, 1,000 sets and 200 characters.

    .venv/bin/python benchmarks/bench_sidebar.py [--runs 10]

A fresh library (in a temporary folder) with those names, served on 127.0.0.1 in this process; measures
drawing the whole sidebar (every item), fetching and drawing it again (what a live event costs), and a
keystroke in the filter box until the matching items are drawn. Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "pixlstash-core"), str(ROOT / "pixlstash-web"), str(ROOT / "tests")]

from live_server import LiveServer  # noqa: E402
from ui_support import launch  # noqa: E402

from pixlstash.library import Library  # noqa: E402

USER, PASSWORD = "owner", "benchmark password"
DRAW = """() => { const s = window.pixlstash.app.sidebar; s.html = null; const t = performance.now(); s.render();
  return performance.now() - t; }"""
RELOAD = """async () => { const s = window.pixlstash.app.sidebar; s.html = null; const t = performance.now();
  await s.reload(); return performance.now() - t; }"""
TYPE = """async (text) => { const box = document.getElementById("side-filter"); const t = performance.now();
  box.value = text; box.dispatchEvent(new Event("input"));
  while (!document.querySelector(`#sidebar [aria-label="set Set ${text.slice(4)}"]`)
    || document.querySelectorAll("#sidebar .side-item[data-kind=set]").length > 20) {
    await new Promise((r) => requestAnimationFrame(r)); }
  return performance.now() - t; }"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, Library.open(Path(folder) / "lib") as library:
        org = library.organise
        projects = [org.create_project(f"Project {n}") for n in range(1, 21)]
        for n in range(1, 1001):
            org.create_collection("set", f"Set {n}", projects[n % 20].id if n % 2 else None)
        for n in range(1, 201):
            org.create_collection("character", f"Person {n}", projects[n % 20].id if n % 4 == 0 else None)
        with LiveServer(library) as live, sync_playwright() as p:
            live.state.auth.create_user(USER, PASSWORD)
            browser = launch(p)
            page = browser.new_page(base_url=live.url, viewport={"width": 1440, "height": 900})
            page.goto("/")
            page.get_by_label("User name").fill(USER)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_selector("body[data-ready='1']")
            items = page.evaluate("() => document.querySelectorAll('#sidebar .side-item').length")
            print(f"{os.cpu_count()} cores; sidebar of {items:,} items (20 projects, 1,000 sets, 200 characters)")
            for name, script, arg in (
                ("draw every item", DRAW, None),
                ("fetch the lists and draw again (a live event)", RELOAD, None),
                ("a keystroke in the filter box until 'Set 99x' is drawn", TYPE, "Set 99"),
            ):
                times = []
                for _ in range(args.runs):
                    times.append(page.evaluate(script, arg) if arg else page.evaluate(script))
                    if arg:
                        page.evaluate(
                            "() => { const b = document.getElementById('side-filter'); b.value = '';"
                            " b.dispatchEvent(new Event('input')); }"
                        )
                        page.wait_for_timeout(200)
                print(f"{name}: median {statistics.median(times):.1f} ms (max {max(times):.1f}, n={len(times)})")
            browser.close()


if __name__ == "__main__":
    main()
