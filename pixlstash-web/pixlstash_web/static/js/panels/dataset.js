// The dataset panel: a set, character or project checked as the training export would see it (POST
// /exports/check with the export options remembered for it): each picture's bucket as the trainer makes
// it, how much each bucket crop cuts, captions and the trigger word, and the findings, each showing its
// pictures in the grid and offering its fix where there is one (near-duplicates: one undo step).

import { api } from "../api.js";
import { histogram } from "../charts.js";
import { esc, toast } from "../ui.js";
import { prefs } from "../prefs.js";

const RULES_KEY = "dataset.rules";
const TRAINERS = { "sd-scripts": "kohya sd-scripts", "ai-toolkit": "ai-toolkit" };
const MOST_SHOWN = 1000;  // pictures a finding shows in the grid (a URL holds their ids)

const plural = (n, word) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;

function rememberedRules() {
  try { return { trainer: "sd-scripts", resolution: 1024, ...JSON.parse(prefs.get(RULES_KEY)) }; }
  catch { return { trainer: "sd-scripts", resolution: 1024 }; }
}

/** ``source``: {kind: "set" | "character" | "project", id, name}. */
export async function renderDataset(app, panel, frame, { source }) {
  const { header, bindClose } = frame;
  const rules = rememberedRules();
  panel.innerHTML = `${header(`Dataset: ${source.name}`)}
    <form class="dataset-form" aria-label="The trainer's buckets">
      <label>Trainer <select name="trainer">${Object.entries(TRAINERS).map(([value, label]) =>
        `<option value="${value}">${esc(label)}</option>`).join("")}</select></label>
      <label>Resolution <select name="resolution">${[512, 768, 1024, 1280, 1536].map((n) =>
        `<option value="${n}">${n}</option>`).join("")}</select></label>
      <label data-for="sd-scripts"><input type="checkbox" name="bucket_no_upscale"> no upscale</label>
    </form>
    <div class="dataset-body"><p class="muted">Checking…</p></div>`;
  bindClose(panel);
  const form = panel.querySelector("form");
  form.trainer.value = rules.trainer;
  form.resolution.value = String(rules.resolution);
  form.bucket_no_upscale.checked = Boolean(rules.bucket_no_upscale);
  form.querySelector('[data-for="sd-scripts"]').hidden = rules.trainer !== "sd-scripts";
  form.onchange = () => {
    prefs.set(RULES_KEY, JSON.stringify({ trainer: form.trainer.value, resolution: Number(form.resolution.value),
      bucket_no_upscale: form.bucket_no_upscale.checked }));
    renderDataset(app, panel, frame, { source });
  };
  const filter = source.kind === "project" ? { project: source.id } : { collections: [source.id] };
  let report;
  try {
    // What the export would write: its remembered options (trigger word, caption source) for a set.
    const options = source.kind === "project" ? {} : await api.get(`/exports/options/${source.id}`);
    report = await api.post("/exports/check", { filter, options, rules: { trainer: rules.trainer,
      resolution: rules.resolution, ...(rules.trainer === "sd-scripts" ? { bucket_no_upscale: Boolean(rules.bucket_no_upscale) } : {}) } });
  } catch (error) {
    panel.querySelector(".dataset-body").innerHTML = `<p class="error" role="alert">${esc(error.message)}</p>`;
    return;
  }
  if (!panel.isConnected || panel.dataset.panel !== "dataset") return;
  showReport(app, panel.querySelector(".dataset-body"), report, source, () => renderDataset(app, panel, frame, { source }));
}

function show(app, ids) {
  if (!ids.length) return;
  if (ids.length > MOST_SHOWN) toast(`Showing the first ${MOST_SHOWN.toLocaleString()} of ${ids.length.toLocaleString()}`);
  app.navigate({ ids: ids.slice(0, MOST_SHOWN), layout: app.view.layout, size: app.view.size });
}

