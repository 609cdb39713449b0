// The sidebar: projects with their characters and sets, loose ones, folders, the scrapheap.
// Drag a character or set onto a project to move it; drop pictures on a set or character to add them;
// Ctrl-click several sets/characters and combine them from the toolbar that appears.

import { api } from "./api.js";
import { ask } from "./dialogs.js";
import { undoButton } from "./panels/history.js";
import { esc, icon, toast } from "./ui.js";
import { prefs } from "./prefs.js";

const COLLAPSED_KEY = "sidebar.collapsed";
// "Set 2" before "Set 10", any case and accent alike.
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
const byName = (a, b) => collator.compare(a.name, b.name);

const OPS = [["union", "Union"], ["overlap", "Overlap"], ["difference", "Difference"], ["unique", "Unique (XOR)"]];

export class Sidebar {
  constructor(app, element) {
    this.app = app;
    this.el = element;
    this.projects = [];
    this.collections = [];
    this.folders = [];
    this.marked = new Set(); // Ctrl-clicked sets/characters, for set operations
    this.filter = "";
    this.collapsed = new Set(JSON.parse(prefs.get(COLLAPSED_KEY) || "[]")); // project ids
    // The filter box stays put while the tree under it is redrawn (it keeps its focus and caret).
    this.el.innerHTML = `<input id="side-filter" type="search" placeholder="Filter by name"
      aria-label="Filter sets, characters and projects"><div class="side-tree"></div>`;
    this.tree = this.el.querySelector(".side-tree");
    let typing = 0;
    this.el.querySelector("#side-filter").oninput = (event) => {
      clearTimeout(typing);
      typing = setTimeout(() => { this.filter = event.target.value.trim().toLocaleLowerCase(); this.render(); }, 80);
    };
    // Any drag (a set from here, pictures from the grid) may end on a sidebar item: keep them in place.
    document.addEventListener("dragstart", () => { this.dragging = true; });
    document.addEventListener("dragend", () => this.dragEnded());
    document.addEventListener("drop", () => this.dragEnded());
  }

  /** A reload for a change event. A burst of them (a script making 1,000 sets) costs one reload in flight
   * and one after it: a reload each would open thousands of requests and exhaust the browser's. */
  reloadSoon() {
    if (this.reloading) { this.reloadAgain = true; return; }
    this.reloading = this.reload().finally(() => {
      this.reloading = null;
      if (this.reloadAgain) { this.reloadAgain = false; this.reloadSoon(); }
    });
  }

  async reload() {
    try {
      [this.projects, this.collections, this.folders] = await Promise.all([
        api.get("/projects").then((list) => list.sort(byName)),
        Promise.all([api.get("/sets"), api.get("/characters")]).then(([s, c]) => [...c, ...s].sort(byName)),
        api.get("/folders").catch(() => []),
      ]);
    } catch (error) { toast(error.message); }
    this.render();
  }

