// The viewer's crop tool: the picture turned and mirrored as edited, the box to keep (drag a corner or an
// edge to resize it, the inside to move it, two fingers to pinch it; arrow keys move it, Shift+arrows
// resize it), aspect presets, and a straighten slider. Done saves the box and the angle as one undo step
// (``onDone(change)``); Esc or Cancel leaves the picture as it was.

import { esc } from "../ui.js";

const ASPECTS = [["Free", 0], ["1:1", 1], ["2:3", 2 / 3], ["3:2", 3 / 2], ["4:5", 4 / 5], ["16:9", 16 / 9]];
const SMALLEST = 0.03; // a box side, as a fraction of the picture
const CORNERS = ["nw", "ne", "sw", "se"];
const EDGES = ["n", "s", "e", "w"];
let tool = null; // the open tool's element

/** The picture's size as shown without its crop (turned as edited). */
function frameSize(p) {
  const turned = p.edit && (p.edit.rotate === 90 || p.edit.rotate === 270);
  return turned ? [p.original_height, p.original_width] : [p.original_width, p.original_height];
}

/** The current crop as [x0, y0, x1, y1] fractions of the frame as shown (mirrored, then turned). */
function shownBox(p) {
  const e = p.edit;
  if (!e?.crop) return [0, 0, 1, 1];
  const [x, y, w, h] = e.crop;
  const W = p.original_width;
  const H = p.original_height;
  let corners = [[x / W, y / H], [(x + w) / W, (y + h) / H]];
  if (e.flip) corners = corners.map(([cx, cy]) => [1 - cx, cy]);
  const turn = { 0: (a, b) => [a, b], 90: (a, b) => [1 - b, a], 180: (a, b) => [1 - a, 1 - b], 270: (a, b) => [b, 1 - a] };
  corners = corners.map(([a, b]) => turn[e.rotate](a, b));
  const xs = corners.map((c) => c[0]);
  const ys = corners.map((c) => c[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** How much a picture straightened by ``angle`` is enlarged to leave no empty corner (domain/look_geometry.py). */
function coverScale(angle, w, h) {
  const c = Math.abs(Math.cos((angle * Math.PI) / 180));
  const s = Math.abs(Math.sin((angle * Math.PI) / 180));
  return Math.max(c + (s * h) / w, c + (s * w) / h);
}

export function closeCropTool() {
  if (!tool) return false;
  tool.remove();
  tool = null;
  document.getElementById("overlay")?.classList.remove("cropping");
  return true;
}

export function openCropTool(overlay, p, onDone) {
  closeCropTool();
  const [fw, fh] = frameSize(p);
  const state = { box: shownBox(p), aspect: 0, angle: p.edit?.angle ?? 0 };
  // A mirror turns the straightening the other way round as shown.
  const shownAngle = () => (p.edit?.flip ? -state.angle : state.angle);
  const el = document.createElement("div");  // (``tool`` is the open one: null once closed)
  tool = el;
  el.className = "crop-tool";
  el.setAttribute("role", "dialog");
  el.setAttribute("aria-label", "Crop and straighten");
  el.innerHTML = `
    <div class="crop-area"><div class="crop-frame" id="crop-frame"><div class="crop-clip">
      <img class="crop-image" id="crop-image" src="/api/v1/pictures/${p.id}/frame.webp?edit=${esc(p.edit_key)}" alt="" draggable="false"></div>
      <div class="crop-box" id="crop-box" tabindex="0" role="group" aria-label="Crop box: arrow keys move it, Shift+arrows resize it">
        ${[...CORNERS, ...EDGES].map((h) => `<span class="crop-handle ${h}" data-handle="${h}"></span>`).join("")}
      </div></div></div>
    <div class="crop-controls">
      <div role="group" aria-label="Aspect ratio" class="crop-aspects">
        ${ASPECTS.map(([label, ratio]) => `<button data-ratio="${ratio}" aria-pressed="${ratio === 0}">${label}</button>`).join("")}
        <button id="crop-bucket" title="Snap the box to the nearest SDXL training bucket (1024)">Training bucket</button>
      </div>
      <label class="crop-angle">Straighten <input type="range" id="crop-angle" min="-45" max="45" step="0.1"
        value="${state.angle}"><output id="crop-angle-value">${state.angle}°</output></label>
      <div class="crop-actions">
        <button id="crop-reset">Reset</button><button id="crop-cancel">Cancel</button>
        <button class="primary" id="crop-done">Done</button>
      </div>
    </div>`;
  overlay.appendChild(el);
  overlay.classList.add("cropping");
  const frame = el.querySelector("#crop-frame");
  const boxEl = el.querySelector("#crop-box");
  const image = el.querySelector("#crop-image");

  const fit = () => {  // the frame as large as the area allows, at the picture's shape
    const area = el.querySelector(".crop-area");
    const style = getComputedStyle(area);
    const width = area.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const height = area.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    const scale = Math.min(width / fw, height / fh);
    frame.style.width = `${fw * scale}px`;
    frame.style.height = `${fh * scale}px`;
  };
  const draw = () => {
    const [x0, y0, x1, y1] = state.box;
    Object.assign(boxEl.style, { left: `${x0 * 100}%`, top: `${y0 * 100}%`, width: `${(x1 - x0) * 100}%`,
      height: `${(y1 - y0) * 100}%` });
    image.style.transform = `rotate(${shownAngle()}deg) scale(${coverScale(state.angle, fw, fh)})`;
    el.querySelector("#crop-angle-value").textContent = `${state.angle}°`;
    el.classList.toggle("locked", state.aspect > 0);
  };
  new ResizeObserver(fit).observe(el.querySelector(".crop-area"));
  fit();
  draw();

  /** The box with ``ratio`` (width / height as shown) and the area of the current one (a box dragged
   * smaller stays that small), around its centre; as large as the picture allows when that is less. The
   * server snaps a crop to a training bucket the same way (edit_geometry.with_aspect). */
  const withAspect = (ratio) => {
    const [x0, y0, x1, y1] = state.box;
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const area = (x1 - x0) * fw * (y1 - y0) * fh; // in the picture's pixels as shown
    const widest = Math.min(fw, fh * ratio);
    const wPx = Math.min(widest, Math.sqrt(area * ratio));
    const w = wPx / fw;
    const h = wPx / ratio / fh;
    const left = Math.min(Math.max(0, cx - w / 2), 1 - w);
    const top = Math.min(Math.max(0, cy - h / 2), 1 - h);
    return [left, top, left + w, top + h];
  };
  const pressAspect = (button) => {
    el.querySelectorAll(".crop-aspects button").forEach((o) => o.setAttribute("aria-pressed", String(o === button)));
  };
  el.querySelectorAll("[data-ratio]").forEach((b) => {
    b.onclick = () => {
      state.aspect = Number(b.dataset.ratio);
      state.bucket = false;
      pressAspect(b);
      if (state.aspect) state.box = withAspect(state.aspect);
      draw();
    };
  });
  // The training bucket nearest the box's shape: shown first, saved with Done (the server snaps it exactly).
  el.querySelector("#crop-bucket").onclick = (event) => {
    const [x0, y0, x1, y1] = state.box;
    state.aspect = nearestBucket(((x1 - x0) * fw) / ((y1 - y0) * fh));
    state.bucket = true;
    pressAspect(event.currentTarget);
    state.box = withAspect(state.aspect);
    draw();
  };
  el.querySelector("#crop-angle").oninput = (event) => { state.angle = Number(event.target.value); draw(); };
  el.querySelector("#crop-reset").onclick = () => {
    Object.assign(state, { box: [0, 0, 1, 1], angle: 0 });
    el.querySelector("#crop-angle").value = "0";
    draw();
  };
  el.querySelector("#crop-cancel").onclick = () => closeCropTool();
  const change = () => {
    const whole = state.box.every((v, i) => Math.abs(v - [0, 0, 1, 1][i]) < 1e-4);
    return { angle: state.angle, ...(whole ? { uncrop: true } : { shown_crop: state.box.map((v) => Math.round(v * 1e5) / 1e5) }) };
  };
  el.querySelector("#crop-done").onclick = () => {
    const c = change();
    closeCropTool();
    onDone(state.bucket ? { ...c, aspect: "bucket" } : c);
  };
  bindDragging(frame, boxEl, state, draw, fw, fh);
  boxEl.addEventListener("keydown", (event) => nudge(event, state, draw, fw, fh));
  el.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.target.matches("button")) { event.preventDefault(); el.querySelector("#crop-done").click(); }
  });
  boxEl.focus({ preventScroll: true });
}

