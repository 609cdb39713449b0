// Prune: move the pictures a scorer ranks lowest, of the view or of the selection, to the scrapheap in one
// step (Undo brings them all back). The dialog says how many would go, and their scores, before anything moves.

import { api } from "../api.js";
import { openDialog } from "../dialogs.js";
import { undoButton } from "../panels/history.js";
import { esc, toast } from "../ui.js";
import { filterBody } from "../view.js";

/** The installed scorers, for the sort menu, the filters and this dialog. */
export function scorers(app) {
  return (app.engines || []).filter((e) => e.task === "scorer");
}

/** A score as tiles and lists show it: two decimals for a 0-1 score, one for wider scales. */
export function scoreText(value, engine) {
  const high = engine?.score_range?.[1] ?? 1;
  return value.toFixed(high > 1 ? 1 : 2);
}

export async function pruneDialog(app) {
  const list = scorers(app);
  if (!list.length) { toast("No scorer is installed"); return; }
  const sorted = app.view.sort?.startsWith("score:") ? app.view.sort.slice(6) : null;
  const chosen = list.find((e) => e.id === sorted) || list[0];
  const selected = app.selection();
  const filter = selected.length ? { ids: selected } : (filterBody(app.view) || {});
  const scope = selected.length ? `the ${selected.length.toLocaleString()} selected` : "this view";
  const body = (form, dryRun) => {
    const how = form.querySelector("[name=how]:checked").value;
    const value = Number(form.querySelector(`[name=${how}]`).value);
    return { engine_id: form.querySelector("[name=engine]").value, filter, [how]: value, dry_run: dryRun };
  };
  setTimeout(() => bindPreview(app, body), 0);  // once the dialog is on the page
  const done = await openDialog(`<h2>Prune ${esc(scope)}</h2>
    <p class="muted">Moves the pictures a scorer ranks lowest to the scrapheap, in one step that Undo reverses.
      Pictures it has not scored stay.</p>
    <label>Scorer <select name="engine" aria-label="Scorer">${list.map((e) => `<option value="${esc(e.id)}"
      ${e.id === chosen.id ? "selected" : ""}>${esc(e.label)}</option>`).join("")}</select></label>
    <fieldset class="prune-how"><legend>Which pictures</legend>
      <label class="check"><input type="radio" name="how" value="lowest" checked> The lowest
        <input name="lowest" type="number" min="1" step="1" value="10" aria-label="How many of the lowest"></label>
      <label class="check"><input type="radio" name="how" value="below"> Those scored under
        <input name="below" type="number" step="any" value="${chosen.score_range?.[1] > 1 ? 4 : 0.4}"
          aria-label="The score under which they go"></label>
    </fieldset>
    <p id="prune-preview" role="status" aria-live="polite">Counting…</p>
    <p class="error" role="alert"></p>
    <div class="actions"><button type="button" data-cancel>Cancel</button>
      <button class="primary danger" id="prune-go">Scrap</button></div>`, async (form) => {
    const request = body(form, false);
    return { ...(await api.post("/pictures/prune", request)), engine_id: request.engine_id };
  });
  if (!done) return;
  const engine = list.find((e) => e.id === done.engine_id);
  toast(`Scrapped ${done.picture_ids.length.toLocaleString()} lowest by ${engine?.label || "the scorer"}`, 8,
    undoButton(app));
  window.dispatchEvent(new CustomEvent("pixlstash:history"));
  app.loadView({ keepScroll: true });
}

/** Count what the choice would scrap as it changes (a dry run), and name it on the button. */
function bindPreview(app, body) {
  const form = document.querySelector("#dialog form");
  const preview = document.getElementById("prune-preview");
  const go = document.getElementById("prune-go");
  if (!form || !preview) return;
  let asked = 0;
  const update = async () => {
    const ticket = ++asked;
    let result;
    try { result = await api.post("/pictures/prune", body(form, true)); } catch (error) {
      if (ticket === asked) { preview.textContent = error.message; go.disabled = true; }
      return;
    }
    if (ticket !== asked) return;
    const n = result.picture_ids.length;
    const engine = (app.engines || []).find((e) => e.id === form.querySelector("[name=engine]").value);
    preview.textContent = n ? `${n.toLocaleString()} picture${n === 1 ? "" : "s"} would go, scored ${scoreText(
      result.scores[0], engine)} to ${scoreText(result.scores[n - 1], engine)}.` : "No picture is scored that low.";
    go.textContent = n ? `Scrap ${n.toLocaleString()}` : "Scrap";
    go.disabled = !n;
  };
  form.querySelectorAll("input[type=number]").forEach((input) => {  // typing a number picks its way
    input.addEventListener("focus", () => { form.querySelector(`[name=how][value=${input.name}]`).checked = true; });
  });
  form.addEventListener("input", update);
  update();
}
