// Charts for the insights and the dataset check. uPlot (vendored in /ui/vendor/uplot, loaded when the first
// chart is drawn) draws those with many points on a canvas; every chart has its numbers as a table too (the
// "Table" button), which is also what a screen reader is pointed to. Colours come from the page's theme.

import { esc } from "./ui.js";

let loading = null;

function loadUplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  loading ??= new Promise((resolve, reject) => {
    const style = Object.assign(document.createElement("link"), { rel: "stylesheet", href: "/ui/vendor/uplot/uPlot.min.css" });
    const script = Object.assign(document.createElement("script"), { src: "/ui/vendor/uplot/uPlot.iife.min.js" });
    script.onload = () => resolve(window.uPlot);
    script.onerror = () => { loading = null; reject(new Error("The chart library did not load: reload the page")); };
    document.head.append(style, script);
  });
  return loading;
}

function theme() {
  const css = getComputedStyle(document.documentElement);
  const value = (name) => css.getPropertyValue(name).trim();
  return { fg: value("--fg"), muted: value("--muted"), accent: value("--accent"), grid: value("--bg3") };
}

/** A chart in ``el`` with its title, a summary said to screen readers, and its rows as a table the "Table"
 * button shows instead (each row with a Show button when ``onPick`` is given). ``plot(uPlot, box, theme,
 * width)`` draws it and returns the uPlot. */
async function figure(el, { title, summary, columns, rows, onPick, plot }) {
  el.innerHTML = `<figure class="chart"><figcaption><span>${esc(title)}</span>
    <button type="button" class="link" data-table aria-pressed="false">Table</button></figcaption>
    <div class="plot" role="img" aria-label="${esc(`${title}: ${summary}`)}"></div>
    <table hidden><thead><tr>${columns.map((c) => `<th scope="col">${esc(c)}</th>`).join("")}${
      onPick ? "<th></th>" : ""}</tr></thead><tbody>${rows.map((row, i) => `<tr>${row.map((cell) =>
      `<td>${esc(String(cell))}</td>`).join("")}${onPick ? `<td><button type="button" class="link" data-pick="${i}"
      aria-label="Show ${esc(String(row[0]))}">Show</button></td>` : ""}</tr>`).join("")}</tbody></table></figure>`;
  const button = el.querySelector("[data-table]");
  const table = el.querySelector("table");
  const box = el.querySelector(".plot");
  button.onclick = () => {
    const showTable = table.hidden;
    table.hidden = !showTable;
    box.hidden = showTable;
    button.setAttribute("aria-pressed", String(showTable));
  };
  if (onPick) table.querySelectorAll("[data-pick]").forEach((b) => { b.onclick = () => onPick(Number(b.dataset.pick)); });
  const uPlot = await loadUplot();
  const made = plot(uPlot, box, theme(), Math.max(220, box.clientWidth || el.clientWidth || 320));
  if (onPick) {
    made.over.style.cursor = "pointer";
    made.over.addEventListener("click", () => { if (made.cursor.idx != null) onPick(made.cursor.idx); });
  }
  return made;
}

function axes(t, formatX, formatY) {
  const axis = { stroke: t.muted, grid: { stroke: t.grid, width: 1 }, ticks: { stroke: t.grid, width: 1 } };
  return [{ ...axis, values: (u, splits) => splits.map(formatX) }, { ...axis, size: 44, values: (u, splits) => splits.map(formatY) }];
}

/** Counts in bins: ``edges`` has one more value than ``counts``; a click on a bar (or its row's Show)
 * calls ``onPick(bin)``. */
export function histogram(el, { title, edges, counts, format, unit = "pictures", onPick }) {
  const rows = counts.map((n, i) => [`${format(edges[i])} – ${format(edges[i + 1])}`, n]);
  const busiest = rows.reduce((a, b) => (b[1] > a[1] ? b : a), rows[0] || ["", 0]);
  const summary = `${counts.reduce((a, b) => a + b, 0)} ${unit} in ${counts.length} bins; the most, ${busiest[1]}, in ${busiest[0]}`;
  return figure(el, { title, summary, columns: ["range", unit], rows, onPick, plot: (uPlot, box, t, width) => new uPlot({
    width, height: 150, legend: { show: false }, cursor: { y: false, points: { show: false }, drag: { x: false } },
    scales: { x: { time: false, range: [edges[0], edges[edges.length - 1]] }, y: { range: (u, lo, hi) => [0, Math.max(1, hi)] } },
    axes: axes(t, format, (v) => (Number.isInteger(v) ? String(v) : "")),
    series: [{}, { label: unit, fill: `${t.accent}99`, stroke: t.accent, paths: uPlot.paths.bars({ size: [1, Infinity], align: 1 }) }],
  }, [edges.slice(0, -1), counts], box) });
}

/** A keep rate over a numeric setting (steps, CFG): the rate, its 95 % interval as a band, and the
 * selection's own rate as a dashed line. ``points``: {value, rate, low, high, pictures}, by value. */
export function rateChart(el, { title, points, overall, onPick }) {
  const percent = (v) => `${Math.round(v * 100)}%`;
  const rows = points.map((p) => [p.value, percent(p.rate), `${percent(p.low)} – ${percent(p.high)}`, p.pictures]);
  const best = points.reduce((a, b) => (b.rate > a.rate ? b : a), points[0]);
  const summary = `kept ${percent(best.rate)} at ${best.value}, the highest of ${points.length} values; ${percent(overall)} over all`;
  const xs = points.map((p) => p.value);
  return figure(el, { title, summary, columns: ["value", "kept", "95% interval", "pictures"], rows, onPick,
    plot: (uPlot, box, t, width) => new uPlot({
      width, height: 150, legend: { show: false }, cursor: { y: false, drag: { x: false } },
      scales: { x: { time: false }, y: { range: [0, Math.min(1, Math.max(...points.map((p) => p.high)) * 1.1 || 1)] } },
      axes: axes(t, (v) => String(v), percent),
      bands: [{ series: [3, 2], fill: `${t.accent}33` }],
      series: [{}, { label: "kept", stroke: t.accent, width: 2, points: { show: true, size: 6, fill: t.accent } },
        { label: "low", stroke: "transparent", points: { show: false } }, { label: "high", stroke: "transparent", points: { show: false } },
        { label: "all", stroke: t.muted, dash: [4, 4], width: 1, points: { show: false } }],
    }, [xs, points.map((p) => p.rate), points.map((p) => p.low), points.map((p) => p.high), xs.map(() => overall)], box) });
}
