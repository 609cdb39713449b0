// The folders panel: import folders (watched; new files are copied in) and reference folders (indexed
// where they are, never changed), added by path on the server's disk, with their options, status, last
// scan, a rescan that says what it found (and why files were skipped), and removal.

import { api } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { esc, toast } from "../ui.js";

function ago(ms) {
  if (!ms) return "never scanned";
  const minutes = Math.round((Date.now() - ms) / 60000);
  if (minutes < 1) return "scanned just now";
  if (minutes < 90) return `scanned ${minutes} min ago`;
  return `scanned ${new Date(ms).toLocaleString()}`;
}

function options(folder) {
  const o = folder.options;
  const said = [];
  if (folder.kind === "import") said.push(o.delete_after_import ? "files deleted once stored" : "files kept");
  if (folder.kind === "reference") {
    const writes = [o.write_sidecars && `.txt sidecars (${o.sidecar_format || "tags"})`, o.write_xmp && ".xmp sidecars"];
    said.push(writes.some(Boolean) ? `writes ${writes.filter(Boolean).join(" and ")}` : "never written to");
    if (o.allow_purge) said.push("emptying the scrapheap deletes its files");
  }
  return said.join(" · ");
}

/** What a scan did, in a line; skipped files listed with their reasons. */
function scanReport(result) {
  const r = result.report;
  const parts = [`${r.imported.length} new`, `${r.duplicates.length} already in`];
  if (result.changed) parts.push(`${result.changed} changed`);
  if (result.moved) parts.push(`${result.moved} moved`);
  if (result.removed) parts.push(`${result.removed} gone`);
  if (result.waiting) parts.push(`${result.waiting} still being written (next scan)`);
  if (r.skipped.length) parts.push(`${r.skipped.length} skipped`);
  return `<p>${parts.join(", ")}</p>${r.skipped.length ? `<ul class="skipped">${r.skipped.slice(0, 50).map((s) =>
    `<li><small><b>${esc(s.path)}</b>: ${esc(s.reason)}</small></li>`).join("")}</ul>` : ""}`;
}