  render() {
    // Replacing the items under a drag in progress would cancel it: render when the drag ends.
    if (this.dragging) { this.renderAfterDrag = true; return; }
    const view = this.app.view;
    const active = (kind, id) => (kind === "project" ? view.project === id && !view.collections?.length
      : view.collections?.length === 1 && view.collections[0] === id);
    const shown = (obj) => !this.filter || obj.name.toLocaleLowerCase().includes(this.filter);
    const item = (kind, obj, child = false) => {
      const glyph = icon(kind === "character" ? "user-round" : kind === "set" ? "images" : "folder");
      const count = obj.member_count ?? obj.picture_count ?? "";
      return `<div class="side-item ${child ? "child" : ""} ${active(kind, obj.id) ? "active" : ""}
        ${this.marked.has(obj.id) && kind !== "project" ? "marked" : ""}" role="treeitem" tabindex="0"
        data-kind="${kind}" data-id="${obj.id}" draggable="${kind !== "project"}"
        aria-label="${kind} ${esc(obj.name)}${obj.private ? " (private)" : ""}">
        <span class="dot" style="background:${esc(obj.color || "#667")}" aria-hidden="true">${kind === "project" ? "" : ""}</span>
        ${glyph}<span>${esc(obj.name)}</span>${obj.private ? `<span class="private-mark" title="Private">${icon("lock")}</span>` : ""}<span class="count">${count}</span></div>`;
    };
    let html = `<div class="side-item ${!view.project && !view.collections?.length && !view.scrapheap && !view.folder && !view.dupes
      && !view.whose ? "active" : ""}" data-kind="library" tabindex="0" role="link">All pictures</div>`;
    if (this.app.me?.accounts > 1) {  // more than one person: their own pictures, and what others share
      html += `<div class="side-item ${view.whose === "mine" ? "active" : ""}" data-kind="mine" tabindex="0"
        role="link">My pictures</div><div class="side-item ${view.whose === "others" ? "active" : ""}"
        data-kind="others" tabindex="0" role="link">Shared with me</div>`;
    }
    html += `<h2>Projects <button id="new-project" class="icon" data-needs="write" aria-label="New project" title="New project">${icon("folder-plus")}</button></h2><div role="tree">`;
    const inProject = new Map(this.projects.map((p) => [p.id, []]));
    for (const c of this.collections) if (c.project_id != null) inProject.get(c.project_id)?.push(c);
    for (const project of this.projects) {
      const children = inProject.get(project.id).filter(shown);
      if (!shown(project) && !children.length) continue;
      // A filter opens every project with a match; otherwise a project stays as the person left it.
      const open = this.filter ? true : !this.collapsed.has(project.id) || view.project === project.id;
      const toggle = inProject.get(project.id).length ? `<button class="twisty" data-toggle="${project.id}"
        aria-expanded="${open}" aria-label="${open ? "Collapse" : "Expand"} ${esc(project.name)}">${icon(open ? "chevron-down" : "chevron-right")}</button>` : "";
      html += item("project", project).replace('<span class="dot"', `${toggle}<span class="dot"`);
      if (open) for (const c of (this.filter ? children : inProject.get(project.id))) html += item(c.kind, c, true);
    }
    html += "</div>";
    const loose = this.collections.filter((c) => c.project_id == null);
    html += `<h2>Characters &amp; sets <span><button id="new-character" class="icon" data-needs="write" aria-label="New character"
      title="New character">${icon("user-round-plus")}</button><button id="new-set" class="icon" data-needs="write" aria-label="New set"
      title="New set">${icon("image-plus")}</button></span></h2><div role="tree">`;
    for (const c of loose) if (shown(c)) html += item(c.kind, c);
    if (this.filter && !/data-kind="(project|set|character)"/.test(html)) {
      html += `<p class="muted side-none">Nothing named “${esc(this.filter)}”.</p>`;
    }
    html += "</div>";
    html += `<h2>Folders <span><button id="manage-folders" class="icon" data-needs="admin" aria-label="Manage folders" title="Add, rescan or remove
      import and reference folders">${icon("settings")}</button></span></h2>`;
    for (const f of this.folders) {
      html += `<div class="side-item ${view.folder === f.id ? "active" : ""}" data-kind="folder" data-id="${f.id}"
        tabindex="0" role="link" title="${esc(f.path)}">${icon(f.kind === "reference" ? "folder-sync" : "folder-input")} ${esc(f.path.split("/").pop())}</div>`;
    }
    html += `<h2>More</h2><div class="side-item ${view.dupes ? "active" : ""}" data-kind="dupes" tabindex="0"
      role="link">Duplicates</div>
      <div class="side-item ${view.scrapheap ? "active" : ""}" data-kind="scrapheap" tabindex="0" role="link">Scrapheap</div>`;
    // Live events reload the sidebar often; re-render only when it changed, so a drag that has started
    // from or onto it is not cut short by a copy of itself.
    if (html !== this.html) {
      this.html = html;
      this.tree.innerHTML = html;
      this.bind();
    }
    this.renderSetOps();
  }

