// ComfyUI from the library, and stacks: remix a picture's own workflow, run a workflow on a selection
// (both go to the task panel), link ComfyUIs (settings), and the stack actions of the picture menu.

import { api } from "../api.js";
import { confirmAction, openDialog } from "../dialogs.js";
import { esc, toast } from "../ui.js";

function linkChoice(links) {
  if (links.length < 2) return "";
  return `<label for="comfy-link">ComfyUI</label><select id="comfy-link" name="link">${links.map((l) =>
    `<option value="${l.id}">${esc(l.url)}</option>`).join("")}</select>`;
}

async function linksOrSay() {
  const links = await api.get("/comfy/links").catch(() => []);
  if (!links.length) toast("Link a ComfyUI first: Settings › ComfyUI");
  return links;
}

/** Re-run a picture's own workflow with a new or pinned seed, a prompt and LoRA strengths. */
export async function remixDialog(app, pictureId) {
  const picture = await api.get(`/pictures/${pictureId}`);
  const generation = picture.generation;
  if (!generation?.raw_prompt) { toast("This picture carries no ComfyUI workflow to remix"); return; }
  const links = await linksOrSay();
  if (!links.length) return;
  const loras = generation.loras || [];
  const run = await openDialog(`<h2>Remix in ComfyUI</h2>
    <label for="remix-seed">Seed (empty: a new random one; it was ${esc(generation.seed ?? "unknown")})</label>
    <input id="remix-seed" name="seed" inputmode="numeric" pattern="[0-9]*" autocomplete="off">
    <label for="remix-prompt">Prompt</label>
    <textarea id="remix-prompt" name="prompt" rows="4">${esc(generation.positive || "")}</textarea>
    ${loras.map((l, n) => `<label for="remix-lora-${n}">LoRA ${esc(l.name)}</label>
      <input id="remix-lora-${n}" name="lora-${n}" data-lora="${esc(l.name)}" type="number" step="0.05" value="${l.strength ?? 1}">`).join("")}
    ${linkChoice(links)}
    <p class="error" role="alert"></p>
    <div class="actions"><button type="button" data-cancel>Cancel</button><button class="primary">Remix</button></div>`,
  async (form) => {
    const body = { picture_id: pictureId };
    if (form.seed.value.trim()) body.seed = Number(form.seed.value.trim());
    if (form.prompt.value !== (generation.positive || "")) body.prompt = form.prompt.value;
    const changed = {};
    form.querySelectorAll("[data-lora]").forEach((input) => { changed[input.dataset.lora] = Number(input.value); });
    if (Object.keys(changed).length) body.loras = changed;
    if (form.link) body.link = Number(form.link.value);
    return api.post("/comfy/remix", body);
  });
  if (run) { toast(`Remix queued in ComfyUI (run ${run.id})`); app.showPanel("tasks"); }
}

/** Run a workflow (pasted API JSON, or the one a picture carries) once per selected picture. */
export async function runDialog(app, ids) {
  const links = await linksOrSay();
  if (!links.length) return;
  const runs = await openDialog(`<h2>Run a ComfyUI workflow on ${ids.length.toLocaleString()} picture${ids.length === 1 ? "" : "s"}</h2>
    <p class="muted">Each picture goes to the workflow's LoadImage node; what its Save Image saves comes back
      stacked on the picture.</p>
    <label for="run-from">The workflow of picture # (empty: paste one below)</label>
    <input id="run-from" name="from" inputmode="numeric" autocomplete="off">
    <label for="run-workflow">Workflow in API format (ComfyUI: Workflow › Export (API))</label>
    <textarea id="run-workflow" name="workflow" rows="6" spellcheck="false"></textarea>
    <label for="run-node">LoadImage node id (empty: its only one)</label>
    <input id="run-node" name="node" autocomplete="off">
    ${linkChoice(links)}
    <p class="error" role="alert"></p>
    <div class="actions"><button type="button" data-cancel>Cancel</button><button class="primary">Run</button></div>`,
  async (form) => {
    const body = { picture_ids: ids };
    if (form.from.value.trim()) body.workflow_from = Number(form.from.value.trim());
    else {
      try { body.workflow = JSON.parse(form.workflow.value); } catch { throw new Error("The workflow is not JSON: paste ComfyUI's Export (API) file"); }
    }
    if (form.node.value.trim()) body.image_node = form.node.value.trim();
    if (form.link) body.link = Number(form.link.value);
    return api.post("/comfy/runs", body);
  });
  if (runs) { toast(`${runs.length} run${runs.length === 1 ? "" : "s"} queued in ComfyUI`); app.showPanel("tasks"); }
}

