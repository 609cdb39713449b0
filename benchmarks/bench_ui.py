"""The browser grid at 100,000 pictures, measured in headless Chromium with Performance marks.

    .venv/bin/python benchmarks/bench_ui.py [.bench/ui100k] [--pictures 100000] [--runs 5]

Builds (once) a synthetic library with a real grid thumbnail for every picture, runs the server in its
own process, signs in, and measures:

- navigation to first painted thumbnail (``pixlstash:first-thumbnail`` is marked when the first tile's
  image has loaded and the next frame is drawn), with the installed app's service worker active (every
  load after the first);
- a view change (a filter, a tag, a text search, all pictures again) until its layout is in and the
  first screen is painted;
- jumping to the middle of the grid until every visible tile has its image drawn;
- frames dropped while scrolling 10,000 rows (a frame is dropped when the gap between animation
  frames is over 1.5x the display's 16.7 ms), and the long tasks (over 50 ms) the browser reports;
- the timeline scrubber: dragged with the mouse to 20 points, the time from each pointer event to the
  frame that shows the grid there (a task queued from the next animation frame runs once that frame's
  rendering is done), and after the drag, the time
  until every visible tile's image is drawn.

``--pictures 1000000`` measures a million-picture library (a build of about five minutes).
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(ROOT / "pixlstash-core"),
    str(ROOT / "pixlstash-web"),
    str(ROOT / "tests"),
    str(ROOT / "benchmarks"),
]

USER, PASSWORD = "bench", "benchmark password"


def build(root: Path, pictures: int) -> None:
    if (root / "library.db").exists():
        return
    from PIL import Image
    from synthetic_library import build as build_library

    from pixlstash.library import Library
    from pixlstash.media.thumbnails import ThumbnailCache

    build_library(root, pictures, tags_per_picture=3, sets=100, characters=20)
    samples = []
    for n in range(64):
        image = Image.new("RGB", (384, 256), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
        buffer = io.BytesIO()
        image.save(buffer, "WEBP", quality=70)
        samples.append(buffer.getvalue())
    started = time.perf_counter()
    originals = root / "bench-samples"
    originals.mkdir(exist_ok=True)
    for n, body in enumerate(samples):
        (originals / f"{n}.webp").write_bytes(body)
    with Library.open(root) as library:
        cache = ThumbnailCache(root / "thumbnails")
        for n, (content_hash,) in enumerate(library.db.query("SELECT content_hash FROM pictures")):
            path = cache.path(content_hash, "grid")
            path.parent.mkdir(parents=True, exist_ok=True)
            os.link(originals / f"{n % len(samples)}.webp", path)  # the bytes once, a name per picture
    print(f"wrote {pictures:,} grid thumbnails in {time.perf_counter() - started:.1f} s")


def serve(root: Path) -> tuple[subprocess.Popen, str]:
    from pixlstash.auth import Authenticator

    auth = Authenticator(root)
    if auth.needs_setup:
        auth.create_user(USER, PASSWORD)
    auth.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:2])}
    server = subprocess.Popen(
        [sys.executable, "-m", "pixlstash", "serve", "--library", str(root), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/version").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    return server, url


FIRST_PAINT = """() => new Promise(resolve => {
  const check = () => {
    const mark = performance.getEntriesByName('pixlstash:first-thumbnail')[0];
    if (mark) resolve(mark.startTime); else setTimeout(check, 5);
  };
  check();
})"""

JUMP = """() => new Promise(resolve => {
  const grid = window.pixlstash.app.grid;
  const started = performance.now();
  grid.el.scrollTop = grid.inner.offsetHeight / 2;
  grid.render();
  const check = () => {
    const imgs = [...grid.inner.querySelectorAll('.tile img')].filter(img => {
      const r = img.getBoundingClientRect();
      return r.bottom > 0 && r.top < innerHeight;
    });
    if (imgs.length && imgs.every(img => img.complete && img.naturalWidth > 0)) {
      requestAnimationFrame(() => resolve(performance.now() - started));
    } else requestAnimationFrame(check);
  };
  check();
})"""

SCROLL = """(rows) => new Promise(resolve => {
  const grid = window.pixlstash.app.grid;
  grid.el.scrollTop = 0;
  const rowHeight = grid.rows.cell + 4;
  const target = Math.min(rows * rowHeight, grid.inner.offsetHeight - grid.el.clientHeight);
  const perFrame = rowHeight * 5;  // 5 rows a frame: a fast fling (about 55,000 px/s)
  const gaps = [];
  const longTasks = [];  // main-thread tasks over 50 ms, as the browser reports them
  const observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries().map(e => e.duration)));
  observer.observe({ type: 'longtask' });
  let last = performance.now();
  const frame = (now) => {
    gaps.push(now - last);
    last = now;
    if (grid.el.scrollTop >= target - 1) {
      const dropped = gaps.slice(1).filter(g => g > 25).length;
      setTimeout(() => {  // the observer reports a task once it has ended
        observer.disconnect();
        resolve({frames: gaps.length - 1, dropped, worst: Math.max(...gaps.slice(1)),
                 rows: Math.round(grid.el.scrollTop / rowHeight), longTasks: longTasks.length,
                 longest: Math.max(0, ...longTasks)});
      }, 100);
      return;
    }
    grid.el.scrollTop = Math.min(target, grid.el.scrollTop + perFrame);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})"""


VIEW_CHANGE = """(view) => new Promise(resolve => {
  // From the navigation to the frame that shows the new view's first screen painted (its first page of
  // pictures, before the whole layout is in), and to the frame after the whole layout is in.
  const app = window.pixlstash.app;
  const marks = performance.getEntriesByName('pixlstash:layout-ready').length;
  const before = app.grid.ids;
  const started = performance.now();
  let firstScreen = null;
  app.navigate(view);
  const painted = () => {
    const imgs = [...app.grid.inner.querySelectorAll('.tile:not([hidden]) img')].filter(img => {
      const r = img.getBoundingClientRect();
      return r.bottom > 0 && r.top < innerHeight;
    });
    return imgs.every(img => img.complete);
  };
  const check = () => {
    const now = performance.now();
    if (firstScreen === null && app.grid.ids !== before && painted()) firstScreen = now - started;
    if (performance.getEntriesByName('pixlstash:layout-ready').length > marks && painted()) {
      requestAnimationFrame(() => resolve({first: firstScreen ?? now - started, all: performance.now() - started,
                                           count: app.grid.ids.length}));
      return;
    }
    requestAnimationFrame(check);
  };
  check();
})"""

# What a person does to the view: a filter, a tag, a text search, and back to everything.
VIEW_CHANGES = (
    ("rating at least 4", {"rating_min": 4}),
    ("a tag (tag_00003)", {"tags": ["tag_00003"]}),
    ("text search 'tag_00042'", {"q": "tag_00042"}),
    ("all pictures again", {}),
)

ARM_SCRUB = """() => {
  const el = window.pixlstash.app.scrubber.el;
  window.scrubTimes = [];
  window.scrubWork = [];
  el.addEventListener('pointermove', (event) => {
    const t0 = event.timeStamp;
    // After the next frame's rendering steps, a task runs: the frame with the grid there is drawn.
    requestAnimationFrame(() => setTimeout(() => window.scrubTimes.push(performance.now() - t0), 0));
  }, { capture: true });
  el.addEventListener('pointermove', (event) => {
    window.scrubWork.push(performance.now() - event.timeStamp);  // after the scrubber's own handler ran
  });
  const r = el.getBoundingClientRect();
  return { x: r.left + r.width / 2, y: r.top, height: r.height };
}"""

SETTLE = """() => new Promise(resolve => {
  const grid = window.pixlstash.app.grid;
  const started = performance.now();
  const check = () => {
    const imgs = [...grid.inner.querySelectorAll('.tile img')].filter(img => {
      const r = img.getBoundingClientRect();
      return !img.closest('.tile').hidden && r.bottom > 0 && r.top < innerHeight;
    });
    if (imgs.length && imgs.every(img => img.complete && img.naturalWidth > 0)) {
      requestAnimationFrame(() => resolve(performance.now() - started));
    } else requestAnimationFrame(check);
  };
  check();
})"""


def scrub(page) -> None:
    """Drag the timeline from top to bottom and back in 20 steps, as a person looking for a year."""
    box = page.evaluate(ARM_SCRUB)
    x, top, height = box["x"], box["y"], box["height"]
    page.mouse.move(x, top + 8)
    page.mouse.down()
    points = [0.05 * k for k in range(1, 11)] + [1 - 0.05 * k for k in range(1, 11)]
    for fraction in points:
        page.mouse.move(x, top + 8 + fraction * (height - 16))
        page.wait_for_timeout(120)  # a person's drag: a new point every few frames
    page.mouse.up()
    settle = page.evaluate(SETTLE)
    times = page.evaluate("() => window.scrubTimes")
    work = page.evaluate("() => window.scrubWork")
    groups = page.evaluate("() => window.pixlstash.app.grid.groups?.labels.length || 0")
    label = page.evaluate("() => document.querySelector('.scrubber-label').textContent")
    print(
        f"timeline scrubber ({groups:,} date headers), pointer event to the frame drawn there: "
        f"median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms over {len(times)} moves "
        f"(event to its handler done: median {statistics.median(work):.0f} ms); "
        f"every visible tile's image drawn {settle:.0f} ms after the drag; label at the end: {label!r}"
    )


def signed_in(browser, url: str):
    """A page of the server at ``url``, 1440x900, signed in as the benchmark's owner, the grid ready."""
    page = browser.new_context(base_url=url, viewport={"width": 1440, "height": 900}).new_page()
    page.goto("/")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("body[data-ready='1']")
    return page


