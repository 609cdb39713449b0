// The share dialog: a link to pictures, a set, character or project, with its options.

import { api } from "../api.js";
import { nameDialog } from "../dialogs.js";
import { copyButton } from "../panels/settings.js";
import { esc, toast } from "../ui.js";

const $ = (id) => document.getElementById(id);

export function shareDialog(app, scope) {
  const backdrop = $("dialog");
  const box = backdrop.querySelector(".dialog");
  const what = scope.scope_type === "pictures" ? `${scope.picture_ids.length} picture(s)` : `this ${scope.scope_type}`;
  box.innerHTML = `<form id="share-form"><h2>Share ${esc(what)}</h2>
    <label>Title <input name="title" aria-label="Share title"></label>
    <label>Expires after (days, empty: never) <input name="days" type="number" min="0.01" step="any" aria-label="Expiry in days"></label>
    <label><input type="checkbox" name="allow_original" checked> Allow downloading originals</label>
    <label><input type="checkbox" name="edited_downloads"> Edited pictures download as edited (not the original file)</label>
    <label><input type="checkbox" name="include_metadata"> Include tags and captions</label>
    <label>Watermark text <input name="watermark" aria-label="Watermark text"></label>
    <p id="share-url" class="muted"></p>
    <div class="actions"><button type="button" data-cancel>Close</button><button class="primary" id="create-share">Create link</button></div></form>`;
  nameDialog(box);
  backdrop.hidden = false;
  const form = box.querySelector("form");
  box.querySelector("[data-cancel]").onclick = () => { backdrop.hidden = true; };
  form.onkeydown = (e) => { if (e.key === "Escape") { e.stopPropagation(); backdrop.hidden = true; } };
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = { ...scope, title: form.title.value, allow_original: form.allow_original.checked,
      include_metadata: form.include_metadata.checked, edited_downloads: form.edited_downloads.checked };
    if (form.days.value) body.expires_in_days = Number(form.days.value);
    if (form.watermark.value.trim()) body.watermark_text = form.watermark.value.trim();
    try {
      const created = await api.post("/shares", body);
      const url = new URL(created.url, location.href).href;
      const out = box.querySelector("#share-url");
      out.innerHTML = `Link (shown once): <a href="${esc(url)}" target="_blank" rel="noopener" id="share-link">${esc(url)}</a> `;
      out.append(copyButton(url, "Copy link"));
    } catch (error) { toast(error.message); }
  };
}
