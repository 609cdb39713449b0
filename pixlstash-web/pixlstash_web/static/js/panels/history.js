// Undo and redo: Ctrl+Z / Ctrl+Y (or Ctrl+Shift+Z), the Undo button on the toast after every edit, and the
// history panel. The steps live on the server (history.db), so they survive a reload and cover edits
// made from the command line too; a snapshot restore clears them.

import { api } from "../api.js";
import { esc, toast } from "../ui.js";

/** The toast's Undo button, for the toast that reports an edit. */
export function undoButton(app) {
  return { label: "Undo", run: () => undo(app) };
}

export async function undo(app) {
  await replay(app, "undo", (step) => `Undone: ${step.label}`, { label: "Redo", run: () => redo(app) });
}

export async function redo(app) {
  await replay(app, "redo", (step) => `Redone: ${step.label}`, undoButton(app));
}

async function replay(app, which, said, then) {
  try {
    // Asked first, so an empty history is a message, not a refused request.
    const history = await api.get("/history", { limit: 1 });
    if (!(which === "undo" ? history.can_undo : history.can_redo)) { toast(`Nothing to ${which}`); return; }
    const step = await api.post(`/history/${which}`);
    toast(said(step), 6, then);
  } catch (error) {
    toast(error.message);
    return;
  }
  // Everything the step touched may be on screen: the grid, the sidebar's counts, the open picture.
  app.refreshDetails(null);
  app.load({ keepScroll: true });
  app.sidebar.reload();
  if (app.view.picture) app.apply(app.view);
  window.dispatchEvent(new CustomEvent("pixlstash:history"));
}

/** The history panel: the newest steps, undone ones greyed, with Undo and Redo. */
export async function renderHistory(app, panel, header, bindClose) {
  let history;
  try { history = await api.get("/history", { limit: 100 }); } catch (error) { toast(error.message); return; }
  const when = (ms) => new Date(ms).toLocaleString();
  panel.innerHTML = `${header("History")}
    <p class="muted">Undo goes back one step at a time (<kbd>Ctrl</kbd>+<kbd>Z</kbd>), redo forward
      (<kbd>Ctrl</kbd>+<kbd>Y</kbd>). A snapshot restore starts the history afresh.</p>
    <div class="actions"><button id="history-undo" ${history.can_undo ? "" : "disabled"}>↶ Undo</button>
      <button id="history-redo" ${history.can_redo ? "" : "disabled"}>↷ Redo</button></div>
    ${history.steps.length ? `<ol class="history-steps" aria-label="Steps, newest first">${history.steps.map((s) =>
      `<li class="${s.undone ? "undone" : ""}"><span>${esc(s.label)}</span>
      <small class="muted">${when(s.created_at)}${s.undone ? " · undone" : ""}</small></li>`).join("")}</ol>`
      : '<p class="muted">Nothing to undo yet.</p>'}`;
  bindClose(panel);
  const again = () => renderHistory(app, panel, header, bindClose);
  panel.querySelector("#history-undo").onclick = async () => { await undo(app); again(); };
  panel.querySelector("#history-redo").onclick = async () => { await redo(app); again(); };
}
