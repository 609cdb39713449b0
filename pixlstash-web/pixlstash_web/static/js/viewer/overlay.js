// The picture overlay: full-size view with zoom, video, tags and predictions (accept / reject), caption,
// faces with character assignment, EXIF and generation metadata, previous / next.

import { api, originalUrl, thumbUrl } from "../api.js";
import { closeCropTool, openCropTool } from "./crop_tool.js";
import { engineName, showGuesses } from "./face_guesses.js";
import { undoButton } from "../panels/history.js";
import { actions, assignItems, showMenu } from "../menus/menus.js";
import { scoreText } from "../menus/prune_dialog.js";
import { esc, icon, toast } from "../ui.js";
import { exifRows } from "./exif.js";
import { drawFaces } from "./face_boxes.js";
import { credentialsSection, generation } from "./generation.js";
import { membership } from "./membership.js";
import { drawText, textSection } from "./text_runs.js";
import { holdSmallPictures } from "./viewer_size.js";
import { bindZoom } from "./zoom.js";

// IPTC's digital source types, in words (the common ones; another shows as its term).
const SOURCE_TYPES = { trainedAlgorithmicMedia: "made by generative AI",
  compositeWithTrainedAlgorithmicMedia: "a composite with generative AI", digitalCapture: "a camera",
  computationalCapture: "a camera (computational)", algorithmicMedia: "made by an algorithm (not AI)" };

// Originals a browser can draw; for the rest (HEIC, JPEG XL, TIFF, camera RAW) zooming stays on the preview.
const BROWSER_IMAGES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif", "image/bmp"]);

const $ = (id) => document.getElementById(id);

export async function openOverlay(app, pictureId) {
  const el = $("overlay");
  let picture;
  try { picture = await api.get(`/pictures/${pictureId}`); } catch (error) {
    toast(error.message);
    app.update({ picture: undefined }, { replace: true });
    return;
  }
  if (app.view.picture !== pictureId) return; // navigated on meanwhile
  el.hidden = false;
  el.dataset.id = pictureId;
  const focused = el.contains(document.activeElement) ? document.activeElement.id : null;
  render(app, el, picture);
  // The viewer is a modal dialog: focus goes into it (back to the same control after a re-render), and
  // Tab stays inside it (keyboard.js) until it closes.
  const again = focused && document.getElementById(focused);
  if (again && el.contains(again)) again.focus({ preventScroll: true });
  else if (!el.contains(document.activeElement)) { el.tabIndex = -1; el.focus({ preventScroll: true }); }
}

