// In-app dialogs (the browser's prompt() and confirm() cannot be styled, tested on every browser or used
// inside a full-screen overlay): a one-line question and a confirmation that says what will happen.

import { esc } from "./ui.js";

const $ = (id) => document.getElementById(id);

/** Name the shared dialog by its heading (a dialog without a name is read out as just "dialog"). */
export function nameDialog(box) {
  const title = box.querySelector("h2");
  if (!title) { box.removeAttribute("aria-labelledby"); return; }
  title.id = "dialog-title";
  box.setAttribute("aria-labelledby", "dialog-title");
}

/** Open the shared dialog with ``html`` in a form. Submitting resolves with ``onSubmit(form)``; when that
 * is a promise that fails, its message shows in the form, which stays open for another try. Escape and
 * Cancel give null. */
export function openDialog(html, onSubmit) {
  return new Promise((resolve) => {
    const backdrop = $("dialog");
    const box = backdrop.querySelector(".dialog");
    box.innerHTML = `<form>${html}</form>`;
    nameDialog(box);
    backdrop.hidden = false;
    const form = box.querySelector("form");
    const done = (value) => { backdrop.hidden = true; box.innerHTML = ""; resolve(value); };
    form.onsubmit = async (e) => {
      e.preventDefault();
      const error = form.querySelector(".error");
      try { done(await onSubmit(form)); } catch (failure) { if (error) error.textContent = failure.message; }
    };
    box.querySelector("[data-cancel]").onclick = () => done(null);
    form.onkeydown = (e) => { if (e.key === "Escape") { e.stopPropagation(); done(null); } };
    (form.querySelector("[autofocus]") || form.querySelector("button.primary"))?.focus();
  });
}

/** A one-line answer (trimmed), or null when cancelled. With ``submit(answer)`` (async), the answer is
 * used at once and the dialog stays open with the reason when that fails (a name already taken). */
export function ask(title, placeholder = "", value = "", { submit = null, suggest = null } = {}) {
  const answered = openDialog(`<h2>${esc(title)}</h2>
    <input name="value" placeholder="${esc(placeholder)}" value="${esc(value)}" aria-label="${esc(title)}" autofocus
      ${suggest ? 'list="ask-suggestions" autocomplete="off"' : ""}>${suggest ? '<datalist id="ask-suggestions"></datalist>' : ""}
    <p class="error" role="alert"></p>
    <div class="actions"><button type="button" data-cancel>Cancel</button><button class="primary">OK</button></div>`,
  async (form) => {
    const answer = form.value.value.trim();
    if (submit && answer) await submit(answer);
    return answer;
  });
  if (suggest) bindSuggestions(suggest); // the dialog is on the page now: no keystroke goes unheard
  return answered;
}

/** Completions under the dialog's box: ``suggest(typed)`` gives whole values (a later keystroke wins). */
function bindSuggestions(suggest) {
  const input = document.querySelector("#dialog input[list='ask-suggestions']");
  const list = document.getElementById("ask-suggestions");
  if (!input || !list) return;
  let asked = 0;
  input.addEventListener("input", async () => {
    const ticket = ++asked;
    const values = await suggest(input.value).catch(() => []);
    if (ticket !== asked) return;
    list.innerHTML = values.map((v) => `<option value="${esc(v)}"></option>`).join("");
  });
}

/** True when the person confirms ``title`` (the action, with how much it touches); ``danger`` colours the
 * button red for what cannot be taken back. */
export async function confirmAction(title, detail = "", { ok = "OK", danger = false } = {}) {
  const answer = await openDialog(`<h2>${esc(title)}</h2>${detail ? `<p>${esc(detail)}</p>` : ""}
    <div class="actions"><button type="button" data-cancel>Cancel</button>
    <button class="primary${danger ? " danger" : ""}" data-confirm>${esc(ok)}</button></div>`, () => true);
  return answer === true;
}