/** Resize by a handle, move from inside, pinch with two fingers. Fractions of the frame throughout. */
function bindDragging(frame, boxEl, state, draw, fw, fh) {
  const pointers = new Map();
  let start = null;
  frame.addEventListener("pointerdown", (event) => {
    if (!event.target.closest(".crop-box")) return;
    event.preventDefault();
    frame.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, [event.clientX, event.clientY]);
    start = { box: [...state.box], handle: event.target.dataset.handle || "move", x: event.clientX, y: event.clientY,
      spread: spread(pointers) };
  });
  frame.addEventListener("pointermove", (event) => {
    if (!start || !pointers.has(event.pointerId)) return;
    pointers.set(event.pointerId, [event.clientX, event.clientY]);
    const rect = frame.getBoundingClientRect();
    if (pointers.size >= 2) {  // a pinch scales the box about its centre
      const now = spread(pointers);
      if (!start.spread) start = { ...start, box: [...state.box], spread: now };
      else state.box = scaled(start.box, now / start.spread, state.aspect, fw, fh);
    } else {
      const dx = (event.clientX - start.x) / rect.width;
      const dy = (event.clientY - start.y) / rect.height;
      state.box = start.handle === "move" ? moved(start.box, dx, dy) : resized(start.box, start.handle, dx, dy, state.aspect, fw, fh);
    }
    draw();
  });
  const end = (event) => {
    pointers.delete(event.pointerId);
    start = pointers.size ? { ...start, box: [...state.box], spread: spread(pointers) } : null;
    if (start && pointers.size === 1) { const [[x, y]] = pointers.values(); Object.assign(start, { x, y, handle: "move" }); }
  };
  frame.addEventListener("pointerup", end);
  frame.addEventListener("pointercancel", end);
}

