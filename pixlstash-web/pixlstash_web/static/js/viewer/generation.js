// The viewer's Generation section: the prompt, model, LoRAs and settings a generator wrote, and its workflow.

import { esc } from "../ui.js";

export function generation(p) {
  const g = p.generation;
  const workflow = g.raw_workflow
    ? `<a download="workflow-${p.id}.json" href="data:application/json;charset=utf-8,${encodeURIComponent(g.raw_workflow)}">Download workflow</a>` : "";
  return `<h3>Generation (${esc(g.tool)})</h3><dl class="kv">
    <dt>Prompt</dt><dd>${esc(g.positive)}</dd>${g.negative ? `<dt>Negative</dt><dd>${esc(g.negative)}</dd>` : ""}
    ${g.checkpoint ? `<dt>Model</dt><dd>${esc(g.checkpoint)}</dd>` : ""}
    ${(g.loras || []).map((l) => `<dt>LoRA</dt><dd>${esc(l.name)}${l.weight != null ? ` (${l.weight})` : ""}</dd>`).join("")}
    ${g.seed != null ? `<dt>Seed</dt><dd>${esc(g.seed)}</dd>` : ""}${g.sampler ? `<dt>Sampler</dt><dd>${esc(g.sampler)}</dd>` : ""}
    ${g.steps ? `<dt>Steps</dt><dd>${g.steps}</dd>` : ""}${g.cfg ? `<dt>CFG</dt><dd>${g.cfg}</dd>` : ""}</dl>${workflow}`;
}
