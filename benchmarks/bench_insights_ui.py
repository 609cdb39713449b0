"""The Insights panel's first chart over 100,000 generated pictures, in headless Chromium (issue 64).

    .venv/bin/python benchmarks/bench_insights_ui.py [--runs 5]

Uses ``bench_insights``' library (made once into ``.bench/insights-100000``), runs the server in its own
process, signs in, and times from the click on Insights to the frame that shows the first keep-rate bars
(the first chart), then to the frame that shows the first uPlot canvas (the steps chart: the library
loaded, the chart drawn). The first run is the server's first report (nothing cached: the figure a
person sees right after starting the server: with ``--first-ever`` also nothing kept on disk); the others
open a fresh page each (uPlot loaded again) against the warm server. Goal: the first chart paints within
1 s.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench_insights import library_for
from bench_ui import serve, signed_in

PAINT = """() => new Promise(resolve => {
  const started = performance.now();
  const times = {};
  document.getElementById("open-insights").click();
  const check = () => {
    const now = performance.now() - started;
    if (times.bars === undefined && document.querySelector("#panel .rate-bar")) times.bars = now;
    if (times.canvas === undefined && document.querySelector("#panel [data-setting=steps] canvas")) times.canvas = now;
    if (times.bars !== undefined && times.canvas !== undefined) {
      requestAnimationFrame(() => resolve({ bars: times.bars, canvas: performance.now() - started }));
    } else requestAnimationFrame(check);
  };
  check();
})"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--first-ever", action="store_true", help="delete indexes/insights.v1.npz first: the first report ever"
    )
    args = parser.parse_args()
    root, _ = library_for(100_000, 2000)
    if args.first_ever:
        (root / "indexes" / "insights.v1.npz").unlink(missing_ok=True)
    from playwright.sync_api import sync_playwright
    from ui_support import launch

    server, url = serve(root)
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = signed_in(browser, url)
            page.evaluate("() => localStorage.setItem('pixlstash.insights.kept.min', '20')")
            runs = []
            for _ in range(args.runs):
                page.goto("/?nocache=" + str(time.time()))
                page.wait_for_selector("body[data-ready='1']")
                runs.append(page.evaluate(PAINT))
            browser.close()
    finally:
        server.terminate()
        server.wait()
    first, warm = runs[0], runs[1:]
    print("Insights panel over 100,000 pictures, headless Chromium, 1440x900")
    print(f"  the server's first report: first bars {first['bars']:.0f} ms, steps chart {first['canvas']:.0f} ms")
    if warm:
        bars = statistics.median(r["bars"] for r in warm)
        canvas = statistics.median(r["canvas"] for r in warm)
        print(
            f"  a fresh page, warm server (median of {len(warm)}): first bars {bars:.0f} ms, steps chart "
            f"{canvas:.0f} ms  goal 1000 ms: {'met' if bars <= 1000 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
