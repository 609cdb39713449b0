// Side panels: statistics (click a bar to filter), tasks (live job progress), snapshots (take, preview,
// restore, selective restore), settings (engines, update check, tokens, share links), shortcuts; and the
// share dialog.

import { api } from "./api.js";
import { bindComfyRuns, comfyRunsSection } from "./comfy.js";
import { confirmAction, nameDialog } from "./dialogs.js";
import { renderFolders } from "./folders.js";
import { renderHistory } from "./history.js";
import { renderPeople } from "./people.js";
import { copyButton, renderSettings, storageSection } from "./settings.js";
import { esc, toast } from "./ui.js";
import { filterParams } from "./view.js";

const $ = (id) => document.getElementById(id);
let current = null;
let eventsBound = false;

export function openPanel(app, name, options = {}) {
  const panel = $("panel");
  if (current === name && !panel.hidden && !Object.keys(options).length) { closePanel(); return; }
  current = name;
  panel.hidden = false;
  panel.dataset.panel = name;
  if (!eventsBound) {
    eventsBound = true;
    let timer = 0;
    window.addEventListener("pixlstash:event", (e) => {
      if (current === "tasks" && !panel.hidden && (e.detail.kind === "job.progress" || e.detail.kind === "comfy.run")) {
        clearTimeout(timer);
        timer = setTimeout(() => renderTasks(app, panel), 150);
      }
    });
    // An edit, undo or redo anywhere: an open history panel shows it.
    const edited = () => {
      if (current !== "history" || panel.hidden) return;
      clearTimeout(timer);
      timer = setTimeout(() => renderHistory(app, panel, header, bindClose), 300);
    };
    window.addEventListener("pixlstash:history", edited);
    window.addEventListener("pixlstash:event", (e) => { if (!["job.progress", "comfy.run"].includes(e.detail.kind)) edited(); });
  }
  // Clear what the panel showed before while the new content loads: a button left from the last
  // opening could be clicked, and its answer then lost when the new content arrives.
  panel.innerHTML = `${header(name[0].toUpperCase() + name.slice(1))}<p class="muted">Loading…</p>`;
  bindClose(panel);
  ({ stats: renderStats, tasks: renderTasks, snapshots: renderSnapshots,
    settings: (a, p) => renderSettings(a, p, header, bindClose),
    help: renderHelp, people: (a, p, o) => renderPeople(a, p, { header, bindClose }, o),
    history: (a, p) => renderHistory(a, p, header, bindClose),
    folders: (a, p) => renderFolders(a, p, header, bindClose) })[name](app, panel, options);
}

/** The view changed: an open statistics panel shows the new view's figures, never the old ones. */
export function viewChanged(app) {
  const panel = $("panel");
  if (current === "stats" && !panel.hidden) renderStats(app, panel);
}

export function closePanel() {
  $("panel").hidden = true;
  current = null;
}

function header(title) {
  return `<h2>${esc(title)} <button class="icon" data-close aria-label="Close panel">✕</button></h2>`;
}

function bindClose(panel) {
  panel.querySelector("[data-close]").onclick = closePanel;
}

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