/** The aspect ratio (width / height) of the SDXL training bucket (1024) nearest ``ratio``: sides that are
 * multiples of 64 from 512 to 2048 with an area of at most 1024², as training/images.py ``buckets`` makes
 * them. */
function nearestBucket(ratio) {
  const ratios = [];
  for (let w = 512; w <= 2048; w += 64) {
    const h = Math.min(2048, Math.floor((1024 * 1024) / w / 64) * 64);
    if (h >= 512) ratios.push(w / h, h / w);
  }
  return ratios.reduce((best, r) => (Math.abs(r - ratio) < Math.abs(best - ratio) ? r : best));
}

function spread(pointers) {
  if (pointers.size < 2) return 0;
  const [[ax, ay], [bx, by]] = [...pointers.values()];
  return Math.hypot(ax - bx, ay - by);
}

function moved([x0, y0, x1, y1], dx, dy) {
  const ddx = Math.min(Math.max(dx, -x0), 1 - x1);
  const ddy = Math.min(Math.max(dy, -y0), 1 - y1);
  return [x0 + ddx, y0 + ddy, x1 + ddx, y1 + ddy];
}

function resized(box, handle, dx, dy, aspect, fw, fh) {
  let [x0, y0, x1, y1] = box;
  if (handle.includes("w")) x0 = Math.min(Math.max(0, x0 + dx), x1 - SMALLEST);
  if (handle.includes("e")) x1 = Math.max(Math.min(1, x1 + dx), x0 + SMALLEST);
  if (handle.includes("n")) y0 = Math.min(Math.max(0, y0 + dy), y1 - SMALLEST);
  if (handle.includes("s")) y1 = Math.max(Math.min(1, y1 + dy), y0 + SMALLEST);
  if (!aspect) return [x0, y0, x1, y1];
  // A fixed shape: the height follows the width, from the corner held still, within the frame.
  let w = x1 - x0;
  let h = (w * fw) / (aspect * fh);
  const room = handle.includes("n") ? y1 : 1 - y0;
  if (h > room) { h = room; w = (h * aspect * fh) / fw; }
  if (handle.includes("w")) x0 = x1 - w; else x1 = x0 + w;
  if (handle.includes("n")) y0 = y1 - h; else y1 = y0 + h;
  return [x0, y0, x1, y1];
}

function scaled([x0, y0, x1, y1], factor, aspect, fw, fh) {
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  let w = Math.max(SMALLEST, (x1 - x0) * factor);
  let h = Math.max(SMALLEST, (y1 - y0) * factor);
  const fits = Math.min(1, 1 / w, 1 / h);
  w *= fits;
  h *= fits;
  if (aspect) h = (w * fw) / (aspect * fh);
  const left = Math.min(Math.max(0, cx - w / 2), 1 - w);
  const top = Math.min(Math.max(0, cy - h / 2), 1 - h);
  return [left, top, left + w, top + h];
}

function nudge(event, state, draw, fw, fh) {
  const step = { ArrowLeft: [-0.01, 0], ArrowRight: [0.01, 0], ArrowUp: [0, -0.01], ArrowDown: [0, 0.01] }[event.key];
  if (!step) return;
  event.preventDefault();
  event.stopPropagation();  // the viewer's arrows go to the next picture
  state.box = event.shiftKey ? resized(state.box, "se", step[0], step[1], state.aspect, fw, fh) : moved(state.box, ...step);
  draw();
}
