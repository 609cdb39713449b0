// The insights panel: which generation settings make the pictures kept in this view (POST
// /insights/keepers). Each setting's values with their keep rate, its 95 % interval and the view's own
// rate; a value that is a filter (checkpoint, LoRA, sampler, scheduler, steps, a prompt word) shows its
// pictures when clicked. What "kept" means is the person's choice, remembered in this browser.

import { api } from "../api.js";
import { rateChart } from "../charts.js";
import { esc, toast } from "../ui.js";
import { filterParams } from "../view.js";
import { prefs } from "../prefs.js";

const KEPT_KEY = "insights.kept";
const TITLES = { checkpoint: "Checkpoint", lora: "LoRA", lora_weight: "LoRA and weight", sampler: "Sampler",
  scheduler: "Scheduler", steps: "Steps", cfg: "CFG", guidance: "Guidance", size: "Size", prompt_word: "Prompt words" };
// The view a value's pictures are: added to the view shown (what the insights were over).
const FILTERS = {
  checkpoint: (v) => ({ checkpoint: v }), lora: (v) => ({ loras: [v] }), lora_weight: (v) => ({ loras: [v.split("@")[0]] }),
  sampler: (v) => ({ sampler: v }), scheduler: (v) => ({ scheduler: v }), steps: (v) => ({ steps: Number(v) }),
  prompt_word: (v) => ({ q: v, mode: undefined }),
};
const NUMERIC = new Set(["steps", "cfg", "guidance"]);
const SHOWN = 10;  // values per setting before "more"

const percent = (v) => `${Math.round(v * 100)}%`;

function keptRule() {
  try { return JSON.parse(prefs.get(KEPT_KEY)) || { by: "rating", min_rating: 4 }; } catch { return { by: "rating", min_rating: 4 }; }
}

export async function renderInsights(app, panel, frame) {
  const { header, bindClose } = frame;
  const kept = keptRule();
  const sets = (app.sidebar.collections || []).filter((c) => c.kind === "set");
  const minPictures = Number(prefs.get(`${KEPT_KEY}.min`)) || 20;
  panel.innerHTML = `${header("Insights")}
    <form class="insights-form" aria-label="What kept means">
      <label>Kept means <select name="by">
        <option value="rating">rated at least</option><option value="set">in a set</option>
        <option value="not-scrapped">not scrapped</option></select></label>
      <label data-for="rating">stars <select name="min_rating">${[1, 2, 3, 4, 5].map((n) =>
        `<option value="${n}">${"★".repeat(n)}</option>`).join("")}</select></label>
      <label data-for="set">set <select name="set_id">${sets.map((s) => `<option value="${s.id}">${esc(s.name)}</option>`).join("")}</select></label>
      <label>values on at least <input name="min_pictures" type="number" min="1" max="100000" value="${minPictures}"> pictures</label>
    </form>
    <div class="insights-body"><p class="muted">Loading…</p></div>`;
  bindClose(panel);
  const form = panel.querySelector("form");
  form.by.value = kept.by;
  form.min_rating.value = String(kept.min_rating || 4);
  if (kept.set_id && sets.some((s) => s.id === kept.set_id)) form.set_id.value = String(kept.set_id);
  const shown = () => {
    form.querySelector('[data-for="rating"]').hidden = form.by.value !== "rating";
    form.querySelector('[data-for="set"]').hidden = form.by.value !== "set";
  };
  shown();
  form.onchange = () => {
    shown();
    const rule = { by: form.by.value, min_rating: Number(form.min_rating.value), ...(form.by.value === "set" && form.set_id.value
      ? { set_id: Number(form.set_id.value) } : {}) };
    prefs.set(KEPT_KEY, JSON.stringify(rule));
    prefs.set(`${KEPT_KEY}.min`, String(Math.max(1, Number(form.min_pictures.value) || 20)));
    renderInsights(app, panel, frame);
  };
  form.onsubmit = (e) => e.preventDefault();
  if (kept.by === "set" && !sets.length) {
    panel.querySelector(".insights-body").innerHTML = `<p class="muted">No sets yet: make one, or choose another meaning of kept.</p>`;
    return;
  }
  const rule = { by: kept.by, ...(kept.by === "rating" ? { min_rating: kept.min_rating || 4 } : {}),
    ...(kept.by === "set" ? { set_id: kept.set_id && sets.some((s) => s.id === kept.set_id) ? kept.set_id : sets[0].id } : {}) };
  let report;
  try {
    report = await api.post("/insights/keepers", { filter: filterParams(app.view), kept: rule, min_pictures: minPictures });
  } catch (error) { toast(error.message); return; }
  if (!panel.isConnected || panel.dataset.panel !== "insights") return;
  showReport(app, panel.querySelector(".insights-body"), report);
}