function showReport(app, body, report, source, again) {
  if (!report.pictures) {
    body.innerHTML = `<p class="muted">Nothing to check: it holds no pictures the export would write.</p>`;
    return;
  }
  const { rules, captions } = report;
  const fixable = source.kind !== "project";
  const said = `${plural(report.pictures, "picture")} for ${TRAINERS[rules.trainer]} at ${rules.resolution}: ${
    plural(report.buckets.length, "bucket")}, ${captions.captioned.toLocaleString()} captioned${
    captions.trigger ? `, trigger “${captions.trigger}”` : ""}.`;
  body.innerHTML = `<p>${esc(said)}</p>
    <section><h3>Findings</h3>${report.findings.length ? `<ul class="findings">${report.findings.map((f, i) =>
      `<li data-kind="${esc(f.kind)}"><span>${esc(f.message)}</span>
        ${f.picture_ids.length ? `<button type="button" class="link" data-show="${i}">Show ${plural(f.picture_ids.length, "picture")}</button>` : ""}
        ${fixButton(app, f, fixable, i)}
      </li>`).join("")}</ul>` : `<p>Nothing to fix: every picture has a bucket, a caption and company.</p>`}</section>
    <section><h3>Buckets</h3><div class="bars" id="bucket-bars">${bucketBars(report)}</div></section>
    <section class="dataset-cut"></section>
    <section class="dataset-variety"></section>
    <section class="dataset-quality"></section>
    <section><h3>Captions</h3><p>${captions.captioned ? `${captions.words_min}–${captions.words_max} words, median ${
      captions.words_median}` : "No captions: the trainer sees the trigger word alone, or nothing."}</p>
      <div class="dataset-tokens"></div>
      ${report.frequent_tags.length ? `<table class="tag-shares"><thead><tr><th scope="col">tag</th><th scope="col">pictures</th>
        <th scope="col">share</th></tr></thead><tbody>${report.frequent_tags.slice(0, 15).map((t) => `<tr><td>${esc(t.tag)}</td>
        <td>${t.pictures}</td><td>${Math.round(t.share * 100)}%</td></tr>`).join("")}</tbody></table>` : ""}</section>`;
  body.querySelectorAll("[data-show]").forEach((b) => { b.onclick = () => show(app, report.findings[Number(b.dataset.show)].picture_ids); });
  body.querySelectorAll("#bucket-bars [data-bar]").forEach((el) => {
    const key = report.buckets[Number(el.dataset.bar)].bucket.join("x");
    const run = () => show(app, report.placements.filter((p) => p.bucket.join("x") === key).map((p) => p.picture_id));
    el.onclick = run;
    el.onkeydown = (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); run(); } };
  });
  body.querySelectorAll("[data-fix]").forEach((button) => {
    const finding = report.findings[Number(button.dataset.fix)];
    button.onclick = () => fix(app, source, rules, finding, button, again);
  });
  cutHistogram(app, body.querySelector(".dataset-cut"), report);
  distanceCharts(app, body.querySelector(".dataset-variety"), report);
  qualityChart(app, body.querySelector(".dataset-quality"), report);
  tokenCharts(app, body.querySelector(".dataset-tokens"), captions.tokens);
}

/** Tokens per caption in each text encoder the plugins count for (a tokenizer not on this machine says so). */
function tokenCharts(app, box, tokens) {
  for (const count of tokens) {
    const part = document.createElement("div");
    box.append(part);
    if (count.unavailable) {
      part.innerHTML = `<p class="muted">${esc(count.label)}: tokens not counted: ${esc(count.unavailable)}</p>`;
      continue;
    }
    const pairs = Object.entries(count.per_picture).map(([id, n]) => [Number(id), n]);
    if (!pairs.length) continue;
    const cut = count.cut.length ? `, ${plural(count.cut.length, "caption")} cut` : "";
    binned(app, part, `${count.label}: tokens per caption (it reads ${count.window}${cut})`, pairs,
      (v) => String(Math.round(v)), 0, Math.max(count.window, count.most));
  }
}

// The fix each kind of finding offers (one undo step each, but captions: a job whose results are accepted).
const FIXES = {
  "near-duplicates": { label: "Keep the best of each group", collection: true },
  "heavy-crop": { label: "Crop each to its bucket" },
  outliers: { label: "Take them out", collection: true },
  "someone-else": { label: "Take them out", collection: true },
  uncaptioned: { label: "Caption them" },
};

function captioners(app) {
  return (app.engines || []).filter((e) => e.task === "captioner" && e.model?.present);
}

function fixButton(app, finding, fixable, i) {
  const fix = FIXES[finding.kind];
  if (!fix || (fix.collection && !fixable) || !finding.picture_ids.length) return "";
  if (finding.kind === "uncaptioned") {
    const engines = captioners(app);
    if (!engines.length) return `<span class="muted">No captioner installed (Settings › Engines)</span>`;
    return `<select aria-label="Captioner" data-captioner>${
      engines.map((e) => `<option value="${esc(e.id)}">${esc(e.label)}</option>`).join("")}</select>
      <button type="button" data-fix="${i}">${fix.label}</button>`;
  }
  return `<button type="button" data-fix="${i}">${fix.label}</button>`;
}

