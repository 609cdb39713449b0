// The share recipient's page: the library's grid and picture viewer in read-only mode, over the share's
// own routes (its token is the only credential; no cookie is sent). Previous / next, swipe and zoom,
// the share's title, and downloads when the owner allowed them. Someone signed in to this library in this
// browser (a member) may also add a shared picture to their own: that one request sends the session.

import { Grid } from "./grid/grid.js";
import { esc, icon, markTouch } from "./ui.js";
import { holdSmallPictures } from "./viewer/viewer_size.js";
import { bindZoom } from "./viewer/zoom.js";

const $ = (id) => document.getElementById(id);
const token = location.pathname.split("/").pop();
const base = `/api/v1/shared/${encodeURIComponent(token)}`;
const PAGE = 1000;

const pictures = new Map(); // id -> the picture as the share shows it
let info = null;
let grid = null;
let open = -1; // the open picture's position, or -1
let member = null; // the account signed in to this library here, when it may keep pictures
const CSRF_KEY = "pixlstash.csrf"; // where the library's page keeps its session's CSRF token (api.js)

/** Whether this browser is signed in to the library as someone who may keep pictures. Asked only where the
 * library's page signed in before (its CSRF token is here): a stranger's browser asks nothing. */
async function whoIsSignedIn() {
  if (!localStorage.getItem(CSRF_KEY)) return;
  try {
    const response = await fetch("/api/v1/auth/me", { credentials: "same-origin" });
    const me = response.ok ? await response.json() : null;
    if (me && me.user_id != null && me.scope !== "read") member = me;
  } catch { /* not signed in: the page is as for anyone */ }
}

async function keep(p) {
  const response = await fetch(`${base}/pictures/${p.id}/add-to-my-library`, {
    method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": localStorage.getItem(CSRF_KEY) || "" },
  });
  const body = await response.json().catch(() => ({}));
  $("keep").textContent = response.ok ? "In your library" : body.error?.message || response.statusText;
  $("keep").disabled = response.ok;
}

async function get(path) {
  const response = await fetch(base + path, { credentials: "omit" });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.error?.message || response.statusText);
  }
  return response.json();
}

/** An image of a shared picture; an edited one's thumbnails name the edit, so no cache keeps an earlier look. */
function media(picture, size) {
  return `${base}/media/${picture.content_hash}/${size}${picture.edit_key ? `?edit=${picture.edit_key}` : ""}`;
}

/** Every page of the share (or of what the search finds in it), the grid laid out again as each arrives
 * (the first screen paints at once). A newer search stops an older one's loading. */
