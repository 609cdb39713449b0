// The picture overlay: full-size view with zoom, video, tags and predictions (accept / reject), caption,
// faces with character assignment, EXIF and generation metadata, previous / next.

import { api, originalUrl, thumbUrl } from "./api.js";
import { closeCropTool, openCropTool } from "./crop_tool.js";
import { engineName, showGuesses } from "./face_guesses.js";
import { undoButton } from "./history.js";
import { actions, assignItems, showMenu } from "./menus.js";
import { scoreText } from "./prune_dialog.js";
import { esc, icon, toast } from "./ui.js";
import { viewUrl } from "./view.js";
import { drawnAt, holdSmallPictures } from "./viewer_size.js";
import { bindZoom } from "./zoom.js";

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
        <button id="viewer-assign">Add to…</button>
        <button id="viewer-share">Share…</button>
        ${video ? "" : `<span class="edit-tools" role="group" aria-label="Edit">
          <button class="icon" id="turn-left" aria-label="Turn left" title="Turn left (Shift+R)">${icon("rotate-ccw")}</button>
          <button class="icon" id="turn-right" aria-label="Turn right" title="Turn right (R)">${icon("rotate-cw")}</button>
          <button class="icon" id="mirror" aria-label="Mirror" title="Mirror left to right">${icon("flip-horizontal-2")}</button>
          <button class="icon" id="crop-open" aria-label="Crop and straighten" title="Crop and straighten (C)">${icon("crop")}</button>
        </span>`}
        <button id="fit-small" hidden title="Show this small picture as large as the screen allows">Fit</button>
        <button id="viewer-delete" class="danger">${p.deleted_at ? "Delete for good" : "Delete"}</button>
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
      <section aria-label="Rating"><span class="muted">Rating</span>
        ${[1, 2, 3, 4, 5].map((r) => `<button class="icon star" data-rate="${r}" aria-label="Rate ${r}">${r <= p.rating ? "★" : "☆"}</button>`).join("")}
        <button class="icon" id="toggle-fav" aria-label="Favourite">${p.favourite ? "♥" : "♡"}</button></section>
      ${membership(app, p)}
      <h3>Tags</h3>
      <div class="chips" id="tags">${p.tags.map((t) => `<span class="chip" draggable="true" data-tag="${esc(t.name)}">${esc(t.name)}
        <button data-remove="${esc(t.name)}" aria-label="Remove tag ${esc(t.name)}">×</button></span>`).join("")}</div>
      <form id="add-tag"><input name="tag" placeholder="add tag (T)" aria-label="Add tag" id="tag-input"></form>
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
      <button id="save-caption">Save caption</button>
      ${p.captions.filter((c) => c.source !== "user").map((c) => `<div class="caption-suggestion"><p class="muted"><small>${esc(c.source)}${
        c.parameters?.caption_type ? ` · ${esc(c.parameters.caption_type)}` : ""}:</small> ${esc(c.text)}</p>
        ${c.source === "sidecar" ? "" : `<button data-accept-caption="${esc(c.source)}" aria-label="Use the caption from ${esc(c.source)}">Use this caption</button>`}</div>`).join("")}
      ${p.faces.length ? `<h3>Faces</h3><div class="list">${p.faces.map((f, i) => `<div class="row face-row">
        <img class="face-crop" src="/api/v1/faces/${f.id}/crop.webp" alt="Face ${i + 1}" loading="lazy" width="48" height="48">
        <select data-face="${f.id}" aria-label="Character of face ${i + 1}"><option value="">—</option>
        ${characters.map((c) => `<option value="${c.id}" ${f.character_id === c.id ? "selected" : ""}>${esc(c.name)}</option>`).join("")}
        </select><small class="muted face-engine">${esc(engineName(app, f.engine_id))}</small>
        <span class="face-guess" data-guess-for="${f.id}"></span>${video ? `<button data-seek="${f.frame_seconds ?? 0}" title="Show the frame this face is on">▶ ${clock(f.frame_seconds)}</button>` : ""}
        <button data-similar-face="${f.id}">Similar faces</button></div>`).join("")}</div>` : ""}
      ${p.generation ? generation(p) : ""}
      ${p.text ? textSection(p.text) : ""}
      ${p.scores?.length ? `<h3>Scores</h3><dl class="kv" id="scores">${p.scores.map((sc) => {
        const engine = (app.engines || []).find((e) => e.id === sc.engine_id);
        return `<dt>${esc(engine?.label || sc.engine_id)}</dt><dd>${scoreText(sc.value, engine)}</dd>`;
      }).join("")}</dl>` : ""}
      ${Object.keys(p.exif || {}).length ? `<h3>Camera</h3><dl class="kv" id="exif">${exifRows(p.exif).map(([k, v]) =>
        `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>` : ""}
      <h3>File</h3><dl class="kv"><dt>Type</dt><dd>${esc(p.mime)}</dd>
        ${p.locations.map((l) => `<dt>Location</dt><dd>${esc(l)}</dd>`).join("")}
        <dt>Hash</dt><dd>${esc(p.content_hash.slice(0, 16))}…</dd></dl>
      <p><a class="button" href="${originalUrl(p.content_hash)}" target="_blank" rel="noopener">${icon("download")} Open original</a>
        ${p.edit ? `<a class="button" href="/api/v1/pictures/${p.id}/edited?edit=${p.edit_key}" target="_blank" rel="noopener">${icon("download")} Open edited</a>` : ""}</p>
    </div>`;
  bind(app, el, p);
  holdSmallPictures(el.querySelector("#stage"), el.querySelector("#full"), el.querySelector("#fit-small"), p,
    () => { drawFaces(app, el, p); drawText(el, p); });
  drawFaces(app, el, p);
  drawText(el, p);
  showGuesses(el, p, (faceId, characterId, name) =>
    act(app, p, () => api.patch(`/faces/${faceId}`, { character_id: characterId }), `Named ${name}`));
}

