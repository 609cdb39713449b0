// The PixlStash browser UI: sign-in, the grid and its toolbar, live updates, and wiring of every panel.

import { api, subscribe } from "./api.js";
import { decodeLayout, Grid } from "./grid/grid.js";
import { bindKeyboard } from "./keyboard.js";
import { bindSearchSuggestions } from "./search_suggest.js";
import { Sidebar } from "./sidebar.js";
import { groupKind, groupsOfPage, headedGroups, Scrubber, utcOffset } from "./grid/timeline.js";
import { canSearchByMeaning, renderToolbar, showSearchModes, viewCountText } from "./toolbar.js";
import { esc, markTouch, toast } from "./ui.js";
import { showUpdateBanner } from "./update_banner.js";
import { bindUploads } from "./uploads.js";
import { DEFAULTS, filterBody, filterParams, gridParams, readView, sortParams, viewUrl } from "./view.js";
import { prefs } from "./prefs.js";

const $ = (id) => document.getElementById(id);

/** A module the first paint does not need, imported when first asked for (the same promise after). */
function later(load) {
  let promise = null;
  return () => (promise ??= load());
}

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
  // Loaded on first use (the grid paints without them): menus and their dialogs, the viewer, the panels.
  menus: later(() => import("./menus/menus.js")),
  viewer: later(() => import("./viewer/overlay.js")),
  panels: later(() => import("./panels/panels.js")),
  duplicates: later(() => import("./duplicates.js")),
  models: later(() => import("./menus/model_dialog.js")),

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
    renderToolbar(app);
    this.sidebar.render();
    renderBreadcrumbs();
    if (Boolean(view.dupes) !== Boolean(previous.dupes) || (view.dupes && !$("duplicates-view").childElementCount)) {
      this.duplicates().then((m) => m.showDuplicates(this, Boolean(view.dupes)));
    }
    if (view.picture) this.viewer().then((m) => m.openOverlay(this, view.picture)); else $("overlay").hidden = true;
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
    this.grid.showStacks = !view.stack;
    const scoreSort = view.sort?.startsWith("score:") ? view.sort : null;
    if (scoreSort !== this.scoreSort) {  // summaries carry the score of the sort: those held are of another
      this.scoreSort = scoreSort;
      for (const id of this.grid.details.keys()) this.grid.stale.add(id);
    }
    this.viewCount = null;
    if (!keepScroll) $("count").textContent = viewCountText(this); // (a reload keeps the count it had)
    $("new-pictures").hidden = true;
    let layout;
    let failed = null;
    let provisional = false;
    try {
      if (view.q || view.similar?.length || view.face) layout = await searchLayout(view);
      else {
        // The first screen comes from an ordinary first page, which is fast at any size; the full
        // layout (every id, for scrolling and jumping anywhere) replaces it when it arrives.
        const full = api.raw("/pictures/layout", { ...gridParams(view), ...sortParams(view), ...groupParams(view) })
          .then((response) => response.arrayBuffer());
        let settled = false;
        api.get("/pictures", { ...gridParams(view), ...sortParams(view), limit: 120 }).then((page) => {
          if (settled || token !== this.loadToken || !page.items.length) return;
          this.grid.setDetails(page.items);
          provisional = true;
          const first = groupsOfPage(view, page.items);
          this.grid.setLayout(Uint32Array.from(page.items.map((p) => p.id)),
            Uint16Array.from(page.items.map((p) => Math.min(65535, p.width))),
            Uint16Array.from(page.items.map((p) => Math.min(65535, p.height))), { keepScroll,
              groups: headedGroups(first.kind, first.starts, first.keys, view.size || DEFAULTS.size, page.items.length) });
          $("empty").hidden = true;
        }, () => {});
        layout = { ...decodeLayout(await full), hits: null, kind: groupKind(view) };
        settled = true;
      }
    } catch (error) {
      if (token !== this.loadToken) return;
      // A search that cannot run says why in the grid (a missing model with a way to get it); a list that
      // failed to load, in a toast.
      if (view.q || view.similar?.length || view.face || error.code === "model_missing") failed = error;
      else toast(error.message);
      layout = { ids: new Uint32Array(0), widths: new Uint16Array(0), heights: new Uint16Array(0), hits: null };
    }
    if (token !== this.loadToken) return; // a newer view won
    this.hits = layout.hits;
    this.viewCount = layout.ids.length;
    this.groups = layout.kind ? { kind: layout.kind, starts: layout.starts, keys: layout.keys } : null;
    this.grid.setLayout(layout.ids, layout.widths, layout.heights, { keepScroll: keepScroll || provisional,
      groups: this.groups && headedGroups(layout.kind, layout.starts, layout.keys, view.size || DEFAULTS.size,
        layout.ids.length) });
    showEmpty(this, view, layout.ids.length === 0, failed);
    $("count").textContent = viewCountText(this);
    if (!$("panel").hidden) this.panels().then((m) => m.viewChanged(this));  // an open panel follows the view
    performance.mark("pixlstash:layout-ready");
    document.body.dataset.shown = location.search;  // the address whose list the grid now shows (tests wait on it)
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
    if (!this.wholeView(ids)) {
      const all = await this.withStacks(ids);
      return { ids: all, count: all.length };
    }
    const stacked = JSON.stringify(gridParams(this.view)) !== JSON.stringify(filterParams(this.view));
    const count = (!stacked && this.viewCount) || (await api.get("/pictures/count", filterParams(this.view))).count;
    return { filter: filterBody(this.view) || {}, count };
  },

  /** Every id ``ids`` stands for: the whole view's (its full layout awaited) when it is all selected; a
   * stack's tile stands for every picture of the stack. */
  async expand(ids) {
    if (!this.wholeView(ids)) return this.withStacks(ids);
    const stacked = JSON.stringify(gridParams(this.view)) !== JSON.stringify(filterParams(this.view));
    if (stacked) {  // every member of every stack: the view's layout without folding stacks
      const response = await api.raw("/pictures/layout", { ...filterParams(this.view), ...sortParams(this.view) });
      return [...decodeLayout(await response.arrayBuffer()).ids];
    }
    for (let current = null; current !== this.loaded;) { current = this.loaded; await current; }
    return [...this.grid.ids];
  },

  /** ``ids`` with, for each stack's cover among them (the grid shows one tile per stack), the rest of its
   * stack: an action on a stack's tile is an action on the stack. */
  async withStacks(ids) {
    const stacks = [...new Set(ids.map((id) => this.grid.details.get(id))
      .filter((s) => s?.stack_id && s.stack_size > 1 && !this.view.stack).map((s) => s.stack_id))];
    if (!stacks.length) return ids;
    const members = await Promise.all(stacks.map((id) => api.get(`/stacks/${id}`).then((s) => s.member_ids, () => [])));
    return [...new Set([...ids, ...members.flat()])];
  },

  /** These pictures changed (all when ``ids`` is null): the tiles on screen show it now, others when seen. */
  refreshDetails(ids) {
    this.grid.refresh(ids);
  },

  /** Open a side panel by name ("tasks", "settings", ...): for the modules panels.js itself shows. */
  showPanel(name, options) {
    this.panels().then((m) => m.openPanel(this, name, options));
  },
};

