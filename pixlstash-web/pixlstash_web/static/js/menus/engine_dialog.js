// The per-request controls of an engine (JoyCaption's caption type, length and extra options, a tagger's
// thresholds, ...): one control per parameter the engine declares, filled with what was used last time
// for that engine, then the job is queued with them.

import { api } from "../api.js";
import { nameDialog } from "../dialogs.js";
import { esc } from "../ui.js";
import { prefs } from "../prefs.js";

const $ = (id) => document.getElementById(id);
const remembered = (engine) => {
  try { return JSON.parse(prefs.get(`parameters.${engine.id}`) || "{}"); } catch { return {}; }
};

/** The form control of one engine parameter, showing ``value`` (the settings panel uses it too). */
export function control(p, value) {
  const id = `param-${p.name}`;
  const label = `<label for="${id}">${esc(p.name.replaceAll("_", " "))}</label>`;
  const help = p.description ? `<small class="muted">${esc(p.description)}</small>` : "";
  if (p.type === "string-list" && p.choices) {
    const chosen = new Set(value || []);
    return `<fieldset class="param" data-param="${esc(p.name)}" data-type="choices"><legend>${esc(p.name.replaceAll("_", " "))}</legend>${help}
      <div class="choices">${p.choices.map((c) => `<label><input type="checkbox" value="${esc(c)}" ${chosen.has(c) ? "checked" : ""}>
      ${esc(c.replaceAll("_", " "))}</label>`).join("")}</div></fieldset>`;
  }
  if (p.choices) {
    return `<div class="param" data-param="${esc(p.name)}" data-type="string">${label}<select id="${id}">
      ${p.choices.map((c) => `<option ${c === value ? "selected" : ""}>${esc(c)}</option>`).join("")}</select>${help}</div>`;
  }
  if (p.type === "boolean") {
    return `<div class="param" data-param="${esc(p.name)}" data-type="boolean"><label><input id="${id}" type="checkbox" ${value ? "checked" : ""}>
      ${esc(p.name.replaceAll("_", " "))}</label>${help}</div>`;
  }
  if (p.type === "number" || p.type === "integer") {
    const step = p.type === "integer" ? 1 : "any";
    return `<div class="param" data-param="${esc(p.name)}" data-type="${p.type}">${label}<input id="${id}" type="number" step="${step}"
      ${p.minimum != null ? `min="${p.minimum}"` : ""} ${p.maximum != null ? `max="${p.maximum}"` : ""} value="${esc(value ?? "")}">${help}</div>`;
  }
  const text = Array.isArray(value) ? value.join(", ") : value ?? "";
  return `<div class="param" data-param="${esc(p.name)}" data-type="${p.type}">${label}<input id="${id}" value="${esc(text)}">${help}</div>`;
}

/** The values of the controls in ``box``, by parameter name. */
export function read(box) {
  const values = {};
  box.querySelectorAll("[data-param]").forEach((el) => {
    const name = el.dataset.param;
    const type = el.dataset.type;
    if (type === "choices") values[name] = [...el.querySelectorAll("input:checked")].map((i) => i.value);
    else if (type === "boolean") values[name] = el.querySelector("input").checked;
    else {
      const raw = el.querySelector("input, select").value;
      if (type === "number" || type === "integer") { if (raw !== "") values[name] = Number(raw); }
      else if (type === "string-list") values[name] = raw.split(",").map((s) => s.trim()).filter(Boolean);
      else values[name] = raw;
    }
  });
  return values;
}

/** Ask for an engine's parameters and queue it on the pictures; resolves to the queued job, or null. */
export function runEngineDialog(engine, ids) {
  return new Promise((resolve, reject) => {
    const backdrop = $("dialog");
    const box = backdrop.querySelector(".dialog");
    const last = remembered(engine);
    box.innerHTML = `<form class="engine-form"><h2>${esc(engine.label)} <small class="muted">${ids.length} picture${ids.length === 1 ? "" : "s"}</small></h2>
      ${engine.parameters.map((p) => control(p, p.name in last ? last[p.name] : p.default)).join("")}
      <div class="actions"><button type="button" data-reset>Defaults</button><button type="button" data-cancel>Cancel</button>
      <button class="primary">Run</button></div></form>`;
    nameDialog(box);
    backdrop.hidden = false;
    const form = box.querySelector("form");
    const done = (value) => { backdrop.hidden = true; resolve(value); };
    box.querySelector("[data-cancel]").onclick = () => done(null);
    box.querySelector("[data-reset]").onclick = () => {
      prefs.remove(`parameters.${engine.id}`);
      backdrop.hidden = true;
      runEngineDialog(engine, ids).then(resolve, reject);
    };
    form.onkeydown = (e) => { if (e.key === "Escape") { e.stopPropagation(); done(null); } };
    form.onsubmit = async (event) => {
      event.preventDefault();
      const parameters = read(box);
      try {
        const { job } = await api.post("/jobs", { task: engine.task, engine: engine.id, picture_ids: ids, force: true, parameters });
        prefs.set(`parameters.${engine.id}`, JSON.stringify(parameters));
        done(job);
      } catch (error) {
        let note = form.querySelector(".error");
        if (!note) { note = document.createElement("p"); note.className = "error"; form.prepend(note); }
        note.textContent = error.message;  // the dialog stays open to fix the value
      }
    };
    form.querySelector("select, input")?.focus();
  });
}