  bind() {
    const app = this.app;
    this.tree.querySelectorAll("[data-toggle]").forEach((b) => {
      b.onclick = (event) => {
        event.stopPropagation();
        const id = Number(b.dataset.toggle);
        if (this.collapsed.has(id)) this.collapsed.delete(id); else this.collapsed.add(id);
        prefs.set(COLLAPSED_KEY, JSON.stringify([...this.collapsed]));
        this.render();
      };
    });
    this.tree.querySelectorAll(".side-item").forEach((el) => {
      const kind = el.dataset.kind;
      const id = Number(el.dataset.id);
      el.onclick = (event) => {
        if ((event.ctrlKey || event.metaKey || this.marked.size) && (kind === "set" || kind === "character")) {
          this.toggleMarked(id); // once one is marked (by Ctrl or the menu, on touch), a tap marks more
          return;
        }
        this.marked.clear();
        document.getElementById("app").classList.remove("sidebar-open"); // a phone's drawer closes on a choice
        if (kind === "library") app.navigate({ layout: app.view.layout, size: app.view.size });
        else if (kind === "project") app.navigate({ project: id, layout: app.view.layout, size: app.view.size });
        else if (kind === "folder") app.navigate({ folder: id });
        else if (kind === "dupes") app.navigate({ dupes: true });
        else if (kind === "mine" || kind === "others") app.navigate({ whose: kind, layout: app.view.layout, size: app.view.size });
        else if (kind === "scrapheap") app.navigate({ scrapheap: true });
        else app.navigate({ collections: [id], layout: app.view.layout, size: app.view.size });
      };
      el.onkeydown = (event) => { if (event.key === "Enter") el.click(); };
      el.oncontextmenu = (event) => {
        if (["library", "scrapheap", "folder", "dupes", "mine", "others"].includes(kind)) return;
        event.preventDefault();
        app.menus().then((m) => m.contextMenuFor(app, event.clientX, event.clientY, kind, id));
      };
      el.ondragstart = (event) => {
        event.dataTransfer.setData("application/x-pixlstash-collection", String(id));
      };
      el.ondragover = (event) => {
        const types = event.dataTransfer.types;
        const accepts = (kind === "project" && (types.includes("application/x-pixlstash-collection")
          || types.includes("application/x-pixlstash-pictures")))
          || ((kind === "set" || kind === "character") && types.includes("application/x-pixlstash-pictures"));
        if (accepts) { event.preventDefault(); el.classList.add("drop"); }
      };
      el.ondragleave = () => el.classList.remove("drop");
      el.ondrop = async (event) => {
        event.preventDefault();
        el.classList.remove("drop");
        const collection = event.dataTransfer.getData("application/x-pixlstash-collection");
        const pictures = event.dataTransfer.getData("application/x-pixlstash-pictures");
        try {
          if (collection && kind === "project") {
            const moved = this.collections.find((c) => c.id === Number(collection));
            await api.post(`/${moved.kind === "set" ? "sets" : "characters"}/${moved.id}/move`, { project_id: id });
            toast(`Moved ${moved.name}`, 6, undoButton(app));
          } else if (pictures) {
            const ids = JSON.parse(pictures);
            const target = this.collections.find((c) => c.id === id);
            if (target?.curated && target.role !== "curator" && app.me?.scope !== "admin") {  // its curators decide
              const sent = await api.post(`/sets/${id}/submissions`, { ids });
              const n = sent.picture_ids.length;
              toast(`Sent ${n} picture${n === 1 ? "" : "s"} to ${target.name}'s curators`);
              return;
            }
            if (kind === "project") await api.post(`/projects/${id}/pictures`, { ids });
            else await api.post(`/${kind === "set" ? "sets" : "characters"}/${id}/pictures`, { ids });
            toast(`Added ${ids.length} picture${ids.length === 1 ? "" : "s"}`, 6, undoButton(app));
          }
          await this.reload();
        } catch (error) { toast(error.message); }
      };
    });
    const create = (kind) => async () => {
      const made = await ask(`Name of the new ${kind}`, "", "", {
        submit: (name) => (kind === "project" ? api.post("/projects", { name })
          : api.post(kind === "set" ? "/sets" : "/characters", { name, project_id: app.view.project ?? null })),
      });
      if (made) { await this.reload(); toast(`Made the ${kind} ${made}`, 6, undoButton(app)); }
    };
    this.el.querySelector("#new-project").onclick = create("project");
    this.el.querySelector("#manage-folders").onclick = () => app.showPanel("folders");
    this.el.querySelector("#new-set").onclick = create("set");
    this.el.querySelector("#new-character").onclick = create("character");
  }

  /** Mark or unmark a set or character for combining (Ctrl-click; "Combine with others" on touch). */
  toggleMarked(id) {
    if (this.marked.has(id)) this.marked.delete(id); else this.marked.add(id);
    this.render();
  }

  dragEnded() {
    this.dragging = false;
    if (this.renderAfterDrag) { this.renderAfterDrag = false; this.render(); }
  }

  renderSetOps() {
    const bar = document.getElementById("setops");
    if (!this.marked.size) { bar.hidden = true; return; }
    const names = [...this.marked].map((id) => this.collections.find((c) => c.id === id)?.name).filter(Boolean);
    bar.hidden = false;
    if (this.marked.size === 1) { // one marked: say how to go on (on touch there is no Ctrl)
      bar.innerHTML = `<span>${esc(names[0] ?? "")}: tap or Ctrl-click another set or character to combine them</span>
        <button data-clear aria-label="Clear">×</button>`;
      bar.querySelector("[data-clear]").onclick = () => { this.marked.clear(); this.render(); };
      return;
    }
    bar.innerHTML = `<span>${this.marked.size} selected: ${names.map(esc).join(", ")}</span>
      ${OPS.map(([op, label]) => `<button data-op="${op}">${label}</button>`).join("")}
      <button data-save>Save as set…</button><button data-clear aria-label="Clear">×</button>`;
    bar.querySelectorAll("[data-op]").forEach((b) => {
      b.onclick = () => this.app.navigate({ collections: [...this.marked], op: b.dataset.op });
    });
    bar.querySelector("[data-save]").onclick = async () => {
      const name = await ask("Name of the new set", "", "", {
        submit: (value) => api.post("/set-operations/save", { collection_ids: [...this.marked],
          op: this.app.view.op || "union", save_as: value }),
      });
      if (!name) return;
      this.marked.clear();
      await this.reload();
    };
    bar.querySelector("[data-clear]").onclick = () => { this.marked.clear(); this.render(); };
  }

  characters() {
    return this.collections.filter((c) => c.kind === "character");
  }

  sets() {
    return this.collections.filter((c) => c.kind === "set");
  }
}