function render(app, el, p) {
  const video = p.media_type === "video";
  const characters = app.sidebar.characters();
  const similarity = app.hits?.get(p.id);
  el.innerHTML = `
    <div class="stage-column"><div class="stage" id="stage">
      ${video ? `<video src="${originalUrl(p.content_hash)}" controls autoplay muted playsinline
          poster="${thumbUrl(p.content_hash, "preview")}" aria-label="Video"></video>`
        : `<img id="full" draggable="false" src="${thumbUrl(p.content_hash, "preview", p.edit_key)}" alt="${esc(p.original_name)}"
          ${p.edit ? `data-original="/api/v1/pictures/${p.id}/edited?edit=${p.edit_key}"`
            : BROWSER_IMAGES.has(p.mime) ? `data-original="${originalUrl(p.content_hash)}"` : ""}>`}
      <div id="faceboxes"></div>
      <svg id="textboxes" aria-hidden="true"></svg>
      <button class="nav prev" id="prev" aria-label="Previous picture">${icon("chevron-left")}</button>
      <button class="nav next" id="next" aria-label="Next picture">${icon("chevron-right")}</button>
      </div>
      <div class="viewer-bar" role="toolbar" aria-label="Picture actions">
        <span class="position" id="position">${position(app, p.id)}</span>
        <button id="viewer-assign" data-needs="write">Add to…</button>
        <button id="viewer-share" data-needs="write">Share…</button>
        ${video ? "" : `<span class="edit-tools" role="group" aria-label="Edit" data-needs="write">
          <button class="icon" id="turn-left" aria-label="Turn left" title="Turn left (Shift+R)">${icon("rotate-ccw")}</button>
          <button class="icon" id="turn-right" aria-label="Turn right" title="Turn right (R)">${icon("rotate-cw")}</button>
          <button class="icon" id="mirror" aria-label="Mirror" title="Mirror left to right">${icon("flip-horizontal-2")}</button>
          <button class="icon" id="crop-open" aria-label="Crop and straighten" title="Crop and straighten (C)">${icon("crop")}</button>
        </span>`}
        <button id="fit-small" hidden title="Show this small picture as large as the screen allows">Fit</button>
        <button id="viewer-delete" class="danger" data-needs="write">${p.deleted_at ? "Delete for good" : "Delete"}</button>
        <button id="toggle-info" aria-pressed="${!el.classList.contains("no-info")}" title="Details (I)">${icon("info")}<span>Details</span></button>
      </div>
    </div>
    <button class="close icon" id="close-overlay" aria-label="Close">${icon("x")}</button>
    <div class="info">
      <h2>${esc(p.original_name || `Picture ${p.id}`)}</h2>
      ${p.edit ? `<p class="edited-note"><span class="edited-mark">Edited</span> ${esc(editWords(p))}
        <button id="revert-edit">Revert to original</button></p>` : ""}
      <p class="muted">${p.width}×${p.height} · ${(p.file_size / 1e6).toFixed(2)} MB · <span id="taken" title="${esc(DATE_SOURCES[p.taken_from] ?? "")}">${new Date(p.taken_at).toLocaleString()}${
        p.taken_from && p.taken_from !== "exif" ? ` <small>(${esc(DATE_WORDS[p.taken_from] ?? p.taken_from)})</small>` : ""}</span>
        ${similarity !== undefined ? ` · similarity ${similarity.toFixed(3)}` : ""}</p>
      ${ownerLine(app, p)}
      <section aria-label="Rating" data-needs="write"><span class="muted">Rating</span>
        ${[1, 2, 3, 4, 5].map((r) => `<button class="icon star" data-rate="${r}" aria-label="Rate ${r}">${r <= p.rating ? "★" : "☆"}</button>`).join("")}
        <button class="icon" id="toggle-fav" aria-label="Favourite">${p.favourite ? "♥" : "♡"}</button></section>
      ${membership(app.sidebar.collections, app.sidebar.projects, p)}
      <h3>Tags</h3>
      <div class="chips" id="tags">${p.tags.map((t) => `<span class="chip" draggable="true" data-tag="${esc(t.name)}">${esc(t.name)}
        <button data-needs="write" data-remove="${esc(t.name)}" aria-label="Remove tag ${esc(t.name)}">×</button></span>`).join("")}</div>
      <form id="add-tag" data-needs="write"><input name="tag" placeholder="add tag (T)" aria-label="Add tag" id="tag-input"></form>
      <div id="drop-bin" class="drop-bin" aria-label="Reject or remove" hidden>✗ Drop here to reject a suggestion or remove a tag</div>
      ${p.predictions.filter((x) => x.state === "pending").length ? `<h3>Suggested (A accepts all, X rejects all)</h3>
      <div class="chips" id="predictions">${p.predictions.filter((x) => x.state === "pending").map((x) =>
        `<span class="chip prediction" draggable="true" data-prediction="${esc(x.name)}" title="${esc(x.engine_id)}">
        ${esc(x.name)} <small>${Math.round(x.confidence * 100)}%</small>
        <button data-accept="${esc(x.name)}" aria-label="Accept ${esc(x.name)}">✓</button>
        ${x.category === "character" ? `<button data-as-character="${esc(x.name)}" aria-label="Make ${esc(x.name)} a character" title="Accept and file under the character ${esc(x.name)}">●</button>` : ""}
        <button data-reject="${esc(x.name)}" aria-label="Reject ${esc(x.name)}">✗</button></span>`).join("")}</div>` : ""}
      <h3>Caption</h3>
      <textarea id="caption" aria-label="Caption">${esc((p.captions.find((c) => c.source === "user") || p.captions[0] || {}).text || "")}</textarea>
      <button id="save-caption" data-needs="write">Save caption</button>
      ${p.captions.filter((c) => c.source !== "user").map((c) => `<div class="caption-suggestion"><p class="muted"><small>${esc(c.source)}${
        c.parameters?.caption_type ? ` · ${esc(c.parameters.caption_type)}` : ""}:</small> ${esc(c.text)}</p>
        ${["sidecar", "xmp"].includes(c.source) ? "" : `<button data-accept-caption="${esc(c.source)}" aria-label="Use the caption from ${esc(c.source)}">Use this caption</button>`}</div>`).join("")}
      ${p.faces.length ? `<h3>Faces</h3><div class="list">${p.faces.map((f, i) => `<div class="row face-row">
        <img class="face-crop" src="/api/v1/faces/${f.id}/crop.webp" alt="Face ${i + 1}" loading="lazy" width="48" height="48">
        <select data-face="${f.id}" aria-label="Character of face ${i + 1}"><option value="">—</option>
        ${characters.map((c) => `<option value="${c.id}" ${f.character_id === c.id ? "selected" : ""}>${esc(c.name)}</option>`).join("")}
        </select><small class="muted face-engine">${esc(engineName(app, f.engine_id))}</small>
        <span class="face-guess" data-guess-for="${f.id}"></span>${video ? `<button data-seek="${f.frame_seconds ?? 0}" title="Show the frame this face is on">▶ ${clock(f.frame_seconds)}</button>` : ""}
        ${f.engine_id === "xmp" ? "" : `<button data-similar-face="${f.id}">Similar faces</button>`}</div>`).join("")}</div>` : ""}
      ${p.generation ? generation(p) : ""}
      ${p.credentials ? credentialsSection(p.credentials) : ""}
      ${p.text ? textSection(p.text) : ""}
      ${p.scores?.length ? `<h3>Scores</h3><dl class="kv" id="scores">${p.scores.map((sc) => {
        const engine = (app.engines || []).find((e) => e.id === sc.engine_id);
        return `<dt>${esc(engine?.label || sc.engine_id)}</dt><dd>${scoreText(sc.value, engine)}</dd>`;
      }).join("")}</dl>` : ""}
      ${Object.keys(p.exif || {}).length ? `<h3>Camera</h3><dl class="kv" id="exif">${exifRows(p.exif).map(([k, v]) =>
        `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>` : ""}
      <h3>File</h3><dl class="kv"><dt>Type</dt><dd>${esc(p.mime)}</dd>
        ${p.digital_source_type ? `<dt>Source</dt><dd>${esc(SOURCE_TYPES[p.digital_source_type] || p.digital_source_type)}</dd>` : ""}
        ${p.locations.map((l) => `<dt>Location</dt><dd>${esc(l)}</dd>`).join("")}
        <dt>Hash</dt><dd>${esc(p.content_hash.slice(0, 16))}…</dd></dl>
      <p><a class="button" href="${originalUrl(p.content_hash)}" target="_blank" rel="noopener">${icon("download")} Open original</a>
        ${p.edit ? `<a class="button" href="/api/v1/pictures/${p.id}/edited?edit=${p.edit_key}" target="_blank" rel="noopener">${icon("download")} Open edited</a>` : ""}</p>
    </div>`;
  bind(app, el, p);
  holdSmallPictures(el.querySelector("#stage"), el.querySelector("#full"), el.querySelector("#fit-small"), p,
    () => { drawFaces((id) => engineName(app, id), el, p); drawText(el, p); });
  drawFaces((id) => engineName(app, id), el, p);
  drawText(el, p);
  showGuesses(el, p, (faceId, characterId, name) =>
    act(app, p, () => api.patch(`/faces/${faceId}`, { character_id: characterId }), `Named ${name}`));
}

/** The sets, characters and projects the picture is in: each a link to it, with × to take the picture out. */
// A video frame's time as m:ss (the poster frame has none: it is where the video opens).
function clock(seconds) {
  if (seconds == null) return "poster";
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** "n of N" in the view the picture was opened from. */
function position(app, id) {
  const index = app.grid.indexOf.get(id);
  return index === undefined ? "" : `${(index + 1).toLocaleString()} of ${app.grid.ids.length.toLocaleString()}`;
}

/** Show or hide the details beside the picture (I); the choice lasts while the page does. */
export function toggleInfo() {
  const el = $("overlay");
  el.classList.toggle("no-info");
  el.querySelector("#toggle-info")?.setAttribute("aria-pressed", String(!el.classList.contains("no-info")));
}

export async function step(app, delta) {
  const grid = app.grid;
  const index = grid.indexOf.get(app.view.picture);
  if (index === undefined) return;
  const next = index + delta;
  if (next < 0 || next >= grid.ids.length) return;
  grid.focus = next; // focus follows, selection does not: closing leaves the grid as it was
  grid.scrollToIndex(next);
  grid.refreshTiles();
  app.update({ picture: grid.ids[next] }, { replace: true });
}

export function closeOverlay(app) {
  $("overlay").hidden = true;
  app.update({ picture: undefined });
  $("grid").focus();
}

/** Who brought the picture in and whether it is private, where the library has more than one person; whoever
 * brought it in (or an admin) keeps it to themselves or shares it with the library. */
function ownerLine(app, p) {
  const me = app.me || {};
  if (!(me.accounts > 1)) return "";
  const decides = me.role === "owner" || me.role === "admin" || (me.user_id != null && me.user_id === p.owner_id);
  const state = p.private ? "<b>Private</b> (only they and admins see it)" : "Shared with the library";
  const button = decides ? ` <button id="toggle-private" data-needs="write">${p.private ? "Share with the library"
    : "Keep to myself"}</button>` : "";
  const keep = p.mine ? "" : ` <button id="add-to-mine" data-needs="write" title="List it under My pictures (one copy
    of the file, its tags and captions as they are)">Add to my library</button>`;
  return `<p class="owner-line muted" id="owner-line">Brought in by <b>${esc(p.owner_name || "the owner")}</b> · ${state}${button}${keep}</p>`;
}

