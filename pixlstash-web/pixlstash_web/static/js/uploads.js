// Uploads: the Upload button (files or a whole folder, so phones can add pictures too) and dropping files
// on the grid both fill one tray that lists every file with its progress and what became of it, skipped
// files with the server's reason. One request per file, two at a time: each file's progress is its own,
// and one refused file (too large, damaged) does not take the others down with it.

import { api } from "./api.js";
import { esc, toast } from "./ui.js";

const $ = (id) => document.getElementById(id);
// Requests in flight: one file each, so the server works on at most this many at once; 3 kept a
// 2-core server on 1.67 cores where 2 left it on 1.53 (benchmarks/bench_import_http.py).
const AT_ONCE = 3;
const ACCEPT = "image/*,video/*,.zip,.webp,.avif,.heic,.heif,.jxl,"
  + ".cr2,.cr3,.nef,.nrw,.arw,.dng,.raf,.orf,.rw2,.pef,.srw";  // camera RAW: no MIME type a browser knows

const queue = []; // {file, name, state: waiting|sending|imported|duplicate|restored|skipped|failed, percent, note}
let running = 0;
let reloadTimer = 0;

/** Wire the Upload button, the tray and dropping files on the grid. */
export function bindUploads(app) {
  $("upload").onclick = () => openTray(app);
  const main = document.querySelector(".main");
  main.addEventListener("dragover", (e) => {
    if (e.dataTransfer.types.includes("Files")) { e.preventDefault(); main.classList.add("dropzone"); }
  });
  main.addEventListener("dragleave", () => main.classList.remove("dropzone"));
  main.addEventListener("drop", (e) => {
    main.classList.remove("dropzone");
    if (!e.dataTransfer.files.length) return;
    e.preventDefault();
    add(app, [...e.dataTransfer.files]);
  });
}

function openTray(app) {
  const tray = $("uploads");
  tray.hidden = false;
  const into = destination(app);
  tray.innerHTML = `<div class="uploads-head"><h2>Upload</h2>
      <button class="icon" data-close aria-label="Close uploads">✕</button></div>
    <p class="muted">${into ? `Into ${esc(into.label)}. ` : ""}Pictures, videos or zip archives; the same
      picture twice is stored once.</p>
    <div class="uploads-pick">
      <label class="button primary">Choose files…<input type="file" id="pick-files" multiple accept="${ACCEPT}" hidden></label>
      <label class="button">Choose a folder…<input type="file" id="pick-folder" webkitdirectory multiple hidden></label>
    </div>
    <p id="uploads-summary" class="muted" role="status"></p>
    <ul id="uploads-list" class="uploads-list" aria-label="Files"></ul>`;
  tray.querySelector("[data-close]").onclick = () => { tray.hidden = true; };
  // "show it" opens the picture a file became (or was already) in the viewer, in the page.
  tray.querySelector("#uploads-list").onclick = (event) => {
    const link = event.target.closest("[data-show]");
    if (!link) return;
    event.preventDefault();
    app.update({ picture: Number(link.dataset.show) });
  };
  for (const id of ["pick-files", "pick-folder"]) {
    const input = tray.querySelector(`#${id}`);
    input.onchange = () => { add(app, [...input.files]); input.value = ""; };
  }
  render();
}

/** Where new pictures go: the project, set or character the grid shows. */
function destination(app) {
  const view = app.view;
  if (view.collections?.length === 1) {
    const c = app.sidebar.collections.find((x) => x.id === view.collections[0]);
    if (c) return { label: `the ${c.kind} ${c.name}`, collection: c.id, project: c.project_id };
  }
  if (view.project) {
    const p = app.sidebar.projects.find((x) => x.id === view.project);
    if (p) return { label: `the project ${p.name}`, project: p.id };
  }
  return null;
}

function add(app, files) {
  // A folder brings its hidden files and sidecars too: the server says why it skips what it cannot read.
  const into = destination(app);
  for (const file of files) {
    queue.push({ file, name: file.webkitRelativePath || file.name, state: "waiting", percent: 0, note: "", into });
  }
  if ($("uploads").hidden) openTray(app); // dropped files show their progress too
  pump(app);
}

