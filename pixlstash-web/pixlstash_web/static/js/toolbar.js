// The toolbar, in three groups: the order (sort and direction), the filters (one "Filters" panel, and
// each filter in force as a chip that removes it), and the view (count, layout, tile size).

import { api } from "./api.js";
import { pruneDialog, scorers } from "./menus/prune_dialog.js";
import { esc, icon, toast } from "./ui.js";
import { DEFAULTS } from "./view.js";

const $ = (id) => document.getElementById(id);

const SORTS = [["taken_at", "Date taken"], ["imported_at", "Date imported"], ["rating", "Rating"],
  ["file_size", "File size"], ["pixels", "Pixels"], ["random", "Random"]];
// Generation-data filters: [view key, label].
const GENERATION_FILTERS = [["loras", "LoRA"], ["checkpoint", "checkpoint"], ["sampler", "sampler"],
  ["scheduler", "scheduler"], ["generation_seed", "seed"], ["steps", "steps"]];

// The Filters panel closes on a press anywhere outside it (and on Esc, in keyboard.js).
document.addEventListener("pointerdown", (event) => {
  const open = document.querySelector(".filters[open]");
  if (open && !open.contains(event.target)) open.open = false;
});

function countText(n, hits) {
  const [one, many] = hits ? ["match", "matches"] : ["picture", "pictures"];
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** The view's count once its whole layout is in; until then "counting…", never the tiles loaded so far
 * (a count of 0, then of the first page's 120, for a view of 100,000). */
export function viewCountText(app) {
  return app.viewCount === null ? "counting…" : countText(app.viewCount, app.hits);
}

/** Whether an installed embedder with its model here can read words (CLIP and the like). */
export function canSearchByMeaning(app) {
  return !meaningUnavailable(app);
}

/** Why a search by meaning cannot run now, in a few words; "" when it can. */
function meaningUnavailable(app) {
  const readers = app.engines.filter((e) => e.task === "embedder" && e.supports_text);
  if (!readers.length) return "no embedder that reads words (such as CLIP) is installed";
  if (!readers.some((e) => e.model.present)) return `the model of ${readers[0].label} is missing (Settings › Engines)`;
  return "";
}

/** The search box's mode list: Meaning is offered only when it can run, and says why when it cannot. */
export function showSearchModes(app) {
  const option = $("search-mode").options[1];
  const why = meaningUnavailable(app);
  option.disabled = Boolean(why);
  option.textContent = why ? "Meaning (unavailable)" : "Meaning";
  option.title = why ? `Search by meaning is unavailable: ${why}` : "";
}

/** Each filter in force: [label, the view changes that remove it]. */
function activeFilters(view) {
  const chips = [];
  if (view.stack) chips.push([`stack ${view.stack}`, { stack: undefined }]);  // an opened stack: its chip closes it
  if (view.variants) chips.push(["every variant", { variants: undefined }]);
  if (view.rating_min) chips.push([`rating ≥ ${view.rating_min}`, { rating_min: undefined }]);
  if (view.rating_max !== undefined) chips.push([`rating ≤ ${view.rating_max}`, { rating_max: undefined }]);
  if (view.unrated) chips.push(["unrated", { unrated: undefined }]);
  if (view.favourite) chips.push(["favourites", { favourite: undefined }]);
  if (view.media_type) chips.push([`${view.media_type}s`, { media_type: undefined }]);
  for (const t of view.tags || []) chips.push([t, { tags: view.tags.filter((x) => x !== t) }]);
  for (const t of view.not_tags || []) chips.push([`not ${t}`, { not_tags: view.not_tags.filter((x) => x !== t) }]);
  if (view.taken_after) chips.push([`after ${day(view.taken_after)}`, { taken_after: undefined }]);
  if (view.taken_before) chips.push([`before ${day(view.taken_before)}`, { taken_before: undefined }]);
  if (view.min_width) chips.push([`width ≥ ${view.min_width}`, { min_width: undefined }]);
  if (view.min_height) chips.push([`height ≥ ${view.min_height}`, { min_height: undefined }]);
  if (view.duplicates) chips.push(["near-duplicates", { duplicates: undefined }]);
  if (view.has_text) chips.push([view.has_text === "yes" ? "has text" : "no text", { has_text: undefined }]);
  if (view.made) chips.push([view.made === "ai" ? "made by AI" : "not AI", { made: undefined }]);
  if (view.score_engine) {
    const name = view.score_engine.split("/")[1];
    const range = [view.score_min !== undefined && `≥ ${view.score_min}`, view.score_max !== undefined && `< ${view.score_max}`];
    chips.push([`${name} ${range.filter(Boolean).join(" ") || "scored"}`,
      { score_engine: undefined, score_min: undefined, score_max: undefined }]);
  }
  for (const [key, label] of GENERATION_FILTERS) {
    if (view[key] !== undefined && `${view[key]}` !== "") chips.push([`${label} ${view[key]}`, { [key]: undefined }]);
  }
  return chips;
}

export function renderToolbar(app) {
  const view = app.view;
  const bar = $("toolbar");
  const wasOpen = bar.querySelector(".filters")?.open; // a re-render keeps the panel as it was
  const chips = activeFilters(view);
  const scoring = scorers(app);
  const sorts = [...SORTS, ...scoring.map((e) => [`score:${e.id}`, `Score: ${e.label}`])];
  bar.innerHTML = `
    <div class="group sort-group">
      <select id="sort" aria-label="Sort by" title="Sort by">${sorts.map(([v, l]) =>
        `<option value="${esc(v)}" ${(view.sort || "taken_at") === v ? "selected" : ""}>${esc(l)}</option>`).join("")}</select>
      <button id="direction" class="icon" aria-label="Sort direction: ${view.asc ? "ascending" : "descending"}"
        title="${view.asc ? "Oldest or smallest first" : "Newest or largest first"}">${icon(view.asc ? "arrow-up-narrow-wide" : "arrow-down-wide-narrow")}</button>
      ${view.sort?.startsWith("score:") ? `<button id="prune" title="Scrap the lowest-scored pictures">${icon("scissors")}<span>Prune…</span></button>` : ""}
    </div>
    <details class="filters group"${wasOpen ? " open" : ""}>
      <summary aria-label="Filters${chips.length ? ` (${chips.length} on)` : ""}">${icon("sliders-horizontal")}<span>Filters</span>${chips.length ? `<span class="count-badge">${chips.length}</span>` : ""}</summary>
      <div class="filters-panel" role="group" aria-label="Filters">
        <label>Rating at least <select id="rating-min" aria-label="Minimum rating">${[0, 1, 2, 3, 4, 5].map((r) =>
          `<option value="${r}" ${(view.rating_min || 0) === r ? "selected" : ""}>${r ? "★".repeat(r) : "any"}</option>`).join("")}</select></label>
        <label>Type <select id="media-type" aria-label="Media type"><option value="">all</option>
          <option value="image" ${view.media_type === "image" ? "selected" : ""}>images</option>
          <option value="video" ${view.media_type === "video" ? "selected" : ""}>videos</option></select></label>
        <label class="check"><input type="checkbox" id="favourite" ${view.favourite ? "checked" : ""}> Favourites</label>
        <label class="check"><input type="checkbox" id="unrated" ${view.unrated ? "checked" : ""}> Unrated</label>
        <label class="check"><input type="checkbox" id="duplicates" ${view.duplicates ? "checked" : ""}> Near-duplicates</label>
        <label>Text in the picture <select id="has-text" aria-label="Text in the picture"
          title="As read by a text reader (OCR); pictures not read yet are neither"><option value="">any</option>
          <option value="yes" ${view.has_text === "yes" ? "selected" : ""}>has text</option>
          <option value="no" ${view.has_text === "no" ? "selected" : ""}>no text</option></select></label>
        <label>Made by <select id="made" aria-label="Made by"
          title="Generative AI: generation data, or its IPTC digital source type says so"><option value="">anything</option>
          <option value="ai" ${view.made === "ai" ? "selected" : ""}>generative AI</option>
          <option value="not-ai" ${view.made === "not-ai" ? "selected" : ""}>not AI</option></select></label>
        <label>With tag <input id="tag-filter" list="tag-names" placeholder="tag" aria-label="Filter by tag" autocomplete="off"></label>
        <label>Without tag <input id="not-tag" list="tag-names" aria-label="Without tag" autocomplete="off"></label>
        <label>Taken after <input id="taken-after" type="date" aria-label="Taken after" value="${day(view.taken_after)}"></label>
        <label>Taken before <input id="taken-before" type="date" aria-label="Taken before" value="${day(view.taken_before)}"></label>
        <label>Min width <input id="min-width" type="number" min="0" aria-label="Minimum width" value="${view.min_width || ""}"></label>
        <label>Min height <input id="min-height" type="number" min="0" aria-label="Minimum height" value="${view.min_height || ""}"></label>
        <fieldset class="generation-filters"><legend>Generated with</legend>
          <label>LoRA <input id="lora-filter" placeholder="name, name" aria-label="LoRA names (all of them)"
            value="${esc((view.loras || []).join(", "))}"></label>
          <label>Checkpoint <input id="checkpoint-filter" aria-label="Checkpoint name" value="${esc(view.checkpoint || "")}"></label>
          <label>Sampler <input id="sampler-filter" aria-label="Sampler" value="${esc(view.sampler || "")}"></label>
          <label>Scheduler <input id="scheduler-filter" aria-label="Scheduler" value="${esc(view.scheduler || "")}"></label>
          <label>Seed <input id="seed-filter" inputmode="numeric" pattern="-?[0-9]+" aria-label="Seed"
            aria-describedby="seed-error" value="${esc(view.generation_seed || "")}"><small class="error"
            id="seed-error" role="alert"></small></label>
          <label>Steps <input id="steps-filter" type="number" min="1" aria-label="Steps" value="${view.steps || ""}"></label>
        </fieldset>
        ${scoring.length ? `<fieldset class="score-filters"><legend>Score</legend>
          <label>Scorer <select id="score-engine" aria-label="Scorer"><option value="">any</option>${scoring.map((e) =>
            `<option value="${esc(e.id)}" ${view.score_engine === e.id ? "selected" : ""}>${esc(e.label)}</option>`).join("")}</select></label>
          <label>At least <input id="score-min" type="number" step="any" aria-label="Score at least"
            value="${view.score_min ?? ""}" ${view.score_engine ? "" : "disabled"}></label>
          <label>Under <input id="score-max" type="number" step="any" aria-label="Score under"
            value="${view.score_max ?? ""}" ${view.score_engine ? "" : "disabled"}></label>
        </fieldset>` : ""}
      </div>
    </details>
    <datalist id="tag-names"></datalist>
    <span class="chips active-filters">${chips.map(([label], i) => `<span class="chip">${esc(label)}<button
      data-chip="${i}" aria-label="Remove filter ${esc(label)}">${icon("x")}</button></span>`).join("")}</span>
    <div class="group view-group">
      <span class="count" id="count">${viewCountText(app)}</span>
      <select id="layout" aria-label="Layout" title="Layout"><option value="square">Square</option>
        <option value="justified" ${view.layout === "justified" ? "selected" : ""}>Justified</option></select>
      <label class="size" title="Tile size">${icon("image")}<input id="size" type="range" min="80" max="400" step="10"
        value="${view.size || DEFAULTS.size}" aria-label="Thumbnail size"></label>
    </div>`;
  bind(app, view, chips);
  $("search").value = view.q || "";
  const mode = $("search-mode");
  mode.value = view.mode === "meaning" && canSearchByMeaning(app) ? "meaning" : "words";
  showSearchModes(app);
}

function bind(app, view, chips) {
  const bar = $("toolbar");
  $("sort").onchange = (e) => app.update({ sort: e.target.value === "taken_at" ? undefined : e.target.value,
    seed: e.target.value === "random" ? Math.floor(Math.random() * 1e9) : undefined });
  $("direction").onclick = () => app.update({ asc: view.asc ? undefined : true });
  $("rating-min").onchange = (e) => app.update({ rating_min: Number(e.target.value) || undefined });
  $("favourite").onchange = (e) => app.update({ favourite: e.target.checked || undefined });
  $("media-type").onchange = (e) => app.update({ media_type: e.target.value || undefined });
  $("layout").onchange = (e) => app.update({ layout: e.target.value }, { replace: true });
  $("size").oninput = (e) => app.resize(view.layout, Number(e.target.value));
  $("size").onchange = (e) => app.update({ size: Number(e.target.value) }, { replace: true });
  for (const [id, key] of [["tag-filter", "tags"], ["not-tag", "not_tags"]]) {
    $(id).oninput = (e) => suggestTags(e.target.value);
    $(id).onchange = async (e) => {
      const tag = await knownTag(e.target.value.trim());
      if (tag) app.update({ [key]: [...(view[key] || []), tag] });
    };
  }
  const date = (id, key) => { $(id).onchange = (e) => app.update({ [key]: e.target.value ? Date.parse(e.target.value) : undefined }); };
  date("taken-after", "taken_after");
  date("taken-before", "taken_before");
  $("min-width").onchange = (e) => app.update({ min_width: Number(e.target.value) || undefined });
  $("min-height").onchange = (e) => app.update({ min_height: Number(e.target.value) || undefined });
  $("unrated").onchange = (e) => app.update({ unrated: e.target.checked || undefined });
  $("duplicates").onchange = (e) => app.update({ duplicates: e.target.checked || undefined });
  $("has-text").onchange = (e) => app.update({ has_text: e.target.value || undefined });
  $("made").onchange = (e) => app.update({ made: e.target.value || undefined });
  $("lora-filter").onchange = (e) => app.update({ loras: e.target.value.split(",").map((v) => v.trim()).filter(Boolean) });
  const text = (id, key) => { $(id).onchange = (e) => app.update({ [key]: e.target.value.trim() || undefined }); };
  text("checkpoint-filter", "checkpoint");
  text("sampler-filter", "sampler");
  text("scheduler-filter", "scheduler");
  $("seed-filter").onchange = (e) => {
    const seed = e.target.value.trim();
    // Said beside the field until it is mended: a toast would go, or give way to another, too soon.
    const wrong = Boolean(seed) && !/^-?[0-9]+$/.test(seed);
    $("seed-error").textContent = wrong ? "A seed is a whole number" : "";
    e.target.setAttribute("aria-invalid", String(wrong));
    if (!wrong) app.update({ generation_seed: seed || undefined });
  };
  $("steps-filter").onchange = (e) => app.update({ steps: Number(e.target.value) || undefined });
  if ($("score-engine")) {
    $("score-engine").onchange = (e) => app.update(e.target.value ? { score_engine: e.target.value }
      : { score_engine: undefined, score_min: undefined, score_max: undefined });
    const bound = (id, key) => { $(id).onchange = (e) => app.update({ [key]: e.target.value === "" ? undefined : Number(e.target.value) }); };
    bound("score-min", "score_min");
    bound("score-max", "score_max");
  }
  if ($("prune")) $("prune").onclick = () => pruneDialog(app);
  bar.querySelectorAll("[data-chip]").forEach((b) => { b.onclick = () => app.update(chips[Number(b.dataset.chip)][1]); });
}

let tagSuggestion = 0;

/** Fill the tag inputs' datalist with the library's tags starting with what was typed, most used first. */
async function suggestTags(typed) {
  const asked = ++tagSuggestion;
  const prefix = typed.trim();
  let tags = [];
  if (prefix) {
    try { tags = await api.get("/tags", { prefix, limit: 20 }); } catch { return; }
  }
  if (asked !== tagSuggestion) return; // a later keystroke asked since
  $("tag-names").innerHTML = tags.map((t) =>
    `<option value="${esc(t.name)}">${esc(t.name)} (${t.picture_count.toLocaleString()})</option>`).join("");
}

/** The tag a typed name stands for (its own spelling, or an alias the server resolves), or null with a
 * toast naming the tags it may have meant: a misspelt tag never silently filters to nothing. */
async function knownTag(typed) {
  if (!typed) return null;
  const lower = typed.toLowerCase();
  const tags = await api.get("/tags", { prefix: typed, limit: 20 });
  const exact = tags.find((t) => t.name.toLowerCase() === lower);
  if (exact) return exact.name;
  const { count } = await api.get("/pictures/count", { tags: [typed] });
  if (count > 0) return typed; // an alias
  const near = await api.get("/tags", { prefix: typed.slice(0, Math.max(1, Math.min(3, typed.length - 1))), limit: 5 });
  toast(`No tag named “${typed}”.${near.length ? ` Did you mean ${near.map((t) => t.name).join(", ")}?` : ""}`, 6);
  return null;
}

function day(ms) {
  return ms ? new Date(ms).toISOString().slice(0, 10) : "";
}