export async function renderFolders(app, panel, header, bindClose) {
  let folders;
  try { folders = await api.get("/folders"); } catch (error) { toast(error.message); return; }
  panel.innerHTML = `${header("Folders")}
    <p class="muted">An <b>import folder</b> is watched: pictures put in it are copied into the library.
      A <b>reference folder</b> is indexed where it is; its files are never moved or changed.</p>
    <ul class="folder-list" aria-label="Folders">${folders.map((f) => `<li class="folder" data-folder="${f.id}">
      <div><b>${f.kind === "reference" ? "◎ Reference" : "⇣ Import"}</b> <code>${esc(f.path)}</code>
        ${f.options.paused ? '<span class="folder-state">Paused</span>' : ""}</div>
      <small class="muted">${f.picture_count.toLocaleString()} pictures · ${ago(f.last_scan_at)} · ${esc(options(f))}</small>
      ${f.options.paused ? `<p class="muted"><small>Not watched until it is resumed. (A restored library's folders
        start so: the library it came from may be watching them.)</small></p>` : ""}
      <div class="actions">${f.options.paused
        ? `<button data-resume="${f.id}">Resume</button>`
        : `<button data-rescan="${f.id}">Rescan</button> <button data-pause="${f.id}">Pause</button>`}
        <button data-open="${f.id}">Show pictures</button>
        ${f.kind === "reference" ? `<button data-xmp="${f.id}" aria-pressed="${Boolean(f.options.write_xmp)}"
          title="Write tags, stars, caption and people into .xmp sidecars for photo software">${
          f.options.write_xmp ? "Stop writing .xmp" : "Keep .xmp sidecars"}</button>` : ""}
        <button class="danger" data-remove="${f.id}">Remove</button></div>
      <div class="folder-result" id="folder-result-${f.id}" role="status"></div></li>`).join("")}</ul>
    ${folders.length ? "" : '<p class="muted">No folders yet.</p>'}
    <form id="folder-form" class="folder-form"><h3>Add a folder</h3>
      <label>Kind <select name="kind" aria-label="Folder kind">
        <option value="import">Import folder (watched, files copied in)</option>
        <option value="reference">Reference folder (indexed in place)</option></select></label>
      <label>Path on the server <input name="path" required placeholder="/home/me/Pictures/inbox" aria-label="Folder path"></label>
      <label class="for-import"><input type="checkbox" name="delete_after_import"> Delete each file once it is safely stored</label>
      <label class="for-reference" hidden><input type="checkbox" name="write_sidecars"> Write tags to .txt sidecar files</label>
      <label class="for-reference" hidden><input type="checkbox" name="write_xmp"> Keep .xmp sidecars for photo software (tags, stars, caption, people)</label>
      <label class="for-reference" hidden><input type="checkbox" name="allow_purge"> Emptying the scrapheap may delete files here</label>
      <label><input type="checkbox" name="scan" checked> Scan now</label>
      <p class="error" id="folder-error" role="alert"></p>
      <button class="primary">Add folder</button></form>`;
  bindClose(panel);
  const again = () => renderFolders(app, panel, header, bindClose);
  const form = panel.querySelector("#folder-form");
  const kind = () => form.kind.value;
  form.kind.onchange = () => {
    form.querySelectorAll(".for-import").forEach((el) => { el.hidden = kind() !== "import"; });
    form.querySelectorAll(".for-reference").forEach((el) => { el.hidden = kind() !== "reference"; });
  };
  form.onsubmit = async (event) => {
    event.preventDefault();
    const error = panel.querySelector("#folder-error");
    error.textContent = "";
    const body = { kind: kind(), path: form.path.value.trim(), scan: form.scan.checked };
    if (kind() === "import") body.delete_after_import = form.delete_after_import.checked;
    else {
      body.write_sidecars = form.write_sidecars.checked;
      body.write_xmp = form.write_xmp.checked;
      body.allow_purge = form.allow_purge.checked;
    }
    form.querySelector("button.primary").disabled = true;
    try {
      const folder = await api.post("/folders", body);
      toast(`Added ${folder.path}: ${folder.picture_count.toLocaleString()} pictures`);
      app.sidebar.reload();
      app.load({ keepScroll: true });
      again();
    } catch (e) {
      error.textContent = e.message;
      form.querySelector("button.primary").disabled = false;
    }
  };
  panel.querySelectorAll("[data-rescan]").forEach((b) => {
    b.onclick = async () => {
      const out = panel.querySelector(`#folder-result-${b.dataset.rescan}`);
      out.innerHTML = '<p class="muted">Scanning…</p>';
      b.disabled = true;
      try {
        out.innerHTML = scanReport(await api.post(`/folders/${b.dataset.rescan}/rescan`));
        app.load({ keepScroll: true });
      } catch (e) { out.innerHTML = `<p class="error">${esc(e.message)}</p>`; }
      b.disabled = false;
    };
  });
  panel.querySelectorAll("[data-pause], [data-resume]").forEach((b) => {
    b.onclick = async () => {
      const id = b.dataset.pause || b.dataset.resume;
      const out = panel.querySelector(`#folder-result-${id}`);
      b.disabled = true;
      try {
        const folder = await api.patch(`/folders/${id}`, { paused: Boolean(b.dataset.pause) });
        toast(folder.options.paused ? `Paused ${folder.path}` : `Watching ${folder.path} again`);
        again();
      } catch (e) {
        out.innerHTML = `<p class="error">${esc(e.message)}</p>`;
        b.disabled = false;
      }
    };
  });
  panel.querySelectorAll("[data-xmp]").forEach((b) => {
    b.onclick = async () => {
      const on = b.getAttribute("aria-pressed") !== "true";
      b.disabled = true;
      try {
        const folder = await api.patch(`/folders/${b.dataset.xmp}`, { write_xmp: on });
        toast(on ? `Keeping .xmp sidecars in ${folder.path}` : `No longer writing .xmp sidecars in ${folder.path}`);
        again();
      } catch (e) {
        panel.querySelector(`#folder-result-${b.dataset.xmp}`).innerHTML = `<p class="error">${esc(e.message)}</p>`;
        b.disabled = false;
      }
    };
  });
  panel.querySelectorAll("[data-open]").forEach((b) => {
    b.onclick = () => app.navigate({ folder: Number(b.dataset.open) });
  });
  panel.querySelectorAll("[data-remove]").forEach((b) => {
    b.onclick = async () => {
      const folder = folders.find((f) => f.id === Number(b.dataset.remove));
      if (!(await confirmAction(`Stop ${folder.kind === "import" ? "watching" : "indexing"} ${folder.path}?`,
        "Its files stay where they are, and pictures already in the library stay too.", { ok: "Remove" }))) return;
      try {
        await api.del(`/folders/${folder.id}`);
        toast(`Removed ${folder.path}`);
        app.sidebar.reload();
        again();
      } catch (e) { toast(e.message); }
    };
  });
}
