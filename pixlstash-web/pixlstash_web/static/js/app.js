// The PixlStash browser UI: sign-in, the grid and its toolbar, live updates, and wiring of every panel.

import { api, subscribe } from "./api.js";
import { decodeLayout, Grid } from "./grid.js";
import { showDuplicates } from "./duplicates.js";
import { bindKeyboard } from "./keyboard.js";
import { actions, contextMenu, renderSelectionBar } from "./menus.js";
import { openOverlay } from "./overlay.js";
import { openPanel, viewChanged } from "./panels.js";
import { Sidebar } from "./sidebar.js";
import { groupKind, headedGroups, Scrubber } from "./timeline.js";
import { esc, toast } from "./ui.js";
import { showUpdateBanner } from "./update_banner.js";
import { bindUploads } from "./uploads.js";
import { DEFAULTS, filterBody, filterParams, readView, sortParams, viewUrl } from "./view.js";

const $ = (id) => document.getElementById(id);

export const app = {
  view: readView(),
  grid: null,
  sidebar: null,
  engines: [],
  me: null,
  hits: null, // similarity per picture when the grid shows search results
  loadToken: 0,
  viewCount: null, // pictures in the view, once its whole layout is in (null while it loads)
  groups: null, // the layout's groups as the server sent them: {kind, starts, keys}
  loaded: Promise.resolve(), // the view's load in progress

  navigate(view, { replace = false } = {}) {
    const url = viewUrl(view);
    if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
    this.apply(readView(new URL(url, location.href).search));
  },

  update(changes, options) {
    const view = { ...this.view, ...changes };
    for (const [key, value] of Object.entries(changes)) if (value === undefined) delete view[key];
    this.navigate(view, options);
  },

  async apply(view) {
    const previous = this.view;
    this.view = view;
    const sameList = JSON.stringify({ ...previous, picture: undefined, size: undefined, layout: undefined })
      === JSON.stringify({ ...view, picture: undefined, size: undefined, layout: undefined });
    // "All selected" means all of the view's pictures: another sort keeps them, another filter does not.
    const sameSet = JSON.stringify([filterParams(previous), previous.q, previous.mode, previous.similar, previous.face])
      === JSON.stringify([filterParams(view), view.q, view.mode, view.similar, view.face]);
    if (!sameSet && this.grid.allSelected) this.grid.clearSelection();
    if (!sameList || !this.grid.ids.length) await this.load();
    if (previous.layout !== view.layout || previous.size !== view.size) this.resize(view.layout, view.size);
    renderToolbar();
    this.sidebar.render();
    renderBreadcrumbs();
    if (Boolean(view.dupes) !== Boolean(previous.dupes) || (view.dupes && !$("duplicates-view").childElementCount)) {
      showDuplicates(this, Boolean(view.dupes));
    }
    if (view.picture) openOverlay(this, view.picture); else $("overlay").hidden = true;
  },

  /** Tiles of another layout or size; days are headed by month when tiles are small. */
  resize(layout, size) {
    size = size || DEFAULTS.size;
    this.grid.setMode(layout || DEFAULTS.layout, size);
    const groups = this.groups && headedGroups(this.groups.kind, this.groups.starts, this.groups.keys, size,
      this.grid.ids.length);
    if (groups?.kind !== this.grid.groups?.kind) this.grid.setGroups(groups);
  },

  load(options) {
    this.loaded = this.loadView(options);
    return this.loaded;
  },

  async loadView({ keepScroll = false } = {}) {
    const token = ++this.loadToken;
    const view = this.view;
    this.viewCount = null;
    $("new-pictures").hidden = true;
    let layout;
    let provisional = false;
    try {
      if (view.q || view.similar?.length || view.face) layout = await searchLayout(view);
      else {
        // The first screen comes from an ordinary first page, which is fast at any size; the full
        // layout (every id, for scrolling and jumping anywhere) replaces it when it arrives.
        const full = api.raw("/pictures/layout", { ...filterParams(view), ...sortParams(view), ...groupParams(view) })
          .then((response) => response.arrayBuffer());
        let settled = false;
        api.get("/pictures", { ...filterParams(view), ...sortParams(view), limit: 120 }).then((page) => {
          if (settled || token !== this.loadToken || !page.items.length) return;
          this.grid.setDetails(page.items);
          provisional = true;
          this.grid.setLayout(Uint32Array.from(page.items.map((p) => p.id)),
            Uint16Array.from(page.items.map((p) => Math.min(65535, p.width))),
            Uint16Array.from(page.items.map((p) => Math.min(65535, p.height))), { keepScroll });
          $("empty").hidden = true;
        }, () => {});
        layout = { ...decodeLayout(await full), hits: null, kind: groupKind(view) };
        settled = true;
      }
    } catch (error) {
      if (token !== this.loadToken) return;
      toast(error.message);
      layout = { ids: new Uint32Array(0), widths: new Uint16Array(0), heights: new Uint16Array(0), hits: null };
    }
    if (token !== this.loadToken) return; // a newer view won
    this.hits = layout.hits;
    this.viewCount = layout.ids.length;
    this.groups = layout.kind ? { kind: layout.kind, starts: layout.starts, keys: layout.keys } : null;
    this.grid.setLayout(layout.ids, layout.widths, layout.heights, { keepScroll: keepScroll || provisional,
      groups: this.groups && headedGroups(layout.kind, layout.starts, layout.keys, view.size || DEFAULTS.size,
        layout.ids.length) });
    showEmpty(view, layout.ids.length === 0);
    $("count").textContent = countText(layout.ids.length, layout.hits);
    viewChanged(this);
    performance.mark("pixlstash:layout-ready");
  },

  selection() {
    return [...this.grid.selected];
  },

  /** Whether ``ids`` are the selection of the whole view (Ctrl+A on a filtered list, not search results). */
  wholeView(ids) {
    return this.grid.allSelected && !this.hits && ids.length === this.grid.selected.size;
  },

  /** What an action on ``ids`` covers: for the whole view, its filter and count (one request then covers
   * every picture of it, loaded or not); else the ids themselves. */
  async scope(ids) {
    if (!this.wholeView(ids)) return { ids, count: ids.length };
    const count = this.viewCount ?? (await api.get("/pictures/count", filterParams(this.view))).count;
    return { filter: filterBody(this.view) || {}, count };
  },

  /** Every id ``ids`` stands for: the whole view's (its full layout awaited) when it is all selected. */
  async expand(ids) {
    if (!this.wholeView(ids)) return ids;
    for (let current = null; current !== this.loaded;) { current = this.loaded; await current; }
    return [...this.grid.ids];
  },

  /** These pictures changed (all when ``ids`` is null): the tiles on screen show it now, others when seen. */
  refreshDetails(ids) {
    this.grid.refresh(ids);
  },
};