/** The sets, characters and projects the picture is in: each a link to it, with × to take the picture out. */
function membership(app, p) {
  const byId = new Map(app.sidebar.collections.map((c) => [c.id, c]));
  const projects = new Map(app.sidebar.projects.map((x) => [x.id, x]));
  const items = [
    ...p.collections.map((id) => byId.get(id)).filter(Boolean).map((c) => ({ kind: c.kind, id: c.id, name: c.name })),
    ...p.projects.map((id) => projects.get(id)).filter(Boolean).map((x) => ({ kind: "project", id: x.id, name: x.name })),
  ];
  if (!items.length) return "";
  const mark = { set: "■", character: "●", project: "▸" };
  return `<h3>In</h3><div class="chips" id="membership">${items.map((m) => `<span class="chip member">
    <a href="${viewUrl(m.kind === "project" ? { project: m.id } : { collections: [m.id] })}" data-open-member="${m.kind}:${m.id}"
      title="Open the ${m.kind} ${esc(m.name)}">${mark[m.kind]} ${esc(m.name)}</a>
    <button data-leave="${m.kind}:${m.id}" aria-label="Remove from ${m.kind} ${esc(m.name)}">×</button></span>`).join("")}</div>`;
}

/** A number, or a rational as older imports stored it ("(1, 1000)"). */
function rational(value) {
  const pair = /^\((-?[\d.]+), (-?[\d.]+)\)$/.exec(String(value ?? ""));
  if (pair) return Number(pair[2]) ? Number(pair[1]) / Number(pair[2]) : NaN;
  return Number(value);
}

/** EXIF as a photographer reads it: 1/1000 s, f/2.8, 35 mm, ISO 200, camera and lens, the time it was
 * taken in the camera's own time zone when the file says which. Other fields follow as they are. */
export function exifRows(exif) {
  const rows = [];
  const used = new Set(["make", "model", "lens_model", "exposure_time", "f_number", "focal_length", "iso",
    "datetime_original", "offset_original", "datetime", "user_comment", "orientation"]);
  const make = String(exif.make || "").trim();
  const model = String(exif.model || "").trim();
  const camera = model.toLowerCase().startsWith(make.toLowerCase()) ? model : [make, model].filter(Boolean).join(" ");
  if (camera) rows.push(["Camera", camera]);
  if (exif.lens_model) rows.push(["Lens", String(exif.lens_model)]);
  const settings = [];
  const t = rational(exif.exposure_time);
  if (t > 0) settings.push(t < 1 ? `1/${Math.round(1 / t)} s` : `${Number(t.toFixed(1))} s`);
  if (rational(exif.f_number) > 0) settings.push(`f/${Number(rational(exif.f_number).toFixed(1))}`);
  if (rational(exif.focal_length) > 0) settings.push(`${Number(rational(exif.focal_length).toFixed(1))} mm`);
  if (exif.iso) settings.push(`ISO ${exif.iso}`);
  if (settings.length) rows.push(["Exposure", settings.join(" · ")]);
  const taken = String(exif.datetime_original || exif.datetime || "");
  const when = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2})/.exec(taken);
  if (when) {
    const zone = /^[+-]\d{2}:\d{2}$/.test(String(exif.offset_original || "")) ? ` (UTC${exif.offset_original})` : "";
    rows.push(["Taken", `${when[1]}-${when[2]}-${when[3]} ${when[4]}:${when[5]}${zone}`]);
  }
  for (const [key, value] of Object.entries(exif)) {
    if (used.has(key) || rows.length >= 40) continue;
    rows.push([key.replaceAll("_", " "), typeof value === "object" ? JSON.stringify(value) : String(value)]);
  }
  return rows;
}

