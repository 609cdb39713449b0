// The tasks panel: enrichment jobs' live progress, the originals' store when it needs saying, ComfyUI runs.

import { api } from "../api.js";
import { bindComfyRuns, comfyRunsSection } from "./comfy.js";
import { storageSection } from "./settings.js";
import { esc, toast } from "../ui.js";

const $ = (id) => document.getElementById(id);

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

export async function renderTasks(app, panel, frame) {
  const { header, bindClose } = frame;
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
  bindComfyRuns(panel, () => renderTasks(app, panel, frame));
  panel.querySelectorAll("#comfy-runs a[data-nav]").forEach((a) => {
    a.onclick = (e) => { e.preventDefault(); app.update({ picture: Number(new URL(a.href).searchParams.get("picture")) }); };
  });
  panel.querySelectorAll("[data-cancel]").forEach((b) => {
    b.onclick = async () => { await api.post(`/jobs/${b.dataset.cancel}/cancel`).catch((e) => toast(e.message)); renderTasks(app, panel, frame); };
  });
  panel.querySelectorAll("[data-retry]").forEach((b) => {
    b.onclick = async () => { await api.post(`/jobs/${b.dataset.retry}/retry`).catch((e) => toast(e.message)); renderTasks(app, panel, frame); };
  });
}
