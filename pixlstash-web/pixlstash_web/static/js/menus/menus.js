// Actions on pictures and sidebar items: the selection toolbar, right-click menus, and the dialogs they open.

import { api } from "../api.js";
import { ask, confirmAction } from "../dialogs.js";
import { undoButton } from "../panels/history.js";
import { esc, toast } from "../ui.js";
import { runEngineDialog } from "./engine_dialog.js";
import { stackItems } from "../panels/comfy.js";
import { modelDialog } from "./model_dialog.js";
import { exportDialog } from "./export_dialog.js";
import { openPanel } from "../panels/panels.js";
import { shareDialog } from "./share_dialog.js";

const $ = (id) => document.getElementById(id);
// Every engine kind the server knows, in the menu's order (an engine of a kind not listed here goes last).
const TASK_LABELS = {
  tagger: "Re-tag with", captioner: "Describe with", embedder: "Embed with", faces: "Find faces with",
  scorer: "Score with", ocr: "Read text with",
};
const TASK_NAMES = { tagger: "tagger", captioner: "captioner", embedder: "embedder", faces: "face engine",
  scorer: "scorer", ocr: "text reader" };

const CONFIRM_OVER = 100; // a bulk action on more pictures than this asks first, saying how many

/** "1 picture", "100,000 pictures". */
export function pictures(count) {
  return `${count.toLocaleString()} picture${count === 1 ? "" : "s"}`;
}

/** One operation on ``ids`` in one request: by the view's filter when the whole view is selected (Ctrl+A),
 * so it covers every picture of it, loaded or not. Over CONFIRM_OVER pictures ``question(n)`` is asked
 * first; ``said(n)`` is the toast. Only the tiles on screen are refreshed. */
async function bulk(app, ids, operation, said, question) {
  try {
    const scope = await app.scope(ids);
    if (scope.count > CONFIRM_OVER && !(await confirmAction(question(pictures(scope.count)),
      "This changes every one of them.", { ok: "Go ahead" }))) return null;
    const result = scope.filter
      ? await api.post("/pictures/bulk-by-filter", { filter: scope.filter, operation })
      : await api.post("/pictures/bulk", { ids: scope.ids, operation });  // a stack's tile: all of it
    toast(said(pictures(result.count)) + stackNote(ids, scope), 8, undoButton(app));
    app.refreshDetails(scope.filter ? null : scope.ids);
    window.dispatchEvent(new CustomEvent("pixlstash:history"));
    return result;
  } catch (error) { toast(error.message); return null; }
}

/** When the tiles chosen stand for more pictures (a stack's tile is its whole stack), the toast says so:
 * "Added 7 pictures" for four tiles is otherwise a surprise. */
function stackNote(ids, scope) {
  const extra = scope.ids ? scope.ids.length - ids.length : 0;
  if (extra <= 0) return "";
  const tiles = ids.length === 1 ? "the tile holds" : `the ${ids.length.toLocaleString()} tiles hold`;
  const more = `${extra.toLocaleString()} more picture${extra === 1 ? "" : "s"}`;
  return ` (${tiles} ${more} in ${ids.length === 1 ? "its stack" : "their stacks"})`;
}

const STARS = (rating) => (rating ? "★".repeat(rating) : "no stars");

const TURNED = { 90: "Turned right", [-90]: "Turned left", 180: "Turned upside down" };