/** The layout's grouping: by the viewer's local day under a date sort, by rating under the rating sort. */
function groupParams(view) {
  const kind = groupKind(view);
  if (kind === "none") return {};
  return { groups: kind, utc_offset: utcOffset() };
}

/** The empty grid says why it is empty: an empty library, a filter, a search, a set or the scrapheap. */
function showEmpty(app, view, empty, failed = null) {
  const box = $("empty");
  box.hidden = !empty;
  if (!empty) return;
  if (failed) {
    const id = failed.details?.engine_id;  // a missing model: its engine, with a way to get it
    const engine = id ? app.engines.find((e) => e.id === id) ?? null : null;
    box.innerHTML = `<p>${esc(failed.message)}</p>${engine ? '<button class="primary" id="get-model">Get model…</button> ' : ""}
      <button id="clear-filters">Show all pictures</button>`;
    if (engine) $("get-model").onclick = async () => {
      if (await (await app.models()).modelDialog(app, engine)) app.load({ keepScroll: true });
    };
    $("clear-filters").onclick = () => app.navigate({});
    return;
  }
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

async function searchLayout(view) {
  const filter = filterBody(view);
  let result;
  if (view.face) {
    const hits = await api.get(`/search/faces/${view.face}`, { limit: 500 });
    result = { hits: hits.map((h) => ({ picture: h.picture, similarity: h.similarity })) };
  } else if (view.similar?.length) {
    result = await api.post("/search/similar", { picture_ids: view.similar, combine: view.combine || "mean",
      limit: 1000, filter });
  } else if (view.mode === "meaning" && canSearchByMeaning(app)) {
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

// -- breadcrumbs -------------------------------------------------------------------------------------

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
  if (view.stack) crumbs.push([`Stack ${view.stack}`, null]);
  if (view.ids?.length) crumbs.push([`${view.ids.length.toLocaleString()} chosen pictures`, null]);  // a finding's own
  if (view.q) crumbs.push([`“${view.q}”`, null]);
  if (view.similar?.length) crumbs.push(["Similar pictures", null]);
  if (view.face) crumbs.push(["Similar faces", null]);
  // A phone has no room for the breadcrumbs: a title names the set, project or search shown.
  $("view-title").textContent = crumbs.length > 1 ? crumbs[crumbs.length - 1][0] : "";
  $("view-title").hidden = crumbs.length < 2;
  nav.innerHTML = crumbs.map(([name, url], i) => (url && i < crumbs.length - 1
    ? `<a href="${url}" data-nav>${esc(name)}</a>` : `<span>${esc(name)}</span>`)).join('<span class="sep">›</span>');
  nav.querySelectorAll("a[data-nav]").forEach((a) => {
    a.onclick = (e) => { e.preventDefault(); app.navigate(readView(new URL(a.href).search)); };
  });
}

// -- sign-in ---------------------------------------------------------------------------------------

/** Who is signed in (their role and what it may do): the page shows no control the role cannot use. */
async function knowMe() {
  app.me = await api.get("/auth/me");
  prefs.useAccount(app.me.user_id);  // each person's own settings in this browser
  document.body.dataset.scope = app.me.scope;
}

// Signed in through the identity provider, the server hands this page its session's CSRF token once, in a
// cookie of its own: kept where the page keeps it, and the cookie deleted.
function takeHandedCsrf() {
  const handed = document.cookie.split("; ").find((c) => c.startsWith("pixlstash_csrf="));
  if (!handed) return;
  api.setCsrf(decodeURIComponent(handed.slice("pixlstash_csrf=".length)));
  document.cookie = "pixlstash_csrf=; Max-Age=0; Path=/; SameSite=Strict";
}

async function signIn() {
  takeHandedCsrf();
  const status = await api.get("/auth/status");
  // An invite's code comes after "#invite=": a fragment, which never reaches a server's log.
  const invite = location.hash.startsWith("#invite=") ? decodeURIComponent(location.hash.slice(8)) : "";
  if (invite) history.replaceState(null, "", location.pathname + location.search);
  if (status.signed_in) {
    await knowMe();
    return true;
  }
  const setup = status.needs_setup && !invite;
  // From another machine than the server's, setup needs the one-time code the server printed in its log.
  const needsCode = setup && (await api.get("/setup")).needs_code;
  $("login-hint").textContent = invite ? "You are invited to this library: choose your name and password."
    : !setup ? ""
      : needsCode ? "Welcome! Create the owner account with the setup code the server printed in its log when it started."
        : "Welcome! Create the owner account.";
  $("login-code").hidden = !needsCode;
  $("login-code").querySelector("input").required = needsCode;
  $("login-submit").textContent = setup ? "Create account" : invite ? "Join" : "Sign in";
  if (invite) $("login-form").password.autocomplete = "new-password";
  const signedIn = new Promise((resolve) => {
    $("login-form").onsubmit = async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      try {
        const credentials = { username: form.get("username"), password: form.get("password") };
        const result = setup
          ? await api.postWith("/setup", credentials, needsCode ? { "X-Setup-Code": form.get("setup_code") } : {})
          : invite ? await api.post("/invites/accept", { ...credentials, code: invite })
            : await api.post("/auth/login", credentials);
        api.setCsrf(result.csrf_token);
        $("login").hidden = true;
        await knowMe();
        resolve(true);
      } catch (error) {
        $("login-error").textContent = error.message;
      }
    };
  });
  // Shown only once its submit is handled here: a form sent by the browser itself would lose the sign-in.
  $("login").hidden = false;
  if (!setup && !invite) offerProvider();
  return signedIn;
}

/** "Sign in with <provider>" on the sign-in form, when the library offers one (asked while the form shows). */
async function offerProvider() {
  const provider = await api.get("/auth/oidc").catch(() => ({ enabled: false }));
  if (!provider.enabled) return;
  $("login-provider").textContent = `Sign in with ${provider.label}`;
  $("login-provider").href = `/api/v1/auth/oidc/start?next=${encodeURIComponent(location.pathname + location.hash)}`;
  $("login-provider").hidden = false;
}

// -- live updates --------------------------------------------------------------------------------

function live() {
  const pending = new Set();  // ids announced that the grid does not show yet
  let reload = 0;
  // New pictures (an upload, pixlstash import, a watched folder) come into a grid at rest at once;
  // while the person is scrolled down, selecting or looking at a picture, a pill offers them instead of
  // moving the grid under their hands.
  const atRest = () => app.grid.el.scrollTop < 40 && !app.grid.selected.size && !app.view.picture && !app.hits;
  subscribe((event) => {
    if (event.kind === "picture.added") {
      // A picture the grid shows is not new: another process's import is announced up to a second after
      // its rows can be read, so a load in between (this one's, or the person's) has brought it in.
      for (const id of event.picture_ids) pending.add(id);
      for (const id of pending) if (app.grid.indexOf.has(id)) pending.delete(id);
      if (pending.size && atRest()) {
        clearTimeout(reload);
        reload = setTimeout(() => { pending.clear(); app.load({ keepScroll: true }); }, 300);
      } else if (pending.size) {
        const pill = $("new-pictures");
        pill.textContent = `${pending.size} new picture${pending.size === 1 ? "" : "s"} — show`;
        pill.hidden = false;
      }
    } else if (event.kind === "picture.changed" || event.kind === "picture.restored") {
      app.refreshDetails(event.picture_ids || []);
    } else if (event.kind === "picture.removed" || event.kind === "library.restored"
      || (event.kind === "library.changed" && event.data?.reload)) {  // reload: more changed than a stream keeps
      app.load({ keepScroll: true });
      app.sidebar.reloadSoon();
    } else if (event.kind === "collection.changed" || event.kind === "project.changed"
      || event.kind === "library.changed") {  // library.changed: another process wrote (a CLI import, a script)
      app.sidebar.reloadSoon();
    }
    window.dispatchEvent(new CustomEvent("pixlstash:event", { detail: event }));
  });
  $("new-pictures").onclick = () => { pending.clear(); app.load(); };
}

// -- start -------------------------------------------------------------------------------------------

async function start() {
  markTouch();
  performance.mark("pixlstash:start");
  window.addEventListener("pixlstash:signed-out", () => { if (app.me) location.reload(); });
  await signIn();
  $("app").hidden = false;
  app.grid = new Grid($("grid"), {
    onOpen: (id) => app.update({ picture: id }),
    onOpenStack: (stack) => {  // a view of its own: what was selected outside stays outside
      app.grid.clearSelection();
      app.navigate({ sort: app.view.sort, asc: app.view.asc, layout: app.view.layout, size: app.view.size, stack });
    },
    onContext: (x, y, ids) => app.menus().then((m) => m.contextMenu(app, x, y, ids)),
    onSelection: () => app.menus().then((m) => m.renderSelectionBar(app)),
    needDetails: async (ids) => {
      try {
        const scored = app.view.sort?.startsWith("score:") ? { sort: app.view.sort } : {};  // tiles show the score
        const page = await api.get("/pictures", { ids, limit: Math.min(1000, ids.length), ...scored,
          ...(app.view.scrapheap ? { scrapheap: true } : {}) });
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
  renderToolbar(app);
  // The grid's layout is fetched first and alone: thumbnails paint while the rest loads.
  const engines = api.get("/engines").then((list) => { app.engines = list; }, () => { app.engines = []; });
  if (app.view.q) await engines; // a search needs to know whether an embedder can read text
  engines.then(() => {
    showSearchModes(app);
    if (app.engines.some((e) => e.task === "scorer")) renderToolbar(app);  // their sorts and filters
  });
  await app.apply(app.view);
  await Promise.all([engines, app.sidebar.reload()]);
  // A picture opened by its address drew before the characters (its faces' choices) and engines arrived.
  if (app.view.picture && !$("overlay").hidden) (await app.viewer()).openOverlay(app, app.view.picture);
  window.addEventListener("popstate", () => app.apply(readView()));
  $("search-form").onsubmit = (e) => {
    e.preventDefault();
    const q = $("search").value.trim();
    const mode = $("search-mode").value === "meaning" ? "meaning" : undefined;
    app.update({ q: q || undefined, mode: q ? mode : undefined, similar: undefined, face: undefined, picture: undefined });
  };
  $("search-mode").onchange = () => { if ($("search").value.trim()) $("search-form").requestSubmit(); };
  bindSearchSuggestions(app);
  document.querySelector(".skip-link").onclick = (e) => { e.preventDefault(); $("grid").focus(); };
  $("home").onclick = (e) => { e.preventDefault(); app.navigate({}); };
  $("toggle-sidebar").onclick = () => {
    const el = $("app");
    if (window.innerWidth <= 700) el.classList.toggle("sidebar-open"); else el.classList.toggle("no-sidebar");
  };
  for (const [button, panel] of [["open-tasks", "tasks"], ["open-stats", "stats"], ["open-insights", "insights"],
    ["open-people", "people"], ["open-snapshots", "snapshots"], ["open-history", "history"],
    ["open-settings", "settings"], ["open-help", "help"]]) {
    $(button).onclick = () => app.showPanel(panel);
  }
  $("logout").onclick = async () => {
    try { await api.post("/auth/logout"); } catch { /* already signed out */ }
    api.clearCsrf();
    app.me = null;
    location.href = "/";
  };
  bindKeyboard(app);
  // An undo or redo may bring back what the duplicates view took away.
  window.addEventListener("pixlstash:history", () => {
    if (app.view.dupes) app.duplicates().then((m) => m.showDuplicates(app, true));
  });
  // What changed between the first loads and the stream's opening came on no stream: the sidebar is read
  // again once it is open, and only then is the page ready (tests and scripts wait for that).
  const streaming = new Promise((resolve) => window.addEventListener("pixlstash:live", resolve, { once: true }));
  live();
  bindUploads(app);
  if (app.me.scope === "admin") showUpdateBanner();  // updates are an administrator's business
  // The server out of reach during a session: said at once, and gone (with the view brought up to date)
  // when it answers again; the live stream keeps trying by itself.
  window.addEventListener("pixlstash:connection", (event) => {
    $("connection-banner").hidden = event.detail.online;
    if (event.detail.online) { toast("Connected again"); app.load({ keepScroll: true }); app.sidebar.reload(); }
  });
  window.pixlstash = { app };
  await streaming;
  await app.sidebar.reload();
  document.body.dataset.ready = "1";
}

// A server out of reach (stopped, or a phone away from home) is said once, plainly, with a way back.
function showOffline() {
  if ($("offline")) return;
  const box = document.createElement("div");
  box.id = "offline";
  box.className = "login";
  box.setAttribute("role", "alert");
  box.innerHTML = `<div class="login-box"><h1>PixlStash</h1><p>PixlStash cannot reach its server.</p>
    <p class="muted">Your library opens again as soon as the server is back.</p>
    <button type="button">Try again</button></div>`;
  box.querySelector("button").onclick = () => location.reload();
  window.addEventListener("online", () => location.reload(), { once: true });
  $("login").hidden = true;
  $("app").hidden = true;
  document.body.append(box);
}

start().catch((error) => {
  if (error instanceof TypeError || !navigator.onLine) showOffline();  // fetch's word for "no answer at all"
  else toast(error.message, 30);
  console.warn(error);
});
// Installed on a phone's home screen, the app opens from this worker's copy of its shell when the server
// is out of reach (pictures and data never: see /sw.js). Browsers allow workers on HTTPS and localhost.
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js").catch((error) => console.warn("no offline shell:", error));
}