let tagSuggestion = 0;

/** Fill the tag inputs' datalist with the library's tags starting with what was typed, most used first. */
async function suggestTags(typed) {
  const asked = ++tagSuggestion;
  const prefix = typed.trim();
  let tags = [];
  if (prefix) {
    try { tags = await api.get("/tags", { prefix, limit: 20 }); } catch { return; }
  }
  if (asked !== tagSuggestion) return; // a later keystroke asked since
  $("tag-names").innerHTML = tags.map((t) =>
    `<option value="${esc(t.name)}">${esc(t.name)} (${t.picture_count.toLocaleString()})</option>`).join("");
}

/** The tag a typed name stands for (its own spelling, or an alias the server resolves), or null with a
 * toast naming the tags it may have meant: a misspelt tag never silently filters to nothing. */
async function knownTag(typed) {
  if (!typed) return null;
  const lower = typed.toLowerCase();
  const tags = await api.get("/tags", { prefix: typed, limit: 20 });
  const exact = tags.find((t) => t.name.toLowerCase() === lower);
  if (exact) return exact.name;
  const { count } = await api.get("/pictures/count", { tags: [typed] });
  if (count > 0) return typed; // an alias
  const near = await api.get("/tags", { prefix: typed.slice(0, Math.max(1, Math.min(3, typed.length - 1))), limit: 5 });
  toast(`No tag named “${typed}”.${near.length ? ` Did you mean ${near.map((t) => t.name).join(", ")}?` : ""}`, 6);
  return null;
}