export const actions = {
  /** Turn, mirror or revert pictures (never their originals): each one undo step; videos are left out. */
  turn: (app, ids, degrees) => bulk(app, ids, { action: "edit", change: { rotate: degrees } },
    (n) => `${TURNED[degrees]} ${n}`, (n) => `Turn ${n}?`),
  mirror: (app, ids) => bulk(app, ids, { action: "edit", change: { flip: true } }, (n) => `Mirrored ${n}`,
    (n) => `Mirror ${n}?`),
  revertEdits: (app, ids) => bulk(app, ids, { action: "edit", change: { revert: true } },
    (n) => `Reverted ${n} to the original`, (n) => `Revert ${n} to their originals?`),

  async submit(app, ids, collection) {
    try {
      const sent = await api.post(`/sets/${collection.id}/submissions`, { ids: await app.expand(ids) });
      toast(`Sent ${pictures(sent.picture_ids.length)} to ${collection.name}'s curators`);
    } catch (error) { toast(error.message); }
  },

  /** Many people in one library: make pictures one's own too, or keep one's own to oneself, or share them. */
  addToMine: (app, ids) => bulk(app, ids, { action: "add_to_my_library" }, (n) => `Added ${n} to your library`,
    (n) => `Add ${n} to your library?`),
  setPrivate: (app, ids, value) => bulk(app, ids, { action: "private", value },
    (n) => (value ? `Kept ${n} to yourself` : `Shared ${n} with the library`),
    (n) => (value ? `Keep ${n} to yourself?` : `Share ${n} with the library?`)),

  rate: (app, ids, rating) => bulk(app, ids, { action: "rate", rating },
    (n) => (rating ? `Rated ${n} ${STARS(rating)}` : `Cleared the rating of ${n}`),
    (n) => (rating ? `Rate ${n} ${STARS(rating)}?` : `Clear the rating of ${n}?`)),

  async tag(app, ids) {
    // The last tag typed completes from the library's tags (most used first), keeping those before it.
    const suggest = async (typed) => {
      const parts = typed.split(",");
      const last = parts.pop().trim();
      if (!last) return [];
      const before = parts.map((t) => t.trim()).filter(Boolean);
      const tags = await api.get("/tags", { prefix: last, limit: 8 });
      return tags.map((t) => [...before, t.name].join(", "));
    };
    const tags = (await ask("Add tags", "comma-separated tags", "", { suggest }))?.split(",").map((t) => t.trim())
      .filter(Boolean);
    if (!tags?.length) return;
    const names = tags.join(", ");
    await bulk(app, ids, { action: "tag", tags }, (n) => `Tagged ${n} ${names}`, (n) => `Tag ${n} ${names}?`);
  },

  async assign(app, ids, collection) {
    const result = await bulk(app, ids, { action: "add_to_collection", collection_id: collection.id },
      (n) => `Added ${n} to ${collection.name}`, (n) => `Add ${n} to the ${collection.kind} ${collection.name}?`);
    if (result) app.sidebar.reload();
  },

  /** A new set (in the project shown, if any) with these pictures: two steps, each undoable. */
  async newSet(app, ids) {
    let made = null;
    const name = await ask("Name of the new set", "", "", {
      submit: async (value) => { made = await api.post("/sets", { name: value, project_id: app.view.project ?? null }); },
    });
    if (!name || !made) return;
    await app.sidebar.reload();
    await actions.assign(app, ids, made);
  },

  async move(app, ids, project) {
    const result = await bulk(app, ids, { action: "add_to_project", project_id: project.id },
      (n) => `Added ${n} to ${project.name}`, (n) => `Add ${n} to the project ${project.name}?`);
    if (result) app.sidebar.reload();
  },

  /** Take the pictures out of a set, character (``kind`` "set" / "character") or project. */
  async leave(app, ids, kind, container) {
    const operation = kind === "project" ? { action: "remove_from_project", project_id: container.id }
      : { action: "remove_from_collection", collection_id: container.id };
    const result = await bulk(app, ids, operation, (n) => `Removed ${n} from ${container.name}`,
      (n) => `Remove ${n} from the ${kind} ${container.name}? They stay in the library.`);
    if (!result) return;
    app.sidebar.reload();
    const here = kind === "project" ? app.view.project === container.id : app.view.collections?.includes(container.id);
    if (here) { app.grid.clearSelection(); app.load({ keepScroll: true }); }
  },

  async remove(app, ids) {
    if (app.view.scrapheap) {
      const all = await app.expand(ids);
      if (!(await confirmAction(`Delete ${pictures(all.length)} for good?`,
        "Their files in the library are removed. This cannot be undone.", { ok: "Delete for good", danger: true }))) return false;
      try { await api.post("/scrapheap/purge", { ids: all }); toast("Deleted for good"); } catch (e) { toast(e.message); return false; }
    } else {
      const result = await bulk(app, ids, { action: "scrap" }, (n) => `${n} moved to the scrapheap`,
        (n) => `Move ${n} to the scrapheap?`);
      if (!result) return false;
    }
    app.grid.clearSelection();
    app.load({ keepScroll: true });
    return true;
  },

  async unscrap(app, ids) {
    const result = await bulk(app, ids, { action: "unscrap" }, (n) => `${n} restored`, (n) => `Restore ${n} from the scrapheap?`);
    if (result) { app.grid.clearSelection(); app.load({ keepScroll: true }); }
  },

  async enrich(app, ids, engine) {
    ids = await app.expand(ids);
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

  similar(app, ids) {
    app.grid.clearSelection();  // the pictures searched from are not a selection in the results
    app.navigate({ similar: ids.slice(0, 100), combine: "mean" });
  },

  async similarFaces(app, ids) {
    const picture = await api.get(`/pictures/${ids[0]}`);
    if (!picture.faces.length) { toast("No faces found on this picture (yet)"); return; }
    app.grid.clearSelection();
    app.navigate({ face: picture.faces[0].id });
  },

  share: async (app, ids) => shareDialog(app, { scope_type: "pictures", picture_ids: await app.expand(ids) }),

  restore: async (app, ids) => openPanel(app, "snapshots", { restoreIds: await app.expand(ids) }),
};

export function renderSelectionBar(app) {
  const bar = $("selection-bar");
  const ids = app.selection();
  if (!ids.length) { bar.hidden = true; return; }
  bar.hidden = false;
  const all = app.grid.allSelected && !app.hits;
  const count = all ? (app.viewCount === null ? "All pictures" : `All ${pictures(app.viewCount)}`) : ids.length.toLocaleString();
  const here = viewContainer(app);
  // "extra" actions give way on a narrow bar (CSS): everything stays under More…, which opens the full menu.
  bar.innerHTML = `<strong id="selection-count">${count} selected</strong>
    ${[1, 2, 3, 4, 5].map((r) => `<button class="extra" data-needs="write" data-rate="${r}" aria-label="Rate ${r} stars">${"★".repeat(r)}</button>`).join("")}
    <button class="extra" data-needs="write" data-act="tag">Tag…</button><button data-needs="write" data-act="assign">Add to…</button>
    ${here ? `<button class="extra" data-needs="write" data-act="leave" title="Take them out of the ${here.kind} ${esc(here.container.name)}; they stay in the library">Remove from ${esc(here.container.name)}</button>` : ""}
    <button class="extra" data-needs="write" data-act="share">Share…</button><button class="extra" data-act="similar">Similar</button>
    <button data-act="more" aria-label="More actions">More…</button>
    <button data-needs="write" data-act="remove" class="danger">${app.view.scrapheap ? "Delete for good" : "Delete"}</button>
    ${app.view.scrapheap ? '<button data-needs="write" data-act="unscrap">Restore</button>' : ""}
    <button data-act="clear" aria-label="Clear selection">×</button>`;
  bar.querySelectorAll("[data-rate]").forEach((b) => { b.onclick = () => actions.rate(app, ids, Number(b.dataset.rate)); });
  bar.querySelectorAll("[data-act]").forEach((b) => {
    b.onclick = (event) => {
      const act = b.dataset.act;
      if (act === "clear") app.grid.clearSelection();
      else if (act === "assign") {
        const r = b.getBoundingClientRect();
        showMenu(r.left, r.bottom, assignItems(app, ids));
      } else if (act === "leave") actions.leave(app, ids, here.kind, here.container);
      else if (act === "more") contextMenu(app, event.clientX, event.clientY, ids);
      else actions[act](app, ids);
    };
  });
}

/** The set, character or project the grid shows, when it shows exactly one. */
function viewContainer(app) {
  const view = app.view;
  if (view.collections?.length === 1) {
    const container = app.sidebar.collections.find((c) => c.id === view.collections[0]);
    return container ? { kind: container.kind, container } : null;
  }
  if (view.project && !view.collections?.length) {
    const container = app.sidebar.projects.find((p) => p.id === view.project);
    return container ? { kind: "project", container } : null;
  }
  return null;
}

/** "Remove from" choices: the view's own set, character or project, and for one picture everything it is
 * in (else every set, character and project, as "Add to" lists them). */
async function leaveItems(app, ids) {
  const items = [];
  const here = viewContainer(app);
  let collections = app.sidebar.collections;
  let projects = app.sidebar.projects;
  if (ids.length === 1) {
    try {
      const picture = await api.get(`/pictures/${ids[0]}`);
      collections = collections.filter((c) => picture.collections.includes(c.id));
      projects = projects.filter((p) => picture.projects.includes(p.id));
    } catch { /* gone meanwhile: offer everything */ }
  }
  for (const c of collections) {
    items.push([`${c.kind === "character" ? "●" : "■"} ${c.name}`, () => actions.leave(app, ids, c.kind, c)]);
  }
  for (const p of projects) items.push([`▸ Project ${p.name}`, () => actions.leave(app, ids, "project", p)]);
  if (here && !items.some(([label]) => label.endsWith(` ${here.container.name}`))) {
    items.unshift([here.container.name, () => actions.leave(app, ids, here.kind, here.container)]);
  }
  return items.length ? items : [["Not in any set, character or project", () => {}]];
}

export function assignItems(app, ids) {
  const items = [["New set…", () => actions.newSet(app, ids)], null];
  // A curated set takes pictures from its curators (and admins); its contributors submit them instead.
  const submits = (c) => c.curated && c.role !== "curator" && app.me?.scope !== "admin";
  items.push(...app.sidebar.collections.filter((c) => !c.curated || c.role || app.me?.scope === "admin").map((c) =>
    [`${submits(c) ? "Submit to " : ""}${c.kind === "character" ? "●" : "■"} ${c.name}`,
      () => (submits(c) ? actions.submit(app, ids, c) : actions.assign(app, ids, c))]));
  if (app.sidebar.projects.length) {
    items.push(null, ...app.sidebar.projects.map((p) => [`▸ Project ${p.name}`, () => actions.move(app, ids, p)]));
  }
  return items;
}

export async function contextMenu(app, x, y, ids) {
  if (app.me?.scope === "read") {  // a viewer looks, finds and exports; it changes nothing
    showMenu(x, y, [["Open", () => app.update({ picture: ids[0] })],
      ["Export for training…", async () => exportDialog(app, { ids: await app.expand(ids) })], null,
      ["Find similar pictures", () => actions.similar(app, ids)],
      ["Find similar faces", () => actions.similarFaces(app, ids)]]);
    return;
  }
  const leaving = await leaveItems(app, ids);
  const items = [
    ["Open", () => app.update({ picture: ids[0] })],
    ["Rate", [1, 2, 3, 4, 5, 0].map((r) => [r ? "★".repeat(r) : "Clear rating", () => actions.rate(app, ids, r)])],
    ["Tag…", () => actions.tag(app, ids)],
    ["Add to set / character / project", assignItems(app, ids)],
    ["Remove from", leaving],
    ["Share…", () => actions.share(app, ids)],
    ...(app.me?.accounts > 1 ? [["Add to my library", () => actions.addToMine(app, ids)],
      ["Keep to myself", () => actions.setPrivate(app, ids, true)],
      ["Share with the library", () => actions.setPrivate(app, ids, false)]] : []),
    ["Export for training…", async () => exportDialog(app, { ids: await app.expand(ids) })],
    ["Turn and mirror", [["Turn right (R)", () => actions.turn(app, ids, 90)],
      ["Turn left (Shift+R)", () => actions.turn(app, ids, -90)], ["Mirror", () => actions.mirror(app, ids)],
      ["Revert to original", () => actions.revertEdits(app, ids)]]],
    null,
    ...stackItems(app, ids),
    null,
    ["Find similar pictures", () => actions.similar(app, ids)],
    ["Find similar faces", () => actions.similarFaces(app, ids)],
  ];
  // Every engine kind is listed; an engine without its model says so and offers to get it.
  const tasks = [...new Set([...Object.keys(TASK_LABELS), ...app.engines.map((e) => e.task)])];
  for (const task of tasks) {
    const list = app.engines.filter((e) => e.task === task);
    items.push([TASK_LABELS[task] ?? `Run ${task} with`, list.length ? list.map((e) => (e.model.present
      ? [`${e.label}${e.parameters.length ? "…" : ""}`, () => actions.enrich(app, ids, e)]
      : [`${e.label || e.id}: model missing, get it…`, () => modelDialog(app, e)]))
      : [[`No ${TASK_NAMES[task] ?? task} installed (see Settings › Engines)`, () => openPanel(app, "settings")]]]);
  }
  items.push(null, ["Restore from snapshot…", () => actions.restore(app, ids)]);
  if (app.view.scrapheap) items.push(["Restore from scrapheap", () => actions.unscrap(app, ids)]);
  items.push([app.view.scrapheap ? "Delete for good" : "Delete", () => actions.remove(app, ids)]);
  showMenu(x, y, items);
}

export function contextMenuFor(app, x, y, kind, id) {
  const items = [];
  if (kind === "project") {
    const project = app.sidebar.projects.find((p) => p.id === id);
    const managing = (...entries) => (manages(app, project) ? entries : []);
    items.push(["Open", () => app.navigate({ project: id })],
      ["Export for training…", () => exportDialog(app, { project })],
      ["Check as a dataset…", () => openPanel(app, "dataset", { source: { kind, id, name: project?.name ?? "the project" } })],
      ...(app.me?.accounts > 1 ? [["People…", () => openPanel(app, "curation", { project: id })]] : []),
      ...privacyItem(app, `/projects/${id}`, project),
      ...managing(["Rename…", () => rename(app, `/projects/${id}`, project?.name)],
        ["Share…", () => shareDialog(app, { scope_type: "project", scope_id: id })],
        ["Delete project (keeps pictures)", () => remove(app, `/projects/${id}`, project?.name ?? "the project")]));
  } else {
    const path = `/${kind === "set" ? "sets" : "characters"}/${id}`;
    const collection = app.sidebar.collections.find((c) => c.id === id);
    const managing = (...entries) => (manages(app, collection) ? entries : []);
    items.push(["Open", () => app.navigate({ collections: [id] })],
      ...(kind === "character" ? [["Faces and suggestions…", () => openPanel(app, "people", { character: id })]] : []),
      ...(kind === "set" && app.me?.accounts > 1 ? [["Curating…", () => openPanel(app, "curation", { set: id })]] : []),
      ...privacyItem(app, path, collection),
      ["Export for training…", () => exportDialog(app, { collection: app.sidebar.collections.find((c) => c.id === id) })],
      ["Check as a dataset…", () => openPanel(app, "dataset", { source: { kind, id,
        name: app.sidebar.collections.find((c) => c.id === id)?.name ?? `the ${kind}` } })],
      ...managing(["Rename…", () => rename(app, path, collection?.name)],
        ["Share…", () => shareDialog(app, { scope_type: kind, scope_id: id })],
        ["Move to project", [["No project", () => move(app, path, null)],
          ...app.sidebar.projects.map((p) => [p.name, () => move(app, path, p.id)])]]),
      [app.sidebar.marked.has(id) ? "Leave the combination" : "Combine with others (then tap them)",
        () => app.sidebar.toggleMarked(id)],
      ["Restore from snapshot…", () => openPanel(app, "snapshots", { restoreResource: { type: kind, id } })],
      ...managing([`Delete ${kind} (keeps pictures)`, () => remove(app, path, collection?.name ?? `the ${kind}`)]));
  }
  showMenu(x, y, items);
}

/** Whether the signed-in person may rename, share or delete a set or project: any one shared with the library;
 * a private one, whoever made it, admins and its curators (its viewers and contributors get no item the
 * server would refuse them). */
function manages(app, thing) {
  return !thing?.private || app.me?.scope === "admin" || thing.role === "curator" || thing.owner_id === app.me?.user_id;
}

/** "Keep private" or "Share with the library" for whoever made a set, character or project (or an admin),
 * where the library has more than one person. */
function privacyItem(app, path, thing) {
  if (!thing || !(app.me?.accounts > 1)) return [];
  if (app.me.scope !== "admin" && thing.owner_id !== app.me.user_id) return [];
  const next = !thing.private;
  const where = path.startsWith("/projects") ? "People…" : "Curating…";
  return [[next ? "Keep private…" : "Share with the library", async () => {
    if (next && !(await confirmAction(`Keep ${thing.name} private?`,
      `Only you, admins and the people you give a role in it (${where}) will see it.`, { ok: "Keep private" }))) return;
    try {
      await api.patch(path, { private: next });
      app.sidebar.reload();
      toast(next ? `${thing.name} is private` : `${thing.name} is shared with the library`);
    } catch (error) { toast(error.message); }
  }]];
}

async function rename(app, path, current) {
  const name = await ask("New name", "", current, { submit: (value) => api.patch(path, { name: value }) });
  if (name) { app.sidebar.reload(); toast(`Renamed to ${name}`, 6, undoButton(app)); }
}

async function move(app, path, projectId) {
  try {
    const moved = await api.post(`${path}/move`, { project_id: projectId });
    app.sidebar.reload();
    toast(`Moved ${moved.name}`, 6, undoButton(app));
  } catch (error) { toast(error.message); }
}

async function remove(app, path, name) {
  if (!(await confirmAction(`Delete ${name}?`, "Its pictures stay in the library; Undo (Ctrl+Z) brings it back.",
    { ok: "Delete", danger: true }))) return;
  try {
    await api.del(path);
    app.sidebar.reload();
    app.navigate({});
    toast(`Deleted ${name}`, 6, undoButton(app));
  } catch (error) { toast(error.message); }
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
  // Arrow keys move through the items (and stay in the menu: the grid behind does not move), Right or Enter
  // opens a submenu, Left goes back to the first level, Esc closes.
  menu.onkeydown = (event) => {
    const buttons = [...menu.querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    const move = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
    if (move !== undefined) {
      event.preventDefault();
      event.stopPropagation();
      buttons[(move + buttons.length) % buttons.length]?.focus();
    } else if (event.key === "ArrowRight" && document.activeElement?.getAttribute("aria-haspopup")) {
      event.preventDefault();
      event.stopPropagation();
      document.activeElement.click();
    } else if (event.key === "ArrowLeft") {
      event.preventDefault();
      event.stopPropagation();
      open(items, x, y);
    }
  };
  open(items, x, y);
  // A click elsewhere closes the menu. The listener goes with the menu: left waiting after a choice (whose
  // click stops at the menu), it closed the next menu the moment that one opened.
  dismissMenu?.abort();
  const dismiss = (dismissMenu = new AbortController());
  setTimeout(() => {
    if (!dismiss.signal.aborted) document.addEventListener("click", hideMenu, { once: true, signal: dismiss.signal });
  }, 0);
}

let dismissMenu = null; // the open menu's click-elsewhere listener

export function hideMenu() {
  dismissMenu?.abort();
  dismissMenu = null;
  const menu = $("menu");
  const hadFocus = menu.contains(document.activeElement);
  menu.hidden = true;
  if (hadFocus) $("grid").focus({ preventScroll: true }); // a keyboard goes back to the pictures
}