async function renderStats(app, panel) {
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
function wait(seconds) {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
}

// -- tasks ----------------------------------------------------------------------------------------------

// Where the originals are, when it is a bucket or does not answer (administrators only). Asked apart from
// the jobs, so a slow store never holds them back, and at most every 30 s however often the panel redraws
// (each answer asks the bucket).
const storageAsked = { at: 0, state: null };

function showStorage(panel) {
  const fill = () => {
    const slot = panel.querySelector("#storage-slot");
    const storage = storageAsked.state;
    if (slot && storage && (storage.remote || storage.state !== "answers")) slot.innerHTML = storageSection(storage);
  };
  if (Date.now() - storageAsked.at < 30_000) { fill(); return; }
  storageAsked.at = Date.now();
  api.get("/storage").then((storage) => { storageAsked.state = storage; fill(); }).catch(() => {});
}

async function renderTasks(app, panel) {
  let progress;
  let jobs;
  let cluster;
  let comfy;
  try {
    [progress, jobs, { cluster }, comfy] = await Promise.all([api.get("/jobs/progress"), api.get("/jobs", { limit: 20 }),
      api.get("/jobs/cluster"), comfyRunsSection()]);
  } catch (error) {
    toast(error.message); return;
  }
  const open = progress.reduce((n, p) => n + p.queued + p.running, 0);
  const badge = $("task-count");
  badge.hidden = !open;
  badge.textContent = open;
  panel.innerHTML = `${header("Tasks")}
    <section><h3>Running and queued</h3><div class="list" id="task-progress">${progress.length ? progress.map((p) => {
      const total = p.queued + p.running + p.done + p.failed;
      return `<div class="row" data-engine="${esc(p.engine_id)}"><strong>${esc(p.engine_id)}</strong> <span class="muted">${esc(p.task)}</span>
        <span>${(p.done + p.failed).toLocaleString()} / ${total.toLocaleString()} · ${p.pictures_per_second.toFixed(p.pictures_per_second < 10 ? 2 : 1)} pictures/s${
          p.seconds_left ? ` · about ${wait(p.seconds_left)} left` : ""}</span>
        <div class="progress"><div style="width:${(100 * (p.done + p.failed)) / Math.max(1, total)}%"></div></div></div>`;
    }).join("") : '<p class="muted">Nothing queued.</p>'}</div></section>
    ${cluster ? `<section id="cluster"><h3>On Ray</h3><p>${cluster.local ? "The cluster went away: going on locally."
      : `${esc(cluster.address || "a Ray on the worker's machine")} · ${cluster.in_flight} batches out ·
      ${cluster.pictures_per_second.toFixed(1)} pictures/s`}</p><div class="list">${Object.entries(cluster.nodes)
      .map(([node, count]) => `<div class="row"><span>node ${esc(node.slice(0, 12))}</span>
      <span class="muted">${count.toLocaleString()} pictures</span></div>`).join("")}</div></section>` : ""}
    <div id="storage-slot"></div>
    <section><h3>Recent jobs</h3><div class="list">${jobs.map((j) => `<div class="row" data-job="${j.id}">
      <span>#${j.id} ${esc(j.task)} · ${esc(j.engine_id)}</span><span class="muted">${esc(j.state)} ${j.done}/${j.total}${j.failed ? `, ${j.failed} failed` : ""}</span>
      ${j.error ? `<small class="error">${esc(j.error)}</small>` : ""}
      ${j.state === "queued" || j.state === "running" ? `<button data-cancel="${j.id}">Cancel</button>` : ""}
      ${j.state === "failed" || j.failed ? `<button data-retry="${j.id}">Retry</button>` : ""}</div>`).join("")}</div></section>
    ${comfy}`;
  bindClose(panel);
  showStorage(panel);
  bindComfyRuns(panel, () => renderTasks(app, panel));
  panel.querySelectorAll("#comfy-runs a[data-nav]").forEach((a) => {
    a.onclick = (e) => { e.preventDefault(); app.update({ picture: Number(new URL(a.href).searchParams.get("picture")) }); };
  });
  panel.querySelectorAll("[data-cancel]").forEach((b) => {
    b.onclick = async () => { await api.post(`/jobs/${b.dataset.cancel}/cancel`).catch((e) => toast(e.message)); renderTasks(app, panel); };
  });
  panel.querySelectorAll("[data-retry]").forEach((b) => {
    b.onclick = async () => { await api.post(`/jobs/${b.dataset.retry}/retry`).catch((e) => toast(e.message)); renderTasks(app, panel); };
  });
}

// -- snapshots ------------------------------------------------------------------------------------

// How each kind of snapshot reads in the list (a scheduled one has no label of its own).
const SNAPSHOT_KINDS = { DAILY: "Daily snapshot", WEEKLY: "Weekly snapshot", MONTHLY: "Monthly snapshot",
  MANUAL: "Taken by hand", SAFETY: "Safety snapshot" };

/** What a restore does to the undo history, said before it runs ("" when there is nothing to lose). */
async function historyCleared() {
  try {
    const history = await api.get("/history", { limit: 1 });
    if (!history.can_undo && !history.can_redo) return "";
  } catch { return ""; }
  return " It also clears the undo history: the edits made before it can no longer be undone.";
}

async function renderSnapshots(app, panel, options = {}) {
  let snapshots;
  try { snapshots = await api.get("/snapshots"); } catch (error) { toast(error.message); return; }
  const selected = options.restoreIds || app.selection();
  const resource = options.restoreResource;
  panel.innerHTML = `${header("Snapshots")}
    <form id="take-snapshot"><input name="label" placeholder="label (optional)" aria-label="Snapshot label">
      <button class="primary">Take snapshot</button></form>
    ${selected.length || resource ? `<p class="muted">${resource ? `Selective restore of ${esc(resource.type)} ${resource.id}`
      : `Selective restore of the ${selected.length} selected picture(s)`} available on each snapshot.</p>` : ""}
    <div class="list" id="snapshot-list">${snapshots.map((s) => `<div class="row" data-snapshot="${s.id}">
      <span><strong>${esc(s.label || SNAPSHOT_KINDS[s.kind] || s.kind)}</strong>${s.label
        ? ` <span class="muted">${esc(SNAPSHOT_KINDS[s.kind] || s.kind)}</span>` : ""}<br>
      <small>${new Date(s.created_at).toLocaleString()} · ${s.picture_count.toLocaleString()} pictures · ${(s.byte_size / 1e6).toFixed(1)} MB</small></span>
      <span><button data-preview="${s.id}">Preview restore</button>
      ${selected.length || resource ? `<button data-selective="${s.id}">Restore selection…</button>` : ""}
      <button data-delete="${s.id}" aria-label="Delete snapshot ${s.id}">✕</button></span>
      <div class="result" id="snapshot-result-${s.id}"></div></div>`).join("")}</div>`;
  bindClose(panel);
  panel.querySelector("#take-snapshot").onsubmit = async (event) => {
    event.preventDefault();
    try {
      const label = event.target.label.value.trim();
      await api.post("/snapshots", label ? { label } : {});
      toast("Snapshot taken");
      renderSnapshots(app, panel, options);
    } catch (error) { toast(error.message); }
  };
  panel.querySelectorAll("[data-preview]").forEach((b) => {
    b.onclick = async () => {
      const id = b.dataset.preview;
      const out = panel.querySelector(`#snapshot-result-${id}`);
      try {
        const { summary, to_delete: gone, to_recreate: back } = await api.get(`/snapshots/${id}/restore/preview`);
        const named = (list, verb) => list.length ? `<br><small>${verb}: ${list.map((c) => `${esc(c.type)} ${esc(c.name)}`).join(", ")}</small>` : "";
        out.innerHTML = `<small>${summary.pictures_to_revert} to revert, ${summary.pictures_to_recreate} to recreate,
          ${summary.pictures_to_delete} to delete, ${summary.pictures_unchanged} unchanged, ${summary.missing_files} missing files</small>
          ${named(gone, "Deletes")}${named(back, "Brings back")}
          <button class="danger" data-full="${id}">Restore everything</button>`;
        out.querySelector("[data-full]").onclick = async () => {
          const detail = `A safety snapshot is taken first, so this can be reversed.${await historyCleared()}`;
          if (!(await confirmAction("Roll all metadata back to this snapshot?", detail, { ok: "Restore everything", danger: true }))) return;
          try {
            const result = await api.post(`/snapshots/${id}/restore`);
            toast(`Restored (${result.missing_files_count} missing files)`);
            app.sidebar.reload();
            app.load({ keepScroll: true });
            renderSnapshots(app, panel);
          } catch (error) { toast(error.message); }
        };
      } catch (error) { toast(error.message); }
    };
  });
  panel.querySelectorAll("[data-selective]").forEach((b) => {
    b.onclick = async () => {
      const id = b.dataset.selective;
      const resources = resource ? [resource] : selected.map((pid) => ({ type: "picture", id: pid }));
      const out = panel.querySelector(`#snapshot-result-${id}`);
      try {
        const preview = await api.post(`/snapshots/${id}/restore/batch/preview`, { resources });
        const changing = preview.changes.filter((c) => c.change !== "unchanged");
        out.innerHTML = `<small>${changing.length} of ${resources.length} would change</small>
          <ul class="changes">${changing.slice(0, 50).map((c) => `<li><small>${esc(c.type)} ${c.id}: ${esc(c.change)}
          ${c.fields ? Object.keys(c.fields).map(esc).join(", ") : ""}</small></li>`).join("")}</ul>
          ${preview.errors.map((e) => `<small class="error">${esc(e.type)} ${e.id}: ${esc(e.error)}</small>`).join("")}
          <button class="primary" data-apply="${id}">Restore these</button>`;
        out.querySelector("[data-apply]").onclick = async () => {
          const dropped = (await historyCleared()) && " Undo steps that changed them can no longer be undone; the others stay.";
          if (dropped && !(await confirmAction(`Restore ${changing.length} from this snapshot?`, dropped.trim(),
            { ok: "Restore these", danger: true }))) return;
          try {
            const result = await api.post(`/snapshots/${id}/restore/batch`, { resources, recreate_missing: true });
            toast(`Restored ${result.upserted_count}`);
            app.refreshDetails(selected);
            app.sidebar.reload();
          } catch (error) { toast(error.message); }
        };
      } catch (error) { toast(error.message); }
    };
  });
  panel.querySelectorAll("[data-delete]").forEach((b) => {
    b.onclick = async () => {
      if (!(await confirmAction("Delete this snapshot?", "Its data shared with other snapshots stays.", { ok: "Delete", danger: true }))) return;
      try { await api.del(`/snapshots/${b.dataset.delete}`); renderSnapshots(app, panel, options); } catch (error) { toast(error.message); }
    };
  });
}

// -- shortcuts --------------------------------------------------------------------------------------

export const SHORTCUTS = [
  ["Click", "open (select, once anything is selected)"], ["Ctrl / Shift + click", "select, a range"],
  ["← → ↑ ↓", "move"], ["Shift + arrows", "extend the selection"], ["Space", "select or unselect"],
  ["Enter", "open the picture"], ["Esc", "close, or clear the selection"], ["1 – 5", "rate (the selection, or the picture in focus)"],
  ["0", "clear the rating"],
  ["T", "tag"], ["Delete", "move to the scrapheap"], ["F", "search"], ["Ctrl + A", "select all"],
  ["A / X", "accept / reject suggested tags (in the picture)"], ["I", "show or hide the details (in the picture)"],
  ["R / Shift + R", "turn right / left (the picture, or the selection)"], ["C", "crop and straighten (in the picture)"],
  ["Shift + F10, menu key", "the picture menu"], ["Tab", "move between controls (Skip to pictures first)"],
  ["Ctrl + Z", "undo"],
  ["Ctrl + Y, Ctrl + Shift + Z", "redo"], ["?", "these shortcuts"],
];

function renderHelp(app, panel) {
  panel.innerHTML = `${header("Keyboard shortcuts")}<dl class="kv">${SHORTCUTS.map(([k, d]) =>
    `<dt><kbd>${esc(k)}</kbd></dt><dd>${esc(d)}</dd>`).join("")}</dl>`;
  bindClose(panel);
}

// -- share dialog -----------------------------------------------------------------------------------

export function shareDialog(app, scope) {
  const backdrop = $("dialog");
  const box = backdrop.querySelector(".dialog");
  const what = scope.scope_type === "pictures" ? `${scope.picture_ids.length} picture(s)` : `this ${scope.scope_type}`;
  box.innerHTML = `<form id="share-form"><h2>Share ${esc(what)}</h2>
    <label>Title <input name="title" aria-label="Share title"></label>
    <label>Expires after (days, empty: never) <input name="days" type="number" min="0.01" step="any" aria-label="Expiry in days"></label>
    <label><input type="checkbox" name="allow_original" checked> Allow downloading originals</label>
    <label><input type="checkbox" name="edited_downloads"> Edited pictures download as edited (not the original file)</label>
    <label><input type="checkbox" name="include_metadata"> Include tags and captions</label>
    <label>Watermark text <input name="watermark" aria-label="Watermark text"></label>
    <p id="share-url" class="muted"></p>
    <div class="actions"><button type="button" data-cancel>Close</button><button class="primary" id="create-share">Create link</button></div></form>`;
  nameDialog(box);
  backdrop.hidden = false;
  const form = box.querySelector("form");
  box.querySelector("[data-cancel]").onclick = () => { backdrop.hidden = true; };
  form.onkeydown = (e) => { if (e.key === "Escape") { e.stopPropagation(); backdrop.hidden = true; } };
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = { ...scope, title: form.title.value, allow_original: form.allow_original.checked,
      include_metadata: form.include_metadata.checked, edited_downloads: form.edited_downloads.checked };
    if (form.days.value) body.expires_in_days = Number(form.days.value);
    if (form.watermark.value.trim()) body.watermark_text = form.watermark.value.trim();
    try {
      const created = await api.post("/shares", body);
      const url = new URL(created.url, location.href).href;
      const out = box.querySelector("#share-url");
      out.innerHTML = `Link (shown once): <a href="${esc(url)}" target="_blank" rel="noopener" id="share-link">${esc(url)}</a> `;
      out.append(copyButton(url, "Copy link"));
    } catch (error) { toast(error.message); }
  };
}
