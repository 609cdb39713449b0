// Actions on pictures and sidebar items: the selection toolbar, right-click menus, and the dialogs they open.

import { api } from "./api.js";
import { esc, toast } from "./ui.js";
import { runEngineDialog } from "./engine_dialog.js";
import { exportDialog } from "./export_dialog.js";
import { openPanel, shareDialog } from "./panels.js";

const $ = (id) => document.getElementById(id);
const TASK_LABELS = { tagger: "Re-tag with", captioner: "Describe with", embedder: "Embed with", faces: "Find faces with" };

async function bulk(app, ids, op, message) {
  try {
    const result = await api.post("/pictures/bulk", { ids, operation: op });
    toast(message || `${result.count} picture${result.count === 1 ? "" : "s"} updated`);
    app.refreshDetails(ids);
    return result;
  } catch (error) { toast(error.message); return null; }
}

export const actions = {
  rate: (app, ids, rating) => bulk(app, ids, { action: "rate", rating }, rating ? `Rated ${rating}` : "Rating cleared"),

  async tag(app, ids) {
    const tags = (await ask("Add tags", "comma-separated tags"))?.split(",").map((t) => t.trim()).filter(Boolean);
    if (tags?.length) await bulk(app, ids, { action: "tag", tags }, `Tagged ${ids.length}`);
  },

  async assign(app, ids, collection) {
    try {
      await api.post(`/${collection.kind === "set" ? "sets" : "characters"}/${collection.id}/pictures`, { ids });
      toast(`Added to ${collection.name}`);
      app.sidebar.reload();
    } catch (error) { toast(error.message); }
  },

  async move(app, ids, project) {
    try {
      await api.post(`/projects/${project.id}/pictures`, { ids });
      toast(`Added to ${project.name}`);
      app.sidebar.reload();
    } catch (error) { toast(error.message); }
  },

  async remove(app, ids) {
    if (app.view.scrapheap) {
      if (!confirm(`Delete ${ids.length} picture(s) for good? Their files in the library are removed.`)) return;
      try { await api.post("/scrapheap/purge", { ids }); toast("Deleted for good"); } catch (e) { toast(e.message); }
    } else {
      await bulk(app, ids, { action: "scrap" }, `${ids.length} moved to the scrapheap`);
    }
    app.grid.clearSelection();
    app.load({ keepScroll: true });
  },

  async unscrap(app, ids) {
    try { await api.post("/scrapheap/restore", { ids }); toast("Restored"); } catch (e) { toast(e.message); }
    app.load({ keepScroll: true });
  },

  async enrich(app, ids, engine) {
    try {
      let job;
      if (engine.parameters.length) {  // its own controls first: caption type, thresholds, ...
        job = await runEngineDialog(engine, ids);
        if (job === null) return;
      } else {
        ({ job } = await api.post("/jobs", { task: engine.task, engine: engine.id, picture_ids: ids, force: true }));
      }
      toast(job ? `Queued ${job.total} for ${engine.label}` : "Nothing to do");
      openPanel(app, "tasks");
    } catch (error) { toast(error.message); }
  },

  similar: (app, ids) => app.navigate({ similar: ids.slice(0, 100), combine: "mean" }),

  async similarFaces(app, ids) {
    const picture = await api.get(`/pictures/${ids[0]}`);
    if (!picture.faces.length) { toast("No faces found on this picture (yet)"); return; }
    app.navigate({ face: picture.faces[0].id });
  },

  share: (app, ids) => shareDialog(app, { scope_type: "pictures", picture_ids: ids }),

  restore: (app, ids) => openPanel(app, "snapshots", { restoreIds: ids }),
};

export function renderSelectionBar(app) {
  const bar = $("selection-bar");
  const ids = app.selection();
  if (!ids.length) { bar.hidden = true; return; }
  bar.hidden = false;
  bar.innerHTML = `<strong>${ids.length.toLocaleString()} selected</strong>
    ${[1, 2, 3, 4, 5].map((r) => `<button data-rate="${r}" aria-label="Rate ${r} stars">${"★".repeat(r)}</button>`).join("")}
    <button data-act="tag">Tag…</button><button data-act="assign">Add to…</button>
    <button data-act="share">Share…</button><button data-act="similar">Similar</button>
    <button data-act="more" aria-label="More actions">More…</button>
    <button data-act="remove" class="danger">${app.view.scrapheap ? "Delete for good" : "Delete"}</button>
    ${app.view.scrapheap ? '<button data-act="unscrap">Restore</button>' : ""}
    <button data-act="clear" aria-label="Clear selection">×</button>`;
  bar.querySelectorAll("[data-rate]").forEach((b) => { b.onclick = () => actions.rate(app, ids, Number(b.dataset.rate)); });
  bar.querySelectorAll("[data-act]").forEach((b) => {
    b.onclick = (event) => {
      const act = b.dataset.act;
      if (act === "clear") app.grid.clearSelection();
      else if (act === "assign") {
        const r = b.getBoundingClientRect();
        showMenu(r.left, r.bottom, assignItems(app, ids));
      } else if (act === "more") contextMenu(app, event.clientX, event.clientY, ids);
      else actions[act](app, ids);
    };
  });
}

function assignItems(app, ids) {
  const items = app.sidebar.collections.map((c) => [`${c.kind === "character" ? "●" : "■"} ${c.name}`,
    () => actions.assign(app, ids, c)]);
  items.push(null, ...app.sidebar.projects.map((p) => [`▸ Project ${p.name}`, () => actions.move(app, ids, p)]));
  return items.length > 1 ? items : [["Create a set or project first", () => {}]];
}

