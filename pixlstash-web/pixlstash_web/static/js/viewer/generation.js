// The viewer's Generation section (the prompt, model, LoRAs and settings a generator wrote, and its workflow)
// and its Content Credentials section (who made it, who signed it, whether that verifies).

import { esc } from "../ui.js";

// The generators by the names they go by.
const TOOLS = { comfyui: "ComfyUI", a1111: "A1111", forge: "Forge", reforge: "reForge", sdnext: "SD.Next", civitai: "Civitai",
  swarmui: "SwarmUI", invokeai: "InvokeAI", novelai: "NovelAI", fooocus: "Fooocus", easydiffusion: "Easy Diffusion",
  drawthings: "Draw Things", midjourney: "Midjourney" };

export function generation(p) {
  const g = p.generation;
  const workflow = g.raw_workflow
    ? `<a download="workflow-${p.id}.json" href="data:application/json;charset=utf-8,${encodeURIComponent(g.raw_workflow)}">Download workflow</a>` : "";
  return `<h3>Generation (${esc(TOOLS[g.tool] || g.tool)})</h3><dl class="kv">
    <dt>Prompt</dt><dd>${esc(g.positive)}</dd>${g.negative ? `<dt>Negative</dt><dd>${esc(g.negative)}</dd>` : ""}
    ${g.checkpoint ? `<dt>Model</dt><dd>${esc(g.checkpoint)}</dd>` : ""}
    ${(g.loras || []).map((l) => `<dt>LoRA</dt><dd>${esc(l.name)}${l.weight != null ? ` (${l.weight})` : ""}</dd>`).join("")}
    ${g.seed != null ? `<dt>Seed</dt><dd>${esc(g.seed)}</dd>` : ""}${g.sampler ? `<dt>Sampler</dt><dd>${esc(g.sampler)}</dd>` : ""}
    ${g.scheduler ? `<dt>Scheduler</dt><dd>${esc(g.scheduler)}</dd>` : ""}
    ${g.steps ? `<dt>Steps</dt><dd>${g.steps}</dd>` : ""}${g.cfg != null ? `<dt>CFG</dt><dd>${g.cfg}</dd>` : ""}
    ${g.guidance != null ? `<dt>Guidance</dt><dd>${g.guidance}</dd>` : ""}</dl>${workflow}`;
}

const VERDICTS = { trusted: "signature valid, signer trusted", valid: "signature valid, signer not on the trust list",
  invalid: "does not verify" };

export function credentialsSection(c) {
  return `<h3>Content Credentials</h3><dl class="kv" id="credentials">
    <dt>Verdict</dt><dd class="c2pa-${esc(c.state)}">${esc(VERDICTS[c.state] || c.state)}</dd>
    ${c.generator ? `<dt>Made with</dt><dd>${esc(c.generator)}</dd>` : ""}
    ${c.signer ? `<dt>Signed by</dt><dd>${esc(c.signer)}</dd>` : ""}
    ${c.actions?.length ? `<dt>Actions</dt><dd>${c.actions.map((a) => esc(a.replace(/^c2pa\./, ""))).join(", ")}</dd>` : ""}
    ${c.problems?.length && c.state === "invalid" ? `<dt>Problems</dt><dd>${c.problems.map(esc).join(", ")}</dd>` : ""}</dl>`;
}