/** The task panel's section: recent workflow runs, with cancel for those not finished. */
export async function comfyRunsSection() {
  const runs = await api.get("/comfy/runs").catch(() => []);
  if (!runs.length) return "";
  return `<section id="comfy-runs"><h3>ComfyUI runs</h3><div class="list">${runs.slice(0, 20).map((r) => `<div class="row" data-run="${r.id}">
    <span>#${r.id} ${esc(r.kind)} of picture ${r.source_id ?? "?"}</span>
    <span class="muted">${esc(r.status)} · ${esc(r.message)}</span>
    ${r.output_ids.length ? `<a href="/?picture=${r.output_ids[0]}" data-nav>Open the result</a>` : ""}
    ${r.status === "queued" || r.status === "running" ? `<button data-cancel-run="${r.id}">Cancel</button>` : ""}</div>`).join("")}</div></section>`;
}

export function bindComfyRuns(panel, rerender) {
  panel.querySelectorAll("[data-cancel-run]").forEach((b) => {
    b.onclick = async () => { await api.post(`/comfy/runs/${b.dataset.cancelRun}/cancel`).catch((e) => toast(e.message)); rerender(); };
  });
}

/** Settings: the linked ComfyUIs, and a form to link one. */
export async function comfySettingsSection() {
  const links = await api.get("/comfy/links").catch(() => null);
  if (links === null) return "";  // not an administrator
  return `<section><h3>ComfyUI</h3><div class="list" aria-label="Linked ComfyUIs">${links.map((l) => `<div class="row">
    <span>${esc(l.url)}</span><button data-unlink="${l.id}">Unlink</button></div>`).join("") || '<p class="muted">None linked.</p>'}</div>
    <form id="comfy-link-form" class="list"><label for="comfy-url">ComfyUI address</label>
    <input id="comfy-url" name="url" type="url" placeholder="http://127.0.0.1:8188" required>
    <button>Link</button></form></section>`;
}

export function bindComfySettings(panel, rerender) {
  const form = panel.querySelector("#comfy-link-form");
  if (!form) return;
  form.onsubmit = async (event) => {
    event.preventDefault();
    try { toast((await api.post("/comfy/links", { url: form.url.value.trim() })).message); rerender(); } catch (e) { toast(e.message); }
  };
  panel.querySelectorAll("[data-unlink]").forEach((b) => {
    b.onclick = async () => {
      if (!(await confirmAction("Unlink this ComfyUI?", "The token its PixlStash nodes had is revoked.", { ok: "Unlink" }))) return;
      await api.del(`/comfy/links/${b.dataset.unlink}`).catch((e) => toast(e.message));
      rerender();
    };
  });
}

/** The picture menu's stack and ComfyUI items for ``ids`` (tiles). */
export function stackItems(app, ids) {
  const summary = ids.length === 1 ? app.grid.details.get(ids[0]) : null;
  const reload = () => { app.grid.clearSelection(); app.load({ keepScroll: true }); window.dispatchEvent(new CustomEvent("pixlstash:history")); };
  const act = (request, said) => async () => { try { await request(); toast(said); reload(); } catch (e) { toast(e.message); } };
  const items = [];
  if (ids.length > 1) items.push(["Stack them", act(() => api.post("/stacks", { ids }), `Stacked ${ids.length} pictures`)]);
  if (summary?.stack_id && summary.stack_size > 1) {
    const stack = summary.stack_id;
    if (app.view.stack) items.push(["Make this the cover", act(() => api.put(`/stacks/${stack}/cover`, { picture_id: ids[0] }), "Cover changed")]);
    if (app.view.stack) items.push(["Take out of the stack", act(() => api.post("/stacks/take-out", { ids }), "Taken out of the stack")]);
    items.push(["Open the stack", () => app.navigate({ stack })]);
    items.push(["Keep the cover, scrap the rest", act(() => api.post(`/stacks/${stack}/keep-cover`), "Kept the cover; the rest is in the scrapheap")]);
    items.push(["Unstack", act(() => api.del(`/stacks/${stack}`), "Unstacked")]);
  }
  if (ids.length === 1) items.push(["Remix in ComfyUI…", () => remixDialog(app, ids[0])]);
  items.push(["Run a ComfyUI workflow on these…", async () => runDialog(app, await app.expand(ids))]);
  return items;
}