def measure(url: str, runs: int) -> None:
    from playwright.sync_api import sync_playwright
    from ui_support import launch

    with sync_playwright() as p:
        browser = launch(p)
        page = signed_in(browser, url)
        count = page.evaluate("() => window.pixlstash.app.grid.ids.length")
        print(f"grid of {count:,} pictures, {page.evaluate('() => window.pixlstash.app.grid.rows.columns')} columns")
        first, jumps = [], []
        for _ in range(runs):
            page.goto("/?nocache=" + str(time.time()))  # a fresh navigation (the view ignores unknown keys)
            first.append(page.evaluate(FIRST_PAINT))
            page.wait_for_selector("body[data-ready='1']")
            jumps.append(page.evaluate(JUMP))
        print(
            f"navigation to first painted thumbnail: median {statistics.median(first):.0f} ms "
            f"(runs: {', '.join(f'{v:.0f}' for v in first)})"
        )
        print(
            f"jump to the middle and paint: median {statistics.median(jumps):.0f} ms "
            f"(runs: {', '.join(f'{v:.0f}' for v in jumps)})"
        )
        for label, view in VIEW_CHANGES:
            results = []
            for _ in range(3):
                page.evaluate("() => window.pixlstash.app.navigate({sort: 'file_size'})")  # from elsewhere each time
                page.wait_for_selector("body[data-ready='1']")
                results.append(page.evaluate(VIEW_CHANGE, view))
            first, whole = [r["first"] for r in results], [r["all"] for r in results]
            print(
                f"view change, {label} ({results[-1]['count']:,} pictures): first screen painted in median "
                f"{statistics.median(first):.0f} ms (runs: {', '.join(f'{v:.0f}' for v in first)}), whole layout "
                f"in median {statistics.median(whole):.0f} ms"
            )
        scrub(page)
        # Scrolling with the date headers (the default order) and without (by file size), side by side.
        # Twice each, alternating: this machine's frame times drift by more than what is compared.
        orders = (("by date, with day headers", "/"), ("by file size, no headers", "/?sort=file_size")) * 2
        for order, address in orders:
            page.goto(address)
            page.wait_for_selector("body[data-ready='1']")
            page.wait_for_timeout(1000)
            result = page.evaluate(SCROLL, 10_000)
            share = 100 * result["dropped"] / max(1, result["frames"])
            print(
                f"scrolling {order}: {result['rows']:,} rows, 5 a frame, in {result['frames']} frames: "
                f"{result['dropped']} dropped ({share:.1f}%), worst frame {result['worst']:.0f} ms; "
                f"{result['longTasks']} long tasks (over 50 ms), the longest {result['longest']:.0f} ms"
            )
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, nargs="?", default=ROOT / ".bench" / "ui100k")
    parser.add_argument("--pictures", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    build(args.path, args.pictures)
    server, url = serve(args.path)
    try:
        measure(url, args.runs)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