/** The layout's grouping: by the viewer's local day under a date sort, by rating under the rating sort. */
function groupParams(view) {
  const kind = groupKind(view);
  if (kind === "none") return {};
  return { groups: kind, utc_offset: -new Date().getTimezoneOffset() };
}

function countText(n, hits) {
  const [one, many] = hits ? ["match", "matches"] : ["picture", "pictures"];
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** The empty grid says why it is empty: an empty library, a filter, a search, a set or the scrapheap. */
function showEmpty(view, empty) {
  const box = $("empty");
  box.hidden = !empty;
  if (!empty) return;
  const { scrapheap, collections, project, collection_op: _op, ...filters } = filterParams(view);
  const filtered = Object.keys(filters).length > 0;
  let text;
  if (scrapheap) text = "The scrapheap is empty. Pictures you scrap wait here, and can be restored, until it is emptied.";
  else if (view.q || view.similar?.length || view.face) text = "Nothing found for this search.";
  else if (filtered) text = "No pictures match these filters.";
  else if (collections?.length || project) text = "Nothing in here yet: drag pictures onto it in the sidebar, or use “Add to…” on a selection.";
  else text = "No pictures here yet. Use Upload (or drop files anywhere) to add some.";
  box.innerHTML = `<p>${esc(text)}</p>${filtered || view.q || view.similar?.length || view.face
    ? '<button id="clear-filters">Show all pictures</button>' : ""}`;
  const clear = $("clear-filters");
  if (clear) clear.onclick = () => app.navigate({ sort: view.sort, asc: view.asc, layout: view.layout, size: view.size });
}

/** Whether an installed embedder with its model here can read words (CLIP and the like). */
function canSearchByMeaning() {
  return app.engines.some((e) => e.task === "embedder" && e.supports_text && e.model.present);
}

async function searchLayout(view) {
  const filter = filterBody(view);
  let result;
  if (view.face) {
    const hits = await api.get(`/search/faces/${view.face}`, { limit: 500 });
    result = { hits: hits.map((h) => ({ picture: h.picture, similarity: h.similarity })) };
  } else if (view.similar?.length) {
    result = await api.post("/search/similar", { picture_ids: view.similar, combine: view.combine || "mean",
      limit: 1000, filter });
  } else if (view.mode === "meaning" && canSearchByMeaning()) {
    result = await api.get("/search/semantic", { q: view.q, limit: 1000, ...filterParams(view) });
  } else {
    // Words in captions, prompts, generation data and names, through the ordinary list.
    const response = await api.raw("/pictures/layout", { ...filterParams(view), ...sortParams(view), text: view.q,
      ...groupParams(view) });
    return { ...decodeLayout(await response.arrayBuffer()), hits: null, kind: groupKind(view) };
  }
  const pictures = result.hits.map((h) => h.picture);
  app.grid.setDetails(pictures);
  return {
    ids: Uint32Array.from(pictures.map((p) => p.id)),
    widths: Uint16Array.from(pictures.map((p) => Math.min(65535, p.width))),
    heights: Uint16Array.from(pictures.map((p) => Math.min(65535, p.height))),
    hits: new Map(result.hits.map((h) => [h.picture.id, h.similarity])),
  };
}

// -- toolbar and breadcrumbs ----------------------------------------------------------------------

// Generation-data filters shown as chips while "More filters" is closed: [view key, label].
const GENERATION_FILTERS = [["loras", "LoRA"], ["checkpoint", "checkpoint"], ["sampler", "sampler"],
  ["scheduler", "scheduler"], ["generation_seed", "seed"], ["steps", "steps"]];

function renderToolbar() {
  const view = app.view;
  const bar = $("toolbar");
  const sorts = [["taken_at", "Date taken"], ["imported_at", "Date imported"], ["rating", "Rating"],
    ["file_size", "File size"], ["pixels", "Pixels"], ["random", "Random"]];
  bar.innerHTML = `
    <label>Sort <select id="sort" aria-label="Sort by">${sorts.map(([v, l]) =>
      `<option value="${v}" ${(view.sort || "taken_at") === v ? "selected" : ""}>${l}</option>`).join("")}</select></label>
    <button id="direction" aria-label="Sort direction">${view.asc ? "↑ Ascending" : "↓ Descending"}</button>
    <label>Rating ≥ <select id="rating-min" aria-label="Minimum rating">${[0, 1, 2, 3, 4, 5].map((r) =>
      `<option value="${r}" ${(view.rating_min || 0) === r ? "selected" : ""}>${r || "any"}</option>`).join("")}</select></label>
    <label><input type="checkbox" id="favourite" ${view.favourite ? "checked" : ""}> Favourites</label>
    <label>Type <select id="media-type" aria-label="Media type"><option value="">all</option>
      <option value="image" ${view.media_type === "image" ? "selected" : ""}>images</option>
      <option value="video" ${view.media_type === "video" ? "selected" : ""}>videos</option></select></label>
    <label>Tag <input id="tag-filter" list="tag-names" placeholder="tag" size="10" aria-label="Filter by tag"
      autocomplete="off"></label><datalist id="tag-names"></datalist>
    <span class="chips">${(view.tags || []).map((t) =>
      `<span class="chip">${esc(t)}<button data-untag="${esc(t)}" aria-label="Remove tag filter ${esc(t)}">×</button></span>`).join("")}</span>
    <details class="more-filters"><summary>More filters</summary>
      <label>Without tag <input id="not-tag" list="tag-names" size="10" aria-label="Without tag" autocomplete="off"></label>
      <label>Taken after <input id="taken-after" type="date" aria-label="Taken after" value="${day(view.taken_after)}"></label>
      <label>Taken before <input id="taken-before" type="date" aria-label="Taken before" value="${day(view.taken_before)}"></label>
      <label>Min width <input id="min-width" type="number" min="0" size="5" aria-label="Minimum width" value="${view.min_width || ""}"></label>
      <label>Min height <input id="min-height" type="number" min="0" size="5" aria-label="Minimum height" value="${view.min_height || ""}"></label>
      <label><input type="checkbox" id="unrated" ${view.unrated ? "checked" : ""}> Unrated</label>
      <label><input type="checkbox" id="duplicates" ${view.duplicates ? "checked" : ""}> Near-duplicates</label>
      <fieldset class="generation-filters"><legend>Generated with</legend>
        <label>LoRA <input id="lora-filter" size="12" placeholder="name, name" aria-label="LoRA names (all of them)"
          value="${esc((view.loras || []).join(", "))}"></label>
        <label>Checkpoint <input id="checkpoint-filter" size="12" aria-label="Checkpoint name" value="${esc(view.checkpoint || "")}"></label>
        <label>Sampler <input id="sampler-filter" size="10" aria-label="Sampler" value="${esc(view.sampler || "")}"></label>
        <label>Scheduler <input id="scheduler-filter" size="8" aria-label="Scheduler" value="${esc(view.scheduler || "")}"></label>
        <label>Seed <input id="seed-filter" size="12" inputmode="numeric" pattern="-?[0-9]+" aria-label="Seed"
          value="${esc(view.generation_seed || "")}"></label>
        <label>Steps <input id="steps-filter" type="number" min="1" size="4" aria-label="Steps" value="${view.steps || ""}"></label>
      </fieldset>
    </details>
    <span class="chips">${view.rating_max !== undefined ? `<span class="chip">rating ≤ ${view.rating_max}<button
      data-unset="rating_max" aria-label="Remove the highest rating filter">×</button></span>` : ""}${view.unrated
      ? '<span class="chip">unrated<button data-unset="unrated" aria-label="Remove the unrated filter">×</button></span>'
      : ""}${(view.not_tags || []).map((t) =>
      `<span class="chip">not ${esc(t)}<button data-unnot="${esc(t)}" aria-label="Remove filter without ${esc(t)}">×</button></span>`).join("")}${
      GENERATION_FILTERS.filter(([key]) => view[key] !== undefined && `${view[key]}` !== "").map(([key, label]) =>
        `<span class="chip">${label} ${esc(`${view[key]}`)}<button data-ungen="${key}" aria-label="Remove ${label} filter">×</button></span>`).join("")}</span>
    <label>Layout <select id="layout" aria-label="Layout"><option value="square">square</option>
      <option value="justified" ${view.layout === "justified" ? "selected" : ""}>justified</option></select></label>
    <input id="size" type="range" min="80" max="400" step="10" value="${view.size || DEFAULTS.size}" aria-label="Thumbnail size">
    <span class="count" id="count">${countText(app.grid.ids.length, app.hits)}</span>`;
  $("sort").onchange = (e) => app.update({ sort: e.target.value === "taken_at" ? undefined : e.target.value,
    seed: e.target.value === "random" ? Math.floor(Math.random() * 1e9) : undefined });
  $("direction").onclick = () => app.update({ asc: view.asc ? undefined : true });
  $("rating-min").onchange = (e) => app.update({ rating_min: Number(e.target.value) || undefined });
  $("favourite").onchange = (e) => app.update({ favourite: e.target.checked || undefined });
  $("media-type").onchange = (e) => app.update({ media_type: e.target.value || undefined });
  $("layout").onchange = (e) => app.update({ layout: e.target.value }, { replace: true });
  $("size").oninput = (e) => app.resize(view.layout, Number(e.target.value));
  $("size").onchange = (e) => app.update({ size: Number(e.target.value) }, { replace: true });
  for (const [id, key] of [["tag-filter", "tags"], ["not-tag", "not_tags"]]) {
    $(id).oninput = (e) => suggestTags(e.target.value);
    $(id).onchange = async (e) => {
      const tag = await knownTag(e.target.value.trim());
      if (tag) app.update({ [key]: [...(view[key] || []), tag] });
    };
  }
  const date = (id, key) => { $(id).onchange = (e) => app.update({ [key]: e.target.value ? Date.parse(e.target.value) : undefined }); };
  date("taken-after", "taken_after");
  date("taken-before", "taken_before");
  $("min-width").onchange = (e) => app.update({ min_width: Number(e.target.value) || undefined });
  $("min-height").onchange = (e) => app.update({ min_height: Number(e.target.value) || undefined });
  $("unrated").onchange = (e) => app.update({ unrated: e.target.checked || undefined });
  $("duplicates").onchange = (e) => app.update({ duplicates: e.target.checked || undefined });
  $("lora-filter").onchange = (e) => app.update({ loras: e.target.value.split(",").map((v) => v.trim()).filter(Boolean) });
  const text = (id, key) => { $(id).onchange = (e) => app.update({ [key]: e.target.value.trim() || undefined }); };
  text("checkpoint-filter", "checkpoint");
  text("sampler-filter", "sampler");
  text("scheduler-filter", "scheduler");
  $("seed-filter").onchange = (e) => {
    const seed = e.target.value.trim();
    if (seed && !/^-?[0-9]+$/.test(seed)) { toast("A seed is a whole number"); return; }
    app.update({ generation_seed: seed || undefined });
  };
  $("steps-filter").onchange = (e) => app.update({ steps: Number(e.target.value) || undefined });
  bar.querySelectorAll("[data-ungen]").forEach((b) => { b.onclick = () => app.update({ [b.dataset.ungen]: undefined }); });
  bar.querySelectorAll("[data-unset]").forEach((b) => { b.onclick = () => app.update({ [b.dataset.unset]: undefined }); });
  bar.querySelectorAll("[data-unnot]").forEach((b) => {
    b.onclick = () => app.update({ not_tags: (view.not_tags || []).filter((t) => t !== b.dataset.unnot) });
  });
  bar.querySelectorAll("[data-untag]").forEach((b) => {
    b.onclick = () => app.update({ tags: (view.tags || []).filter((t) => t !== b.dataset.untag) });
  });
  $("search").value = view.q || "";
  const mode = $("search-mode");
  mode.value = view.mode === "meaning" && canSearchByMeaning() ? "meaning" : "words";
  mode.options[1].disabled = !canSearchByMeaning();
}

async function renderBreadcrumbs() {
  const nav = $("breadcrumbs");
  const view = app.view;
  const crumbs = [["Library", "/"]];
  try {
    if (view.project || view.collections?.length === 1) {
      const params = view.collections?.length === 1 ? { collection: view.collections[0] } : { project: view.project };
      for (const b of await api.get("/breadcrumbs", params)) {
        if (b.kind === "library") continue;
        crumbs.push([b.name, viewUrl(b.kind === "project" ? { project: b.id } : { collections: [b.id] })]);
      }
    } else if (view.collections?.length > 1) crumbs.push([`${view.collections.length} combined (${view.op || "union"})`, null]);
  } catch { /* a deleted project: just the library */ }
  if (view.scrapheap) crumbs.push(["Scrapheap", null]);
  if (view.q) crumbs.push([`“${view.q}”`, null]);
  if (view.similar?.length) crumbs.push(["Similar pictures", null]);
  if (view.face) crumbs.push(["Similar faces", null]);
  nav.innerHTML = crumbs.map(([name, url], i) => (url && i < crumbs.length - 1
    ? `<a href="${url}" data-nav>${esc(name)}</a>` : `<span>${esc(name)}</span>`)).join('<span class="sep">›</span>');
  nav.querySelectorAll("a[data-nav]").forEach((a) => {
    a.onclick = (e) => { e.preventDefault(); app.navigate(readView(new URL(a.href).search)); };
  });
}

function day(ms) {
  return ms ? new Date(ms).toISOString().slice(0, 10) : "";
}

// -- sign-in ---------------------------------------------------------------------------------------

async function signIn() {
  const status = await api.get("/auth/status");
  if (status.signed_in) {
    app.me = { username: status.username };
    return true;
  }
  const setup = status.needs_setup;
  $("login").hidden = false;
  $("login-hint").textContent = setup ? "Welcome! Create the owner account (only possible from this machine)." : "";
  $("login-submit").textContent = setup ? "Create account" : "Sign in";
  return new Promise((resolve) => {
    $("login-form").onsubmit = async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      try {
        const result = await api.post(setup ? "/setup" : "/auth/login",
          { username: form.get("username"), password: form.get("password") });
        api.setCsrf(result.csrf_token);
        $("login").hidden = true;
        app.me = { username: result.username };
        resolve(true);
      } catch (error) {
        $("login-error").textContent = error.message;
      }
    };
  });
}

