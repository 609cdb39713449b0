// Small helpers every view uses: HTML escaping and the toast. A module of their own, so no module
// imports app.js back.

/** Text made safe to put inside HTML (text and attribute values). */
export function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "'": "&#39;" })[c]);
}

/** A short message at the bottom of the screen, gone after `seconds`; ``action`` ({label, run}) adds a
 * button, such as Undo after an edit. */
export function toast(message, seconds = 4, action = null) {
  const el = document.getElementById("toast");
  el.textContent = message;
  if (action) {
    const button = document.createElement("button");
    button.textContent = action.label;
    button.className = "toast-action";
    button.onclick = () => { el.hidden = true; action.run(); };
    el.append(" ", button);
  }
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, seconds * 1000);
}

/** An icon from the Lucide sprite shipped with the UI (static/icons: ISC licence), decorative: the
 * control it sits in carries the label. */
export function icon(name) {
  return `<svg class="i" aria-hidden="true"><use href="/ui/icons/lucide.svg#${name}"></use></svg>`;
}

/** Mark a touch screen (``html.touch``): bigger controls and check marks always shown. Media queries
 * such as ``pointer: coarse`` miss some touch laptops and tablets with a mouse attached. */
export function markTouch() {
  const touch = navigator.maxTouchPoints > 0 || matchMedia("(pointer: coarse)").matches;
  document.documentElement.classList.toggle("touch", touch);
}