async function fix(app, source, rules, finding, button, again) {
  button.disabled = true;
  const plural_ = source.kind === "set" ? "sets" : source.kind === "character" ? "characters" : "projects";
  const ids = finding.picture_ids;
  try {
    if (finding.kind === "near-duplicates") {
      const done = await api.post(`/${plural_}/${source.id}/remove-near-duplicates`, { rules: { trainer: rules.trainer,
        resolution: rules.resolution } });
      toast(`Took ${plural(done.removed.length, "near-duplicate")} out of ${source.name} (Ctrl+Z undoes)`, 8);
    } else if (finding.kind === "heavy-crop") {
      // The look's own crop to the training bucket nearest each picture's shape: non-destructive.
      await api.post("/pictures/bulk", { ids, operation: { action: "edit", change: { aspect: `bucket:${rules.resolution}` } } });
      toast(`Cropped ${plural(ids.length, "picture")} to their buckets (Ctrl+Z undoes)`, 8);
      app.refreshDetails(ids);
    } else if (finding.kind === "uncaptioned") {
      const engine = button.parentElement.querySelector("[data-captioner]").value;
      const { job } = await api.post("/jobs", { task: "captioner", engine, picture_ids: ids });
      toast(job ? `Queued ${job.total} for captions: accept them in each picture's viewer` : "Nothing to do", 8);
      return;
    } else {
      await api.post(`/${plural_}/${source.id}/pictures/remove`, { ids });
      toast(`Took ${plural(ids.length, "picture")} out of ${source.name} (Ctrl+Z undoes)`, 8);
    }
    window.dispatchEvent(new CustomEvent("pixlstash:history"));
    app.sidebar.reload();
    if (app.view.collections?.includes(source.id) || app.view.project === source.id) app.load({ keepScroll: true });
  } catch (error) { toast(error.message); }
  again();
}

function bucketBars(report) {
  const most = Math.max(1, ...report.buckets.map((b) => b.pictures));
  return report.buckets.map((b, i) => `<div class="bar" role="button" tabindex="0" data-bar="${i}"
    aria-label="bucket ${b.bucket[0]} by ${b.bucket[1]}: ${plural(b.pictures, "picture")}"><span class="label">${b.bucket[0]}×${b.bucket[1]}</span>
    <span class="track"><span class="fill" style="display:block;width:${(100 * b.pictures) / most}%"></span></span>
    <span>${b.pictures.toLocaleString()}</span></div>`).join("");
}

/** How much of each picture its bucket's crop cuts, in bins of 5 %: a click shows a bin's pictures. */
function cutHistogram(app, box, report) {
  const placed = report.placements.filter((p) => p.aspect_error !== null);
  if (!placed.length) return;
  const top = Math.max(0.05, ...placed.map((p) => p.cut));
  const bins = Math.min(20, Math.ceil(top / 0.05));
  const edges = Array.from({ length: bins + 1 }, (_, i) => Number((i * 0.05).toFixed(2)));
  const members = edges.slice(0, -1).map(() => []);
  for (const p of placed) members[Math.min(bins - 1, Math.floor(p.cut / 0.05))].push(p.picture_id);
  box.innerHTML = "<h3>Crop to the bucket</h3><div></div>";
  histogram(box.querySelector("div"), { title: "Share of each picture the crop cuts", edges,
    counts: members.map((m) => m.length), format: (v) => `${Math.round(v * 100)}%`, onPick: (i) => show(app, members[i]) })
    .catch((error) => toast(error.message));
}

/** Each picture's distance to the set's centre, by its embedding and (a character) by its face: a click on a
 * bin shows its pictures. */
function distanceCharts(app, box, report) {
  const charts = [];
  if (report.embedding?.distances.length) {
    const e = report.embedding;
    charts.push([`By meaning (${e.engine_id}): median ${e.median.toFixed(2)}${e.outlier_distance === null ? ""
      : `, outliers past ${e.outlier_distance.toFixed(2)}`}`, e.distances.map((x) => [x.picture_id, x.distance])]);
  }
  if (report.identity?.distances.length) {
    const d = report.identity;
    charts.push([`By face (${d.engine_id}): someone else past ${(1 - d.threshold).toFixed(2)}`,
      d.distances.map((x) => [x.picture_id, x.distance])]);
  }
  if (!charts.length) return;
  box.innerHTML = `<h3>Variety: distance to the set's centre</h3>${charts.map(() => "<div></div>").join("")}`;
  charts.forEach(([title, distances], n) => binned(app, box.children[n + 1], title, distances, (v) => v.toFixed(2)));
}

function qualityChart(app, box, report) {
  if (!report.quality.length) return;
  box.innerHTML = "<h3>Sharpness</h3><div></div>";
  binned(app, box.children[1], "Sharpness of each picture (0: no detail left)",
    report.quality.map((q) => [q.picture_id, q.sharpness]), (v) => v.toFixed(1), 0, 1);
}

/** [picture id, value] pairs as a 12-bin histogram from ``low`` to ``high`` (their own range when not given). */
function binned(app, box, title, pairs, format, low = 0, high = undefined) {
  const top = high ?? Math.max(0.01, ...pairs.map(([, v]) => v));
  const bins = 12;
  const width = (top - low) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => low + i * width);
  const members = edges.slice(0, -1).map(() => []);
  for (const [id, v] of pairs) members[Math.max(0, Math.min(bins - 1, Math.floor((v - low) / width)))].push(id);
  histogram(box, { title, edges, counts: members.map((m) => m.length), format, onPick: (i) => show(app, members[i]) })
    .catch((error) => toast(error.message));
}