let loading = 0;
async function loadAll(text = "") {
  const mine = ++loading;
  pictures.clear();
  let cursor = null;
  const search = text ? `&text=${encodeURIComponent(text)}` : "";
  do {
    const page = await get(`/pictures?limit=${PAGE}${search}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (mine !== loading) return;
    for (const p of page.items) pictures.set(p.id, p);
    grid.setDetails(page.items);
    const all = [...pictures.values()];
    grid.setLayout(Uint32Array.from(all, (p) => p.id), Uint16Array.from(all, (p) => Math.min(65535, p.width)),
      Uint16Array.from(all, (p) => Math.min(65535, p.height)), { keepScroll: cursor !== null });
    cursor = page.next_cursor;
  } while (cursor);
  $("empty").hidden = pictures.size > 0;
  $("empty").textContent = text ? "Nothing here matches that." : "This share holds no pictures.";
  $("count").textContent = counted(text ? pictures.size : info.picture_count) + (text ? " found" : "");
}

function counted(n) {
  return `${n.toLocaleString()} picture${n === 1 ? "" : "s"}`;
}

/** A share that shows tags and captions can be searched: its prompts, captions and tags, nothing else. */
function bindSearch() {
  const box = $("share-search");
  box.hidden = !info.include_metadata;
  let timer = null;
  box.oninput = () => {
    clearTimeout(timer);
    timer = setTimeout(() => loadAll(box.value.trim()).catch((error) => {
      $("empty").hidden = false;
      $("empty").textContent = error.message;
    }), 250);
  };
}

function show(index) {
  if (index < 0 || index >= grid.ids.length) return;
  open = index;
  const p = pictures.get(grid.ids[index]);
  const el = $("overlay");
  const video = p.media_type === "video";
  el.innerHTML = `
    <div class="stage" id="stage">
      ${video ? `<video src="${media(p, "original")}" controls autoplay muted playsinline poster="${media(p, "preview.webp")}"
          aria-label="Video"></video>`
        : `<img id="full" draggable="false" src="${media(p, "preview.webp")}" alt="Picture ${index + 1} of ${grid.ids.length}"
          ${info.allow_original && (!p.edit_key || info.edited_downloads) ? `data-original="${media(p, "original")}"` : ""}>`}
      <button class="nav prev" id="prev" aria-label="Previous picture" ${index === 0 ? "disabled" : ""}>${icon("chevron-left")}</button>
      <button class="nav next" id="next" aria-label="Next picture" ${index === grid.ids.length - 1 ? "disabled" : ""}>${icon("chevron-right")}</button>
    </div>
    <div class="info">
      <button class="close icon" id="close-overlay" aria-label="Close">${icon("x")}</button>
      <h2>${index + 1} of ${grid.ids.length}</h2>
      <p class="muted">${p.width}×${p.height} · ${new Date(p.taken_at).toLocaleString()}</p>
      <button id="fit-small" hidden title="Show this small picture as large as the screen allows">Fit</button>
      ${p.rating ? `<p aria-label="Rating ${p.rating}">${"★".repeat(p.rating)}</p>` : ""}
      ${p.caption ? `<p>${esc(p.caption)}</p>` : ""}
      ${p.tags?.length ? `<div class="chips">${p.tags.map((t) => `<span class="chip">${esc(t.name)}</span>`).join("")}</div>` : ""}
      ${info.allow_original ? `<p><a class="button primary" id="download" href="${media(p, "original")}" download>${icon("download")} ${downloadLabel(p)}</a></p>` : ""}
      ${member ? `<p><button id="keep" title="Signed in as ${esc(member.username)}: list it under your pictures">Add to my library</button></p>` : ""}
    </div>`;
  el.hidden = false;
  $("prev").onclick = () => show(open - 1);
  $("next").onclick = () => show(open + 1);
  $("close-overlay").onclick = close;
  if (member) $("keep").onclick = () => keep(p);
  holdSmallPictures($("stage"), $("full"), $("fit-small"), p, () => {});
  bindZoom($("stage"), $("full"), p, (delta) => show(open + delta));
  grid.focus = index;
  grid.scrollToIndex(index);
  grid.refreshTiles();
}

/** What the download gives: the original file, or (edited, or watermarked) a picture made from it. */
function downloadLabel(p) {
  if (p.edit_key && (info.edited_downloads || info.transformed)) return "Download edited picture";
  return info.transformed ? "Download picture" : "Download original";
}

function close() {
  $("overlay").hidden = true;
  open = -1;
  grid.el.focus();
}

async function start() {
  markTouch();
  grid = new Grid($("grid"), {
    selectable: false,
    onOpen: (id) => show(grid.indexOf.get(id)),
    onContext: () => {},
    onSelection: () => {},
    needDetails: () => {}, // every picture's details come with its page
    needBadges: () => {},
    imageUrl: (id, size) => media(pictures.get(id), `${size}.webp`),
  });
  grid.setMode("square", window.innerWidth <= 700 ? 120 : 200);
  document.addEventListener("keydown", (event) => {
    if ($("overlay").hidden) {
      if (event.key === "Enter" && grid.focus >= 0) show(grid.focus);
      return;
    }
    if (event.key === "Escape") close();
    else if (event.key === "ArrowLeft") show(open - 1);
    else if (event.key === "ArrowRight") show(open + 1);
  });
  try {
    info = await get("");
    $("title").textContent = info.title || "Shared pictures";
    document.title = `${info.title || "Shared pictures"} · PixlStash`;
    $("count").textContent = counted(info.picture_count);
    bindSearch();
    const notes = [];
    if (info.allow_original) notes.push("Originals can be downloaded");
    if (info.expires_at) notes.push(`Link valid until ${new Date(info.expires_at).toLocaleDateString()}`);
    $("share-note").textContent = notes.join(" · ");
    await whoIsSignedIn();
    await loadAll();
  } catch (error) {
    $("grid").hidden = true;
    $("empty").hidden = false;
    $("empty").textContent = error.message;
    $("empty").classList.add("error");
  }
  document.body.dataset.ready = "1";
}

start();