function showReport(app, body, report) {
  if (!report.pictures) {
    body.innerHTML = `<p class="muted">No picture in this view has generation data (ComfyUI, A1111, Forge,
      InvokeAI and the other generators' files bring it).</p>`;
    return;
  }
  const sections = Object.entries(report.settings).filter(([, stats]) => stats.length);
  body.innerHTML = `<p class="insights-summary">${report.pictures.toLocaleString()} pictures with generation data:
      <strong>${report.kept.toLocaleString()} kept (${percent(report.rate)})</strong>.</p>
    ${report.findings.length ? `<section><h3>What stands out</h3><ul class="findings">${report.findings.slice(0, 8).map((f, i) =>
      `<li class="${f.direction}">${FILTERS[f.stat.setting] ? `<button type="button" class="link" data-finding="${i}">${esc(f.text)}</button>`
        : esc(f.text)}</li>`).join("")}</ul></section>`
      : `<p class="muted">Nothing stands out yet: no value is kept more or less often than the view as a whole,
        beyond chance (values on fewer than ${report.min_pictures} pictures are not counted).</p>`}
    ${sections.map(([setting, stats]) => `<section data-setting="${setting}"><h3>${esc(TITLES[setting] || setting)}</h3>
      <div class="setting-chart"></div></section>`).join("")}`;
  body.querySelectorAll("[data-finding]").forEach((b) => {
    const stat = report.findings[Number(b.dataset.finding)].stat;
    b.onclick = () => app.update(FILTERS[stat.setting](stat.value));
  });
  for (const [setting, stats] of sections) {
    const box = body.querySelector(`[data-setting="${setting}"] .setting-chart`);
    const pick = FILTERS[setting] ? (stat) => app.update(FILTERS[setting](stat.value)) : null;
    if (NUMERIC.has(setting) && stats.length >= 2) {
      const points = stats.map((s) => ({ value: Number(s.value), rate: s.rate, low: s.rate_low, high: s.rate_high,
        pictures: s.pictures, stat: s })).sort((a, b) => a.value - b.value);
      rateChart(box, { title: `Kept by ${TITLES[setting]}`, points, overall: report.rate,
        onPick: pick && ((i) => pick(points[i].stat)) }).catch((error) => toast(error.message));
    } else {
      rateBars(box, stats, report.rate, pick);
    }
  }
}

/** A value per row: its keep rate as a bar, the 95 % interval as a whisker over it, the view's own rate
 * as a mark; a button when the value is a filter. */
function rateBars(box, stats, overall, pick, limit = SHOWN) {
  const top = Math.max(overall, ...stats.map((s) => s.rate_high)) * 1.05 || 1;
  const x = (v) => `${((100 * v) / top).toFixed(1)}%`;
  const rows = stats.slice(0, limit);
  box.innerHTML = `<div class="rate-bars">${rows.map((s, i) => {
    const said = `${s.label}: kept ${percent(s.rate)} (95% interval ${percent(s.rate_low)} to ${percent(s.rate_high)}), ${
      s.lift.toFixed(1)}× the view's rate, ${s.pictures.toLocaleString()} pictures`;
    return `<div class="rate-bar" ${pick ? `role="button" tabindex="0"` : `role="group"`} data-row="${i}" aria-label="${esc(said)}" title="${esc(said)}">
      <span class="label">${esc(s.value.replace("@", " at "))}</span>
      <span class="track" aria-hidden="true"><span class="fill ${s.lift_low > 1 ? "above" : s.lift_high < 1 ? "below" : ""}"
        style="width:${x(s.rate)}"></span><span class="interval" style="left:${x(s.rate_low)};width:${x(s.rate_high - s.rate_low)}"></span>
        <span class="overall" style="left:${x(overall)}"></span></span>
      <span class="value" aria-hidden="true">${percent(s.rate)} · ${s.pictures.toLocaleString()}</span></div>`;
  }).join("")}</div>${stats.length > limit ? `<button type="button" class="link" data-more>All ${stats.length} values</button>` : ""}`;
  if (pick) {
    box.querySelectorAll("[data-row]").forEach((el) => {
      const run = () => pick(rows[Number(el.dataset.row)]);
      el.onclick = run;
      el.onkeydown = (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); run(); } };
    });
  }
  const more = box.querySelector("[data-more]");
  if (more) more.onclick = () => rateBars(box, stats, overall, pick, stats.length);
}
