// An engine without its model says so where it is needed (a menu, a search, Settings) and offers to get
// it: "Get model" downloads it in the background on the server (an explicit request, as the privacy
// promise allows), showing how far it got; `pixlstash models pull` is the same thing from a terminal.

import { api } from "../api.js";
import { openDialog } from "../dialogs.js";
import { esc, toast } from "../ui.js";

const POLL_MS = 500;

/** The dialog for one engine's missing model; resolves true once the model arrived. */
export async function modelDialog(app, engine) {
  const status = engine.model;
  const arrived = await openDialog(`<h2>${esc(engine.label || engine.id)} needs its model</h2>
    <p>The model <strong>${esc(status.model)}</strong> is not on this machine yet, so ${esc(engine.id)} cannot run.</p>
    <p class="muted"><small>${esc(status.how_to_get)}</small></p>
    ${status.location ? `<p class="muted"><small>Its files go in <code>${esc(status.location)}</code>.</small></p>` : ""}
    <p class="muted"><small>From a terminal: <code>pixlstash models pull ${esc(engine.id)}</code></small></p>
    <p class="pull-progress" role="status" aria-live="polite"></p>
    <p class="error" role="alert"></p>
    <div class="actions"><button type="button" data-cancel>Close</button>
      <button class="primary">Get model</button></div>`,
  async (form) => {
    const progress = form.querySelector(".pull-progress");
    form.querySelector("button.primary").disabled = true;
    try {
      await api.post("/engines/pulls", { engine_id: engine.id });
    } catch (error) {
      if (error.status !== 409) throw error; // 409: already being pulled; follow that one
    } finally { form.querySelector("button.primary").disabled = false; }
    for (;;) {
      const pull = (await api.get("/engines/pulls")).find((p) => p.engine_id === engine.id);
      if (!pull) throw new Error("the download did not start");
      if (pull.state === "done") break;
      if (pull.state === "failed") throw new Error(pull.message);
      progress.textContent = `Downloading… ${(pull.bytes_so_far / 1e6).toFixed(1)} MB so far`;
      await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
    }
    return true;
  });
  if (!arrived) return false;
  app.engines = await api.get("/engines");
  toast(`${engine.label || engine.id} is ready`);
  return true;
}