/** Turn, mirror, straighten, crop or revert the picture shown: one undo step. */
function changeLook(app, p, change, message) {
  act(app, p, () => api.patch(`/pictures/${p.id}`, { edit: change }), message);
}

function cropTool(app, p) {
  openCropTool($("overlay"), p, (change) => changeLook(app, p, change, "Cropped"));
}

/** Leave the crop tool if it is open (Esc): true when it was. */
export function leaveTool() {
  return closeCropTool();
}

function editWords(p) {
  const e = p.edit;
  const words = [e.angle ? `straightened ${e.angle > 0 ? "+" : ""}${e.angle}°` : "", e.crop ? "cropped" : "",
    e.flip ? "mirrored" : "", e.rotate ? "turned" : ""].filter(Boolean);
  return `${words.join(", ")} · the original is kept as it was`;
}

async function act(app, p, work, message) {
  try {
    await work();
    window.dispatchEvent(new CustomEvent("pixlstash:history"));
    app.refreshDetails([p.id]);
    // Drawn again before the toast says it is done: a chip grabbed after the toast is not replaced mid-drag.
    await openOverlay(app, p.id);
    if (message) toast(message, 6, undoButton(app));
  } catch (error) { toast(error.message); }
}

function bind(app, el, p) {
  el.querySelector("#close-overlay").onclick = () => closeOverlay(app);
  el.querySelector("#prev").onclick = () => step(app, -1);
  el.querySelector("#toggle-info").onclick = () => toggleInfo();
  const onClick = (id, handler) => { const b = el.querySelector(id); if (b) b.onclick = handler; };
  onClick("#turn-left", () => changeLook(app, p, { rotate: -90 }, "Turned left"));
  onClick("#turn-right", () => changeLook(app, p, { rotate: 90 }, "Turned right"));
  onClick("#mirror", () => changeLook(app, p, { flip: true }, "Mirrored"));
  onClick("#crop-open", () => cropTool(app, p));
  onClick("#revert-edit", () => changeLook(app, p, { revert: true }, "Reverted to the original"));
  onClick("#add-to-mine", () => act(app, p, () => api.post("/pictures/bulk", { ids: [p.id],
    operation: { action: "add_to_my_library" } }), "Added to your library"));
  onClick("#toggle-private", () => act(app, p, () => api.patch(`/pictures/${p.id}`, { private: !p.private }),
    p.private ? "Shared with the library" : "Kept to yourself"));
  el.querySelector("#viewer-assign").onclick = (event) => {
    const r = event.currentTarget.getBoundingClientRect();
    showMenu(r.left, r.top - 8, assignItems(app, [p.id]));
  };
  el.querySelector("#viewer-share").onclick = () => actions.share(app, [p.id]);
  el.querySelector("#viewer-delete").onclick = async () => {
    const next = app.grid.ids[app.grid.indexOf.get(p.id) + 1] ?? app.grid.ids[app.grid.indexOf.get(p.id) - 1];
    if (!(await actions.remove(app, [p.id]))) return;
    if (next !== undefined) app.update({ picture: next }, { replace: true }); else closeOverlay(app);
  };
  el.querySelector("#next").onclick = () => step(app, 1);
  bindZoom(el.querySelector("#stage"), el.querySelector("#full"), p, (delta) => step(app, delta));
  el.querySelectorAll("[data-accept-caption]").forEach((b) => {
    b.onclick = () => act(app, p, () => api.patch(`/pictures/${p.id}`, { accept_caption: b.dataset.acceptCaption }), "Caption accepted");
  });
  el.querySelectorAll("[data-open-member]").forEach((a) => {
    a.onclick = (event) => {
      event.preventDefault();
      const [kind, id] = a.dataset.openMember.split(":");
      app.navigate(kind === "project" ? { project: Number(id) } : { collections: [Number(id)] });
    };
  });
  el.querySelectorAll("[data-leave]").forEach((b) => {
    const [kind, id] = b.dataset.leave.split(":");
    const operation = kind === "project" ? { action: "remove_from_project", project_id: Number(id) }
      : { action: "remove_from_collection", collection_id: Number(id) };
    b.onclick = () => act(app, p, async () => {
      await api.post("/pictures/bulk", { ids: [p.id], operation });
      app.sidebar.reload();
      const here = kind === "project" ? app.view.project === Number(id) : app.view.collections?.includes(Number(id));
      if (here) app.load({ keepScroll: true });
    }, "Removed");
  });
  el.querySelectorAll("[data-seek]").forEach((b) => {
    b.onclick = () => {
      const player = el.querySelector("video");
      player.pause();
      player.currentTime = Number(b.dataset.seek);
    };
  });
  el.querySelectorAll("[data-rate]").forEach((b) => {
    b.onclick = () => act(app, p, () => api.patch(`/pictures/${p.id}`, { rating: Number(b.dataset.rate) }));
  });
  el.querySelector("#toggle-fav").onclick = () => act(app, p, () => api.patch(`/pictures/${p.id}`, { favourite: !p.favourite }));
  el.querySelectorAll("[data-remove]").forEach((b) => {
    b.onclick = () => act(app, p, () => api.patch(`/pictures/${p.id}`, { remove_tags: [b.dataset.remove] }));
  });
  el.querySelector("#add-tag").onsubmit = (event) => {
    event.preventDefault();
    const tag = event.target.tag.value.trim();
    if (tag) act(app, p, () => api.patch(`/pictures/${p.id}`, { add_tags: [tag] }));
  };
  el.querySelectorAll("[data-accept]").forEach((b) => {
    b.onclick = () => act(app, p, () => api.patch(`/pictures/${p.id}`, { accept_predictions: [b.dataset.accept] }));
  });
  el.querySelectorAll("[data-as-character]").forEach((b) => {
    b.onclick = () => act(app, p, () => api.patch(`/pictures/${p.id}`, { accept_as_characters: [b.dataset.asCharacter] }),
      `Filed under ${b.dataset.asCharacter}`);
  });
  el.querySelectorAll("[data-reject]").forEach((b) => {
    b.onclick = () => act(app, p, () => api.patch(`/pictures/${p.id}`, { reject_predictions: [b.dataset.reject] }));
  });
  // Drag a suggestion onto the tags to accept it; drag a suggestion or a tag onto the bin (shown while
  // dragging) to reject or remove it.
  const bin = el.querySelector("#drop-bin");
  const dragging = (chip, type, name) => {
    chip.ondragstart = (e) => { e.dataTransfer.setData(type, name); bin.hidden = false; };
    chip.ondragend = () => { bin.hidden = true; };
  };
  el.querySelectorAll("[data-prediction]").forEach((chip) => dragging(chip, "text/x-prediction", chip.dataset.prediction));
  el.querySelectorAll("#tags [data-tag]").forEach((chip) => dragging(chip, "text/x-tag", chip.dataset.tag));
  const tags = el.querySelector("#tags");
  tags.ondragover = (e) => { if (e.dataTransfer.types.includes("text/x-prediction")) e.preventDefault(); };
  tags.ondrop = (e) => {
    const name = e.dataTransfer.getData("text/x-prediction");
    if (name) act(app, p, () => api.patch(`/pictures/${p.id}`, { accept_predictions: [name] }));
  };
  bin.ondragover = (e) => {
    if (["text/x-prediction", "text/x-tag"].some((t) => e.dataTransfer.types.includes(t))) e.preventDefault();
  };
  bin.ondrop = (e) => {
    const suggestion = e.dataTransfer.getData("text/x-prediction");
    const tag = e.dataTransfer.getData("text/x-tag");
    if (suggestion) act(app, p, () => api.patch(`/pictures/${p.id}`, { reject_predictions: [suggestion] }), `Rejected ${suggestion}`);
    else if (tag) act(app, p, () => api.patch(`/pictures/${p.id}`, { remove_tags: [tag] }), `Removed ${tag}`);
  };
  el.querySelector("#save-caption").onclick = () => act(app, p,
    () => api.patch(`/pictures/${p.id}`, { caption: el.querySelector("#caption").value }), "Caption saved");
  el.querySelectorAll("[data-face]").forEach((select) => {
    select.onchange = () => act(app, p, () => api.patch(`/faces/${select.dataset.face}`,
      { character_id: select.value ? Number(select.value) : null }), "Face assigned");
  });
  el.querySelectorAll("[data-similar-face]").forEach((b) => {
    b.onclick = () => app.navigate({ face: Number(b.dataset.similarFace) });
  });
}

