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
