// The training-set export dialog: caption and image options with a live preview of the first three
// captions exactly as the export writes them, then a zip the browser downloads as the server makes it.
// Options are remembered per set or character.

import { api } from "../api.js";
import { nameDialog } from "../dialogs.js";
import { esc, toast } from "../ui.js";

const $ = (id) => document.getElementById(id);

const FIELDS = [
  ["caption", "select", "Caption file", ["auto", "caption", "tags", "predictions", "template"]],
  ["template", "text", "Template ({trigger}, {caption}, {tags}, {character_tags}, {general_tags}, {predicted_tags}, {name})"],
  ["trigger", "text", "Trigger word (first)"],
  ["repeats", "number", "Repeats (kohya folder N_trigger; 0: none)"],
  ["min_confidence", "number", "Predicted tags from confidence"],
  ["order", "select", "Tag order", ["confidence", "frequency", "name"]],
  ["character_first", "checkbox", "Character tags first"],
  ["underscores", "checkbox", "Underscores in tags"],
  ["exclude_tags", "list", "Tags to leave out (comma separated)"],
  ["max_tags", "number", "At most this many tags (0: all)"],
  ["second_file", "checkbox", "Also write .caption files"],
  ["image_format", "select", "Images (auto: formats trainers read kept, others as PNG)", ["auto", "original", "png", "jpeg", "webp"]],
  ["max_side", "number", "Long side at most (px; 0: as they are)"],
  ["bucket_resolution", "number", "Aspect buckets (1024 for SDXL; 0: none)"],
  ["names", "select", "File names", ["id", "original"]],
  ["videos", "select", "Videos", ["skip", "poster"]],
];
const DEFAULTS = { caption: "auto", template: "{trigger}, {caption}", trigger: "", repeats: 0, min_confidence: 0.35,
  order: "confidence", character_first: true, underscores: false, exclude_tags: [], max_tags: 0, second_file: false,
  image_format: "auto", max_side: 0, bucket_resolution: 0, names: "id", videos: "skip" };

function field([name, type, label, choices], value) {
  const id = `export-${name}`;
  if (type === "checkbox") return `<label class="row"><input type="checkbox" id="${id}" name="${name}" ${value ? "checked" : ""}> ${esc(label)}</label>`;
  if (type === "select") {
    return `<label for="${id}">${esc(label)}</label><select id="${id}" name="${name}">${choices.map((c) =>
      `<option ${c === value ? "selected" : ""}>${c}</option>`).join("")}</select>`;
  }
  const shown = Array.isArray(value) ? value.join(", ") : value;
  return `<label for="${id}">${esc(label)}</label><input id="${id}" name="${name}" type="${type === "number" ? "number" : "text"}"
    ${type === "number" ? 'min="0" step="any"' : ""} value="${esc(shown)}">`;
}

function read(form) {
  const options = {};
  for (const [name, type] of FIELDS) {
    const el = form.elements[name];
    if (type === "checkbox") options[name] = el.checked;
    else if (type === "number") options[name] = Number(el.value || 0);
    else if (type === "list") options[name] = el.value.split(",").map((s) => s.trim()).filter(Boolean);
    else options[name] = el.value;
  }
  return options;
}

/** Export pictures for training: ``selection`` is {collection: {id, name}} or {project: {id, name}} or {ids}. */
export async function exportDialog(app, selection) {
  const filter = selection.collection ? { collections: [selection.collection.id] }
    : selection.project ? { project: selection.project.id } : { ids: selection.ids };
  const name = selection.collection?.name || selection.project?.name || `${selection.ids.length} pictures`;
  let remembered = {};
  if (selection.collection) {
    try { remembered = await api.get(`/exports/options/${selection.collection.id}`); } catch { remembered = {}; }
  }
  const options = { ...DEFAULTS, ...remembered };
  const backdrop = $("dialog");
  const box = backdrop.querySelector(".dialog");
  box.innerHTML = `<form class="export-form"><h2>Export ${esc(name)} for training</h2>
    <div class="export-grid">${FIELDS.map((f) => `<div class="export-field">${field(f, options[f[0]])}</div>`).join("")}</div>
    <section aria-label="Preview" id="export-preview"><p class="muted">Preparing the preview…</p></section>
    <div class="actions"><button type="button" data-cancel>Close</button><button class="primary" id="export-download">Download zip</button></div></form>`;
  nameDialog(box);
  backdrop.hidden = false;
  const form = box.querySelector("form");
  const preview = box.querySelector("#export-preview");
  let timer = 0;
  let asked = 0;
  const refresh = async () => {
    const mine = ++asked;
    try {
      const result = await api.post("/exports/preview", { filter, options: read(form) });
      if (mine !== asked) return;  // a newer preview is on its way
      preview.innerHTML = `<p><strong>${result.pictures}</strong> pictures${result.folder ? ` in <code>${esc(result.folder)}/</code>` : ""}
        ${result.missing.length ? ` · <span class="error">${result.missing.length} with a missing original (left out)</span>` : ""}
        ${result.videos_left_out.length ? ` · ${result.videos_left_out.length} videos left out` : ""}</p>
        ${result.warnings.map((w) => `<p class="warning">${esc(w)}</p>`).join("")}
        <ol class="export-samples">${result.samples.map((s) => `<li><code>${esc(s.file)}</code><div class="export-caption">${esc(s.caption) || '<span class="muted">(no caption file)</span>'}</div></li>`).join("")}</ol>`;
    } catch (error) {
      if (mine === asked) preview.innerHTML = `<p class="error">${esc(error.message)}</p>`;
    }
  };
  const templateShown = () => {  // the template field matters only for template captions
    form.elements.template.closest(".export-field").hidden = form.elements.caption.value !== "template";
  };
  templateShown();
  form.oninput = () => { templateShown(); clearTimeout(timer); timer = setTimeout(refresh, 200); };
  form.onchange = form.oninput;
  box.querySelector("[data-cancel]").onclick = () => { backdrop.hidden = true; };
  form.onkeydown = (e) => { if (e.key === "Escape") { e.stopPropagation(); backdrop.hidden = true; } };
  form.onsubmit = async (event) => {
    event.preventDefault();
    const chosen = read(form);
    try {
      const started = await api.post("/exports", { filter, options: chosen, name });
      if (selection.collection) await api.put(`/exports/options/${selection.collection.id}`, chosen).catch(() => {});
      const link = document.createElement("a");
      link.href = started.url;  // the browser saves it as it streams: nothing is held in memory
      link.download = "";
      document.body.append(link);
      link.click();
      link.remove();
      toast(`Exporting ${started.pictures} pictures`);
      backdrop.hidden = true;
    } catch (error) { toast(error.message); }
  };
  refresh();
}
