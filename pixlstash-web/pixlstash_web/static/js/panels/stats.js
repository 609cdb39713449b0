// The statistics panel: a view's ratings, tags, sizes, resolutions and scores as bars (click one to filter).

import { api } from "../api.js";
import { esc, toast } from "../ui.js";
import { filterParams } from "../view.js";

function megabytes(bytes) {
  return (bytes / 1e6).toFixed(bytes < 1e6 ? 1 : 0);
}

// How sure the engines were about a tag's pictures: ten deciles, 0-10% on the left to 90-100% on the right.
function confidenceHistogram(deciles) {
  const top = Math.max(1, ...deciles);
  if (!deciles.some((n) => n > 0)) return `<span class="confidence" aria-hidden="true"></span>`;
  const label = deciles.map((n, i) => (n ? `${i * 10}-${i * 10 + 10}%: ${n}` : "")).filter(Boolean).join(", ");
  return `<span class="confidence" role="img" aria-label="confidence ${esc(label)}" title="confidence ${esc(label)}">${
    deciles.map((n) => `<i style="height:${Math.round((100 * n) / top)}%"></i>`).join("")}</span>`;
}

function bars(rows, onClick) {
  const max = Math.max(1, ...rows.map((r) => r.count));
  return `<div class="bars">${rows.map((r, i) => `<div class="bar" role="button" tabindex="0" data-bar="${i}"
    aria-label="${esc(r.label)}: ${r.count}"><span class="label">${esc(r.label)}</span>
    <span class="track"><span class="fill" style="display:block;width:${(100 * r.count) / max}%"></span></span>
    ${r.confidence ? confidenceHistogram(r.confidence) : ""}
    <span>${r.count.toLocaleString()}</span></div>`).join("")}</div>`;
}

// -- statistics -------------------------------------------------------------------------------------

export async function renderStats(app, panel, frame) {
  const { header, bindClose } = frame;
  panel.innerHTML = `${header("Statistics")}<p class="muted">Loading…</p>`;
  bindClose(panel);
  let stats;
  try { stats = await api.get("/pictures/stats", filterParams(app.view)); } catch (error) { toast(error.message); return; }
  const ratings = [0, 1, 2, 3, 4, 5].map((r) => ({ label: r ? "★".repeat(r) : "unrated", count: stats.rating[r] || 0, r }));
  const tags = stats.tags.slice(0, 25).map((t) => ({ label: t.name, count: t.count, tag: t.name,
    confidence: t.confidence }));
  // Each bucket holds what is at most its bound; the last one (bound null) everything larger.
  const sizes = stats.file_size.map((b, i, all) => ({ count: b.count, label: b.max_bytes === null
    ? `> ${megabytes(all[i - 1].max_bytes)} MB` : `≤ ${megabytes(b.max_bytes)} MB` }));
  const resolutions = stats.resolution.map((b, i, all) => ({ count: b.count, label: b.max_megapixels === null
    ? `> ${all[i - 1].max_megapixels} MP` : `≤ ${b.max_megapixels} MP` }));
  panel.innerHTML = `${header("Statistics")}
    <p>${stats.count.toLocaleString()} pictures · ${(stats.total_bytes / 1e9).toFixed(2)} GB</p>
    <section><h3>Rating</h3><div id="rating-bars">${bars(ratings)}</div></section>
    <section><h3>Tags</h3><div id="tag-bars">${bars(tags)}</div></section>
    <section><h3>File size</h3>${bars(sizes)}</section>
    <section><h3>Resolution</h3>${bars(resolutions)}</section>
    ${stats.scores.map((h, n) => `<section><h3>${esc(scorerLabel(app, h.engine_id))}</h3>
      <div class="score-bars" data-histogram="${n}">${bars(scoreBuckets(h))}</div></section>`).join("")}`;
  bindClose(panel);
  panel.querySelectorAll("[data-histogram] [data-bar]").forEach((el) => {
    el.onclick = () => {  // a bucket's bar shows its pictures
      const histogram = stats.scores[Number(el.closest("[data-histogram]").dataset.histogram)];
      const [low, high] = scoreBounds(histogram, Number(el.dataset.bar));
      app.update({ score_engine: histogram.engine_id, score_min: low, score_max: high });
    };
  });
  panel.querySelectorAll("#rating-bars [data-bar]").forEach((el) => {
    el.onclick = () => {
      const r = ratings[Number(el.dataset.bar)].r;
      app.update(r ? { rating_min: r, rating_max: r, unrated: undefined } : { unrated: true, rating_min: undefined,
        rating_max: undefined });
    };
  });
  panel.querySelectorAll("#tag-bars [data-bar]").forEach((el) => {
    el.onclick = () => app.update({ tags: [...new Set([...(app.view.tags || []), tags[Number(el.dataset.bar)].tag])] });
  });
}

function scorerLabel(app, engineId) {
  const engine = (app.engines || []).find((e) => e.id === engineId);
  return `Score: ${engine?.label || engineId}`;
}

/** The edges of a score histogram's bucket; the last bucket's upper edge is open (it holds the highest). */
function scoreBounds(histogram, bucket) {
  const width = (histogram.high - histogram.low) / histogram.buckets.length;
  const edge = (n) => Number((histogram.low + n * width).toPrecision(4));
  return [bucket ? edge(bucket) : undefined, bucket < histogram.buckets.length - 1 ? edge(bucket + 1) : undefined];
}

function scoreBuckets(histogram) {
  return histogram.buckets.map((count, n) => {
    const [low, high] = scoreBounds(histogram, n);
    const label = low === undefined ? `< ${high}` : high === undefined ? `≥ ${low}` : `${low} – ${high}`;
    return { label, count };
  });
}

/** A wait as people say it: 45 s, 12 min, 3 h 20 min. */