export function contextMenu(app, x, y, ids) {
  const engines = app.engines.filter((e) => e.model.present);
  const items = [
    ["Open", () => app.update({ picture: ids[0] })],
    ["Rate", [1, 2, 3, 4, 5, 0].map((r) => [r ? "★".repeat(r) : "Clear rating", () => actions.rate(app, ids, r)])],
    ["Tag…", () => actions.tag(app, ids)],
    ["Add to set / character / project", assignItems(app, ids)],
    ["Share…", () => actions.share(app, ids)],
    ["Export for training…", () => exportDialog(app, { ids })],
    null,
    ["Find similar pictures", () => actions.similar(app, ids)],
    ["Find similar faces", () => actions.similarFaces(app, ids)],
  ];
  for (const task of ["tagger", "captioner", "embedder", "faces"]) {
    const list = engines.filter((e) => e.task === task);
    if (list.length) {
      items.push([TASK_LABELS[task], list.map((e) => [`${e.label}${e.parameters.length ? "…" : ""}`, () => actions.enrich(app, ids, e)])]);
    }
  }
  items.push(null, ["Restore from snapshot…", () => actions.restore(app, ids)]);
  if (app.view.scrapheap) items.push(["Restore from scrapheap", () => actions.unscrap(app, ids)]);
  items.push([app.view.scrapheap ? "Delete for good" : "Delete", () => actions.remove(app, ids)]);
  showMenu(x, y, items);
}

export function contextMenuFor(app, x, y, kind, id) {
  const items = [];
  if (kind === "project") {
    items.push(["Open", () => app.navigate({ project: id })],
      ["Export for training…", () => exportDialog(app, { project: app.sidebar.projects.find((p) => p.id === id) })],
      ["Rename…", () => rename(app, `/projects/${id}`)],
      ["Share…", () => shareDialog(app, { scope_type: "project", scope_id: id })],
      ["Delete project (keeps pictures)", () => remove(app, `/projects/${id}`)]);
  } else {
    const path = `/${kind === "set" ? "sets" : "characters"}/${id}`;
    items.push(["Open", () => app.navigate({ collections: [id] })],
      ...(kind === "character" ? [["Faces and suggestions…", () => openPanel(app, "people", { character: id })]] : []),
      ["Export for training…", () => exportDialog(app, { collection: app.sidebar.collections.find((c) => c.id === id) })],
      ["Rename…", () => rename(app, path)],
      ["Share…", () => shareDialog(app, { scope_type: kind, scope_id: id })],
      ["Move to project", [["No project", () => move(app, path, null)],
        ...app.sidebar.projects.map((p) => [p.name, () => move(app, path, p.id)])]],
      ["Restore from snapshot…", () => openPanel(app, "snapshots", { restoreResource: { type: kind, id } })],
      [`Delete ${kind} (keeps pictures)`, () => remove(app, path)]);
  }
  showMenu(x, y, items);
}

async function rename(app, path) {
  const name = await ask("New name");
  if (!name) return;
  try { await api.patch(path, { name }); app.sidebar.reload(); } catch (error) { toast(error.message); }
}

async function move(app, path, projectId) {
  try { await api.post(`${path}/move`, { project_id: projectId }); app.sidebar.reload(); } catch (error) { toast(error.message); }
}

async function remove(app, path) {
  if (!confirm("Delete it? Its pictures stay in the library.")) return;
  try { await api.del(path); app.sidebar.reload(); app.navigate({}); } catch (error) { toast(error.message); }
}

export function ask(title, placeholder = "") {
  return new Promise((resolve) => {
    const backdrop = $("dialog");
    const box = backdrop.querySelector(".dialog");
    box.innerHTML = `<form><h2>${esc(title)}</h2><input name="value" placeholder="${esc(placeholder)}" aria-label="${esc(title)}" autofocus>
      <div class="actions"><button type="button" data-cancel>Cancel</button><button class="primary">OK</button></div></form>`;
    backdrop.hidden = false;
    const form = box.querySelector("form");
    form.value.focus();
    const done = (value) => { backdrop.hidden = true; resolve(value); };
    form.onsubmit = (e) => { e.preventDefault(); done(form.value.value.trim()); };
    box.querySelector("[data-cancel]").onclick = () => done(null);
    form.onkeydown = (e) => { if (e.key === "Escape") { e.stopPropagation(); done(null); } };
  });
}

export function showMenu(x, y, items) {
  const menu = $("menu");
  const build = (list) => list.map((item, i) => {
    if (!item) return '<div class="sep" role="separator"></div>';
    const [label, action] = item;
    const sub = Array.isArray(action);
    return `<button role="menuitem" data-index="${i}" ${sub ? 'aria-haspopup="true"' : ""}>${esc(label)}${sub ? " ›" : ""}</button>`;
  }).join("");
  const open = (list, left, top) => {
    menu.innerHTML = build(list);
    menu.hidden = false;
    const r = menu.getBoundingClientRect();
    menu.style.left = `${Math.max(0, Math.min(left, innerWidth - r.width - 4))}px`;
    menu.style.top = `${Math.max(0, Math.min(top, innerHeight - r.height - 4))}px`;
    menu.querySelectorAll("[data-index]").forEach((b) => {
      b.onclick = (event) => {
        event.stopPropagation();
        const [, action] = list[Number(b.dataset.index)];
        if (Array.isArray(action)) { const br = b.getBoundingClientRect(); open(action, br.right, br.top); }
        else { hideMenu(); action(); }
      };
    });
    menu.querySelector("button")?.focus();
  };
  open(items, x, y);
  setTimeout(() => document.addEventListener("click", hideMenu, { once: true }), 0);
}

export function hideMenu() {
  $("menu").hidden = true;
}