/** The overlay's own keys (A accepts, X rejects the pending suggestions; R / Shift+R turn, C crops), called by the page's key handler;
 * never from an ``on*`` property, where returning false would cancel the key in the tag and caption boxes. */
// Where a picture's date came from, said when it is not the camera's own (a render's date is a guess).
const DATE_WORDS = { embedded: "from the file's metadata", file: "file date", import: "import date", hand: "set by hand" };
const DATE_SOURCES = {
  exif: "Date taken, from the picture's EXIF",
  embedded: "Date from the file's own metadata (a PNG's Creation Time)",
  file: "No date in the picture: this is the file's modified time",
  import: "No date in the picture or its file: this is when it was imported",
  hand: "Date set by hand",
};

export function overlayKeys(app, p, event) {
  if (event.target.matches("input, textarea, select") || document.querySelector(".crop-tool")) return false;
  const pending = p.predictions.filter((x) => x.state === "pending").map((x) => x.name);
  const still = p.media_type !== "video";
  if (event.key === "a" && pending.length) {
    act(app, p, () => api.patch(`/pictures/${p.id}`, { accept_predictions: pending }), "Accepted suggestions");
  } else if (event.key === "x" && pending.length) {
    act(app, p, () => api.patch(`/pictures/${p.id}`, { reject_predictions: pending }), "Rejected suggestions");
  } else if ((event.key === "r" || event.key === "R") && still) {
    changeLook(app, p, { rotate: event.key === "r" ? 90 : -90 }, event.key === "r" ? "Turned right" : "Turned left");
  } else if (event.key === "c" && still) {
    cropTool(app, p);
  } else return false;
  event.preventDefault();
  return true;
}

export async function currentPicture() {
  const id = Number($("overlay").dataset.id);
  return id ? api.get(`/pictures/${id}`) : null;
}