// -- live updates --------------------------------------------------------------------------------

function live() {
  let pending = 0;
  let reload = 0;
  // New pictures (an upload, pixlstash import, a watched folder) come into a grid at rest at once;
  // while the person is scrolled down, selecting or looking at a picture, a pill offers them instead of
  // moving the grid under their hands.
  const atRest = () => app.grid.el.scrollTop < 40 && !app.grid.selected.size && !app.view.picture && !app.hits;
  subscribe((event) => {
    if (event.kind === "picture.added") {
      pending += event.picture_ids.length;
      if (atRest()) {
        clearTimeout(reload);
        reload = setTimeout(() => { pending = 0; app.load({ keepScroll: true }); }, 300);
      } else {
        const pill = $("new-pictures");
        pill.textContent = `${pending} new picture${pending === 1 ? "" : "s"} — show`;
        pill.hidden = false;
      }
    } else if (event.kind === "picture.changed" || event.kind === "picture.restored") {
      app.refreshDetails(event.picture_ids || []);
    } else if (event.kind === "picture.removed" || event.kind === "library.restored") {
      app.load({ keepScroll: true });
    } else if (event.kind === "collection.changed" || event.kind === "project.changed"
      || event.kind === "library.changed") {  // library.changed: another process wrote (a CLI import, a script)
      app.sidebar.reload();
    }
    window.dispatchEvent(new CustomEvent("pixlstash:event", { detail: event }));
  });
  $("new-pictures").onclick = () => { pending = 0; app.load(); };
}

