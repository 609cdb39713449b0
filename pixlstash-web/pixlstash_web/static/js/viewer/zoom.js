// Looking closely at a picture: wheel and pinch zoom around the pointer, drag to pan, double-click to
// toggle fit and 100%, swipe left or right (unzoomed) to step. The original replaces the preview once
// zoomed in. Used by the library's overlay and the share recipient's.

/** Zoom and pan ``img`` inside ``stage`` (``size``: the picture's own width and height); ``onSwipe(±1)``
 * steps to the next or previous picture. */
export function bindZoom(stage, img, size, onSwipe) {
  if (!img) return;
  const boxes = stage.querySelector("#faceboxes");
  let scale = 1;
  let x = 0;
  let y = 0;
  const apply = () => {
    if (scale <= 1.001) { scale = 1; x = 0; y = 0; }
    const w = stage.clientWidth;
    const h = stage.clientHeight;
    x = Math.min(0, Math.max(w - w * scale, x)); // the picture never leaves the stage
    y = Math.min(0, Math.max(h - h * scale, y));
    img.style.transform = scale === 1 ? "" : `translate(${x}px, ${y}px) scale(${scale})`;
    stage.classList.toggle("zoomed", scale > 1);
    if (boxes) boxes.hidden = scale > 1;
    if (scale > 1 && img.dataset.original && img.getAttribute("src") !== img.dataset.original) img.src = img.dataset.original;
    stage.dataset.scale = scale.toFixed(3);
  };
  const zoomAt = (factor, cx, cy) => {
    const next = Math.min(16, Math.max(1, scale * factor));
    x = cx - (cx - x) * (next / scale);
    y = cy - (cy - y) * (next / scale);
    scale = next;
    apply();
  };
  const local = (e) => { const r = stage.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  stage.addEventListener("wheel", (e) => {
    e.preventDefault();
    const [cx, cy] = local(e);
    zoomAt(Math.exp(-e.deltaY * 0.002), cx, cy);
  }, { passive: false });
  stage.addEventListener("dblclick", (e) => {
    if (e.target.closest("button")) return;
    const [cx, cy] = local(e);
    const fit = Math.min(stage.clientWidth / size.width, stage.clientHeight / size.height);
    if (scale > 1) { scale = 1; apply(); } else zoomAt(Math.max(2, 1 / fit), cx, cy);
  });
  const pointers = new Map();
  let start = null;
  stage.addEventListener("pointerdown", (e) => {
    if (e.target.closest("button")) return;
    stage.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, local(e));
    start = { at: local(e), time: performance.now(), spread: null };
  });
  stage.addEventListener("pointermove", (e) => {
    if (!pointers.has(e.pointerId)) return;
    const before = pointers.get(e.pointerId);
    const now = local(e);
    pointers.set(e.pointerId, now);
    if (pointers.size === 2) { // a pinch: zoom by the change in spread, around the fingers' middle
      const [a, b] = [...pointers.values()];
      const spread = Math.hypot(a[0] - b[0], a[1] - b[1]);
      if (start.spread) zoomAt(spread / start.spread, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
      start.spread = spread;
    } else if (scale > 1) {
      x += now[0] - before[0];
      y += now[1] - before[1];
      apply();
    }
  });
  const end = (e) => {
    if (!pointers.delete(e.pointerId) || pointers.size || !start) return;
    const [dx, dy] = [local(e)[0] - start.at[0], local(e)[1] - start.at[1]];
    const swipe = scale === 1 && start.spread === null && Math.abs(dx) > 60 && Math.abs(dy) < 50
      && performance.now() - start.time < 600;
    start = null;
    if (swipe) onSwipe(dx < 0 ? 1 : -1);
  };
  stage.addEventListener("pointerup", end);
  stage.addEventListener("pointercancel", end);
}

