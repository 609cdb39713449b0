// In-app dialogs (the browser's prompt() and confirm() cannot be styled, tested on every browser or used
// inside a full-screen overlay): a one-line question and a confirmation that says what will happen.

import { esc } from "./ui.js";

const $ = (id) => document.getElementById(id);

/** Open the shared dialog with ``html`` in a form; ``done(value)`` closes it. Escape and Cancel give null. */
function openDialog(html, onSubmit) {
  return new Promise((resolve) => {
    const backdrop = $("dialog");
    const box = backdrop.querySelector(".dialog");
    box.innerHTML = `<form>${html}</form>`;
    backdrop.hidden = false;
    const form = box.querySelector("form");
    const done = (value) => { backdrop.hidden = true; box.innerHTML = ""; resolve(value); };
    form.onsubmit = (e) => { e.preventDefault(); done(onSubmit(form)); };
    box.querySelector("[data-cancel]").onclick = () => done(null);
    form.onkeydown = (e) => { if (e.key === "Escape") { e.stopPropagation(); done(null); } };
    (form.querySelector("[autofocus]") || form.querySelector("button.primary"))?.focus();
  });
}

/** A one-line answer (trimmed), or null when cancelled. */
export function ask(title, placeholder = "", value = "") {
  return openDialog(`<h2>${esc(title)}</h2>
    <input name="value" placeholder="${esc(placeholder)}" value="${esc(value)}" aria-label="${esc(title)}" autofocus>
    <div class="actions"><button type="button" data-cancel>Cancel</button><button class="primary">OK</button></div>`,
  (form) => form.value.value.trim());
}

/** True when the person confirms ``title`` (the action, with how much it touches); ``danger`` colours the
 * button red for what cannot be taken back. */
export async function confirmAction(title, detail = "", { ok = "OK", danger = false } = {}) {
  const answer = await openDialog(`<h2>${esc(title)}</h2>${detail ? `<p>${esc(detail)}</p>` : ""}
    <div class="actions"><button type="button" data-cancel>Cancel</button>
    <button class="primary${danger ? " danger" : ""}" data-confirm>${esc(ok)}</button></div>`, () => true);
  return answer === true;
}