// -- start -------------------------------------------------------------------------------------------

async function start() {
  performance.mark("pixlstash:start");
  window.addEventListener("pixlstash:signed-out", () => { if (app.me) location.reload(); });
  await signIn();
  $("app").hidden = false;
  app.grid = new Grid($("grid"), {
    onOpen: (id) => app.update({ picture: id }),
    onContext: (x, y, ids) => contextMenu(app, x, y, ids),
    onSelection: () => renderSelectionBar(app),
    needDetails: async (ids) => {
      try {
        const page = await api.get("/pictures", { ids, limit: Math.min(1000, ids.length), ...(app.view.scrapheap ? { scrapheap: true } : {}) });
        app.grid.setDetails(page.items);
      } catch { /* the next scroll asks again */ }
    },
    needBadges: async (ids) => {  // tags and counts, once the tiles show their ratings
      try {
        for (let i = 0; i < ids.length; i += 1000) app.grid.setBadges(await api.get("/pictures/badges", { ids: ids.slice(i, i + 1000) }));
      } catch { /* tiles keep their ratings; tags show in the overlay */ }
    },
  });
  app.grid.setMode(app.view.layout || DEFAULTS.layout, app.view.size || DEFAULTS.size);
  app.scrubber = new Scrubber($("scrubber"), app.grid);
  app.grid.onLayout = () => app.scrubber.update();
  app.sidebar = new Sidebar(app, $("sidebar"));
  renderToolbar();
  // The grid's layout is fetched first and alone: thumbnails paint while the rest loads.
  const engines = api.get("/engines").then((list) => { app.engines = list; }, () => { app.engines = []; });
  if (app.view.q) await engines; // a search needs to know whether an embedder can read text
  engines.then(() => { $("search-mode").options[1].disabled = !canSearchByMeaning(); });
  await app.apply(app.view);
  await Promise.all([engines, app.sidebar.reload()]);
  window.addEventListener("popstate", () => app.apply(readView()));
  $("search-form").onsubmit = (e) => {
    e.preventDefault();
    const q = $("search").value.trim();
    const mode = $("search-mode").value === "meaning" ? "meaning" : undefined;
    app.update({ q: q || undefined, mode: q ? mode : undefined, similar: undefined, face: undefined, picture: undefined });
  };
  $("search-mode").onchange = () => { if ($("search").value.trim()) $("search-form").requestSubmit(); };
  $("home").onclick = (e) => { e.preventDefault(); app.navigate({}); };
  $("toggle-sidebar").onclick = () => {
    const el = $("app");
    if (window.innerWidth <= 700) el.classList.toggle("sidebar-open"); else el.classList.toggle("no-sidebar");
  };
  for (const [button, panel] of [["open-tasks", "tasks"], ["open-stats", "stats"], ["open-people", "people"],
    ["open-snapshots", "snapshots"], ["open-history", "history"],
    ["open-settings", "settings"], ["open-help", "help"]]) {
    $(button).onclick = () => openPanel(app, panel);
  }
  $("logout").onclick = async () => {
    try { await api.post("/auth/logout"); } catch { /* already signed out */ }
    api.clearCsrf();
    app.me = null;
    location.href = "/";
  };
  bindKeyboard(app);
  // An undo or redo may bring back what the duplicates view took away.
  window.addEventListener("pixlstash:history", () => { if (app.view.dupes) showDuplicates(app, true); });
  live();
  bindUploads(app);
  showUpdateBanner();
  window.pixlstash = { app, actions };
  document.body.dataset.ready = "1";
}

start().catch((error) => { toast(error.message, 30); console.warn(error); });