// A video frame's time as m:ss (the poster frame has none: it is where the video opens).
function clock(seconds) {
  if (seconds == null) return "poster";
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function generation(p) {
  const g = p.generation;
  const workflow = g.raw_workflow
    ? `<a download="workflow-${p.id}.json" href="data:application/json;charset=utf-8,${encodeURIComponent(g.raw_workflow)}">Download workflow</a>` : "";
  return `<h3>Generation (${esc(g.tool)})</h3><dl class="kv">
    <dt>Prompt</dt><dd>${esc(g.positive)}</dd>${g.negative ? `<dt>Negative</dt><dd>${esc(g.negative)}</dd>` : ""}
    ${g.checkpoint ? `<dt>Model</dt><dd>${esc(g.checkpoint)}</dd>` : ""}
    ${(g.loras || []).map((l) => `<dt>LoRA</dt><dd>${esc(l.name)}${l.weight != null ? ` (${l.weight})` : ""}</dd>`).join("")}
    ${g.seed != null ? `<dt>Seed</dt><dd>${esc(g.seed)}</dd>` : ""}${g.sampler ? `<dt>Sampler</dt><dd>${esc(g.sampler)}</dd>` : ""}
    ${g.steps ? `<dt>Steps</dt><dd>${g.steps}</dd>` : ""}${g.cfg ? `<dt>CFG</dt><dd>${g.cfg}</dd>` : ""}</dl>${workflow}`;
}

function drawFaces(app, el, p) {
  const img = el.querySelector("#full");
  const layer = el.querySelector("#faceboxes");
  if (!img || !p.faces.length) return;
  const place = () => {
    const { scale, left, top } = drawnAt(img, p);
    // Boxes as the picture is shown (turned, cropped); a face the crop leaves out has none.
    layer.innerHTML = p.faces.map((f, i) => [f.shown_box, i]).filter(([b]) => b).map(([b, i]) => `<div class="facebox"
      style="left:${left + b[0] * scale}px;top:${top + b[1] * scale}px;width:${(b[2] - b[0]) * scale}px;height:${(b[3] - b[1]) * scale}px">
      <span>Face ${i + 1} · ${esc(engineName(app, p.faces[i].engine_id))}</span></div>`).join("");
  };
  if (img.complete) place(); else img.addEventListener("load", place, { once: true });
  new ResizeObserver(() => { if (img.complete) place(); }).observe(el.querySelector("#stage"));  // the details come and go
}

/** The text read in the picture (OCR), one row per run; a row pointed at or focused marks its run. */
function textSection(text) {
  if (!text.runs.length) return `<h3>Text in the picture</h3><p class="muted">None found.</p>`;
  return `<h3>Text in the picture</h3><ol class="text-runs" id="text-runs">${text.runs.map((run, i) =>
    `<li tabindex="0" data-run="${i}">${esc(run.text)}</li>`).join("")}</ol>`;
}

/** Each run of text as its quadrilateral over the picture, placed as the picture is drawn ("contain"). */
function drawText(el, p) {
  const img = el.querySelector("#full");
  const layer = el.querySelector("#textboxes");
  if (!img || !layer || !p.text?.runs.length || p.edit) return;  // (read on the original: no marks on an edited look)
  const place = () => {
    const { scale, left, top } = drawnAt(img, p);
    layer.innerHTML = p.text.runs.map((run, i) => {
      const points = [0, 2, 4, 6].map((n) => `${left + run.quad[n] * scale},${top + run.quad[n + 1] * scale}`).join(" ");
      return `<polygon class="textbox" data-run="${i}" points="${points}"></polygon>`;
    }).join("");
  };
  if (img.complete) place(); else img.addEventListener("load", place, { once: true });
  new ResizeObserver(() => { if (img.complete) place(); }).observe(el.querySelector("#stage"));
  const mark = (i, on) => layer.querySelector(`[data-run="${i}"]`)?.classList.toggle("marked", on);
  el.querySelectorAll("#text-runs [data-run]").forEach((row) => {
    for (const [kind, on] of [["pointerenter", true], ["pointerleave", false], ["focus", true], ["blur", false]]) {
      row.addEventListener(kind, () => { layer.classList.toggle("showing", on); mark(row.dataset.run, on); });
    }
  });
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
    if (message) toast(message, 6, undoButton(app));
    window.dispatchEvent(new CustomEvent("pixlstash:history"));
    app.refreshDetails([p.id]);
    openOverlay(app, p.id);
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
