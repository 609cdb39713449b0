"""The charting libraries the browser UI could vendor, side by side in headless Chromium (issue 64):
uPlot, Observable Plot (with d3, which it needs) and Vega-Lite (with Vega and vega-embed).

    .venv/bin/python benchmarks/bench_charts.py [--points 100000] [--runs 5] [--libs .bench/charts]

Installs the three with npm into ``--libs`` the first time (the npm registry, once; nothing at run time
after). For each, prints the bytes the browser fetches (minified, and gzipped as the server sends them),
the time to load them (parse and evaluate), and the time from the call to the painted frame for:

- a histogram of ``--points`` values in 60 bins (the libraries that bin, bin; uPlot is given the bins);
- a scatter of ``--points`` points (a library of pictures' width against height);
- bars of 40 categories (the insights' keep rates).

The fastest of ``--runs``. The charts are drawn the way each library's documentation draws them
(uPlot on a canvas, Plot as SVG, Vega-Lite on a canvas).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

LIBRARIES = {
    "uPlot 1.6.32": {
        "packages": ["uplot@1.6.32"],
        "files": ["uplot/dist/uPlot.iife.min.js", "uplot/dist/uPlot.min.css"],
    },
    "Observable Plot 0.6.17": {
        "packages": ["@observablehq/plot@0.6.17", "d3@7.9.2"],
        "files": ["d3/dist/d3.min.js", "@observablehq/plot/dist/plot.umd.min.js"],
    },
    "Vega-Lite 6.4.3": {
        "packages": ["vega@6.4.0", "vega-lite@6.4.3", "vega-embed@7.3.0"],
        "files": ["vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js"],
    },
}

# Each draws into #chart (600 x 300) and resolves once the frame that shows it is painted.
DRAW = {
    "uPlot 1.6.32": """async (kind, values, xs, ys, labels, counts) => {
      const el = document.getElementById("chart");
      const opts = { width: 600, height: 300, legend: { show: false } };
      if (kind === "histogram") {
        const lo = Math.min(...values), hi = Math.max(...values), n = 60, bins = new Array(n).fill(0);
        for (const v of values) bins[Math.min(n - 1, Math.floor(((v - lo) / (hi - lo)) * n))]++;
        const edges = bins.map((_, i) => lo + (i * (hi - lo)) / n);
        new uPlot({ ...opts, scales: { x: { time: false } },
          series: [{}, { fill: "#4a90d9", paths: uPlot.paths.bars({ size: [1, Infinity] }) }] }, [edges, bins], el);
      } else if (kind === "scatter") {
        const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
        new uPlot({ ...opts, mode: 1, scales: { x: { time: false } },
          series: [{}, { stroke: "#4a90d9", paths: () => null, points: { show: true, size: 2, fill: "#4a90d9" } }] },
          [order.map((i) => xs[i]), order.map((i) => ys[i])], el);
      } else {
        new uPlot({ ...opts, scales: { x: { time: false } },
          axes: [{ values: (u, t) => t.map((i) => labels[i] || "") }, {}],
          series: [{}, { fill: "#4a90d9", paths: uPlot.paths.bars({ size: [0.6, 100] }) }] },
          [labels.map((_, i) => i), counts], el);
      }
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    }""",
    "Observable Plot 0.6.17": """async (kind, values, xs, ys, labels, counts) => {
      const el = document.getElementById("chart");
      let chart;
      if (kind === "histogram") {
        chart = Plot.plot({ width: 600, height: 300,
          marks: [Plot.rectY(values, Plot.binX({ y: "count" }, { thresholds: 60 }))] });
      } else if (kind === "scatter") {
        chart = Plot.plot({ width: 600, height: 300,
          marks: [Plot.dot(xs.map((x, i) => [x, ys[i]]), { x: "0", y: "1", r: 1 })] });
      } else {
        chart = Plot.plot({ width: 600, height: 300, marginLeft: 80,
          marks: [Plot.barX(labels.map((l, i) => ({ l, c: counts[i] })), { y: "l", x: "c" })] });
      }
      el.append(chart);
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    }""",
    "Vega-Lite 6.4.3": """async (kind, values, xs, ys, labels, counts) => {
      const el = document.getElementById("chart");
      let spec;
      if (kind === "histogram") {
        spec = { data: { values: values.map((v) => ({ v })) }, mark: "bar",
          encoding: { x: { field: "v", bin: { maxbins: 60 } }, y: { aggregate: "count" } } };
      } else if (kind === "scatter") {
        spec = { data: { values: xs.map((x, i) => ({ x, y: ys[i] })) }, mark: { type: "circle", size: 4 },
          encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } };
      } else {
        spec = { data: { values: labels.map((l, i) => ({ l, c: counts[i] })) }, mark: "bar",
          encoding: { y: { field: "l", type: "nominal" }, x: { field: "c", type: "quantitative" } } };
      }
      await vegaEmbed(el, { width: 600, height: 300, ...spec }, { renderer: "canvas", actions: false });
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    }""",
}


def install(folder: Path) -> None:
    wanted = [p for lib in LIBRARIES.values() for p in lib["packages"]]
    if all((folder / "node_modules" / f).is_file() for lib in LIBRARIES.values() for f in lib["files"]):
        return
    if not shutil.which("npm"):
        sys.exit("bench_charts: needs npm once, to fetch the libraries into " + str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder), *wanted], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--libs", type=Path, default=ROOT / ".bench" / "charts")
    args = parser.parse_args()
    install(args.libs)
    import random

    from playwright.sync_api import sync_playwright
    from ui_support import launch

    rng = random.Random(64)
    values = [rng.lognormvariate(0, 0.6) for _ in range(args.points)]  # e.g. megapixels
    xs = [rng.choice((512, 768, 832, 1024, 1216, 1536)) + rng.randint(-40, 40) for _ in range(args.points)]
    ys = [x * rng.choice((0.75, 1.0, 1.33, 1.5)) for x in xs]
    labels = [f"lora_{n:02d} 0.6-0.8" for n in range(40)]
    counts = [rng.randint(20, 4000) for _ in labels]
    data = json.dumps([values, xs, ys, labels, counts])

    rows = []
    with sync_playwright() as p:
        browser = launch(p)
        for name, lib in LIBRARIES.items():
            paths = [args.libs / "node_modules" / f for f in lib["files"]]
            raw = sum(f.stat().st_size for f in paths)
            zipped = sum(len(gzip.compress(f.read_bytes(), 9)) for f in paths)
            load, times = [], {"histogram": [], "scatter": [], "bars": []}
            for _ in range(args.runs):
                page = browser.new_page()
                page.set_content('<div id="chart" style="width:600px;height:300px"></div>')
                start = page.evaluate("performance.now()")
                for f in paths:
                    if f.suffix == ".css":
                        page.add_style_tag(path=str(f))
                    else:
                        page.add_script_tag(path=str(f))
                load.append(page.evaluate("performance.now()") - start)
                page.evaluate(f"window.DATA = {data}")
                for kind in times:
                    page.evaluate("document.getElementById('chart').innerHTML = ''")
                    times[kind].append(
                        page.evaluate(
                            f"""async () => {{ const draw = {DRAW[name]}; const t = performance.now();
                            await draw("{kind}", ...window.DATA); return performance.now() - t; }}"""
                        )
                    )
                page.close()
            rows.append((name, raw, zipped, min(load), *(min(times[k]) for k in times)))
        browser.close()
    print(f"{args.points:,} points, fastest of {args.runs}, headless Chromium")
    head = ("KB min", "KB gz", "load ms", "histogram ms", "scatter ms", "bars ms")
    print(f"{'library':<24} " + " ".join(f"{h:>13}" for h in head))
    for name, raw, zipped, *times in rows:
        print(f"{name:<24} {raw / 1024:>13.0f} {zipped / 1024:>13.0f} " + " ".join(f"{t:>13.1f}" for t in times))


if __name__ == "__main__":
    main()