function pump(app) {
  while (running < AT_ONCE) {
    const item = queue.find((x) => x.state === "waiting");
    if (!item) break;
    running += 1;
    item.state = "sending";
    send(item).then((report) => settle(item, report), (error) => {
      item.state = "failed";
      item.note = error.message;
    }).finally(() => {
      running -= 1;
      item.file = null; // the bytes are no longer needed
      render();
      reloadSoon(app);
      pump(app);
    });
  }
  render();
}

function send(item) {
  const form = new FormData();
  form.append("file", item.file, item.file.name);
  // The file's own time dates a picture that carries no date of its own (a render, a screenshot).
  if (item.file.lastModified) form.append("last_modified", String(item.file.lastModified));
  if (item.into?.project) form.append("project_id", String(item.into.project));
  if (item.into?.collection) form.append("collection_ids", String(item.into.collection));
  return api.upload("/uploads", form, (loaded, total) => {
    item.percent = total ? Math.round((100 * loaded) / total) : 0;
    renderItem(item);
  });
}

function settle(item, report) {
  const [kind, entry] = report.imported.length ? ["imported", report.imported[0]]
    : report.restored.length ? ["restored", report.restored[0]]
      : report.duplicates.length ? ["duplicate", report.duplicates[0]]
        : ["skipped", report.skipped[0]];
  item.state = kind;
  item.percent = 100;
  if (kind === "skipped") item.note = entry?.reason || "not a picture or video";
  else if (kind === "duplicate") item.note = "already in the library";
  else if (kind === "restored") item.note = "was in the scrapheap: brought back";
  const found = report.imported.length + report.duplicates.length + report.restored.length;
  if (item.name.toLowerCase().endsWith(".zip")) { // an archive: what became of its pictures
    item.note = `${report.imported.length} imported, ${report.duplicates.length} already here${
      report.skipped.length ? `, ${report.skipped.length} skipped` : ""}`;
    if (!found) item.state = "skipped";
  }
  item.pictureId = entry?.picture_id;
}

function reloadSoon(app) {
  // The grid follows along every few seconds, and once more when the last file is in.
  const busy = queue.some((x) => x.state === "waiting" || x.state === "sending");
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => {
    app.load({ keepScroll: true });
    app.sidebar.reload();
    if (!busy && $("uploads").hidden) toast(summary());
  }, busy ? 3000 : 200);
}

const LABELS = { waiting: "waiting", sending: "uploading", imported: "imported", duplicate: "duplicate",
  restored: "restored", skipped: "skipped", failed: "failed" };

function summary() {
  const counts = {};
  for (const x of queue) counts[x.state] = (counts[x.state] || 0) + 1;
  const done = queue.length - (counts.waiting || 0) - (counts.sending || 0);
  const parts = ["imported", "duplicate", "restored", "skipped", "failed"].filter((k) => counts[k])
    .map((k) => `${counts[k]} ${LABELS[k]}`);
  return `${done} of ${queue.length} done${parts.length ? ` · ${parts.join(" · ")}` : ""}`;
}

function render() {
  const list = $("uploads-list");
  if (!list) return;
  $("uploads-summary").textContent = queue.length ? summary() : "";
  // Problems first: a skipped file among a thousand imported ones must not scroll out of sight.
  const order = ["failed", "skipped", "sending", "waiting", "duplicate", "restored", "imported"];
  const items = [...queue].sort((a, b) => order.indexOf(a.state) - order.indexOf(b.state)).slice(0, 500);
  list.innerHTML = items.map((item) => `<li class="upload ${item.state}" data-name="${esc(item.name)}">
    <span class="upload-name">${esc(item.name)}</span>
    <span class="upload-state">${LABELS[item.state]}${item.note ? `: ${esc(item.note)}` : ""}${
      item.pictureId && item.state !== "skipped" ? ` <a href="?picture=${item.pictureId}" data-show="${item.pictureId}">show it</a>` : ""}</span>
    <progress max="100" value="${item.percent}" aria-label="${esc(item.name)} uploaded"></progress></li>`).join("");
}

function renderItem(item) {
  const row = [...document.querySelectorAll("#uploads-list li")].find((li) => li.dataset.name === item.name);
  row?.querySelector("progress")?.setAttribute("value", String(item.percent));
}
