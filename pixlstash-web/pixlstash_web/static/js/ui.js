// Small helpers every view uses: HTML escaping and the toast. A module of their own, so no module
// imports app.js back.

/** Text made safe to put inside HTML (text and attribute values). */
export function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "'": "&#39;" })[c]);
}

/** A short message at the bottom of the screen, gone after `seconds`. */
export function toast(message, seconds = 4) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, seconds * 1000);
}
