// The duplicates view: groups of near-duplicate pictures side by side, each with what it is (size, pixels,
// rating; a click opens it), "Keep this one" to move the rest of its group to the scrapheap, and how much space that
// frees. Scrapping is undoable (Ctrl+Z, the toast's Undo) and the scrapheap keeps the files until emptied.

import { api, thumbUrl } from "./api.js";
import { undoButton } from "./panels/history.js";
import { esc, toast } from "./ui.js";

const $ = (id) => document.getElementById(id);

function size(bytes) {
  if (bytes < 1e6) return `${Math.max(1, Math.round(bytes / 1e3))} KB`;
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

/** Show (or hide) the duplicates view in place of the grid. */
export async function showDuplicates(app, visible) {
  const box = $("duplicates-view");
  box.hidden = !visible;
  for (const id of ["grid", "toolbar", "selection-bar"]) $(id).classList.toggle("behind-duplicates", visible);
  if (!visible) return;
  box.innerHTML = '<p class="muted">Looking for near-duplicates…</p>';
  let groups;
  try { groups = await api.get("/duplicates"); } catch (error) { box.innerHTML = `<p class="error">${esc(error.message)}</p>`; return; }
  const ids = groups.flatMap((g) => g.picture_ids);
  const details = new Map();
  for (let i = 0; i < ids.length; i += 500) {
    const page = await api.get("/pictures", { ids: ids.slice(i, i + 500), limit: 500 });
    for (const p of page.items) details.set(p.id, p);
  }
  const shown = groups.map((g) => g.picture_ids.map((id) => details.get(id)).filter(Boolean)).filter((g) => g.length > 1);
  // Keeping the largest file of each group frees the rest: the figure the heading gives.
  const frees = (group, kept) => group.filter((p) => p.id !== kept).reduce((sum, p) => sum + p.file_size, 0);
  const largest = (group) => group.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
  const total = shown.reduce((sum, g) => sum + frees(g, largest(g).id), 0);
  box.innerHTML = `<header class="duplicates-head"><h2>Near-duplicates</h2>
      <span class="muted">${shown.length.toLocaleString()} group${shown.length === 1 ? "" : "s"} · keeping the largest of
      each frees ${size(total)}</span>
      <button id="close-duplicates">Back to the pictures</button></header>
    ${shown.length ? "" : '<p class="muted">No near-duplicates: every picture looks different enough.</p>'}
    ${shown.map((group, n) => `<section class="duplicate-group" aria-label="Group ${n + 1}" data-group="${n}">
      <h3>${group.length} pictures · keeping one frees up to ${size(Math.max(...group.map((p) => frees(group, p.id))))}
        <button data-distinct="${n}">Not duplicates</button></h3>
      <div class="duplicate-row">${group.map((p) => `<figure class="duplicate-card" data-id="${p.id}">
        <img src="${thumbUrl(p.content_hash)}" alt="${esc(p.original_name || `Picture ${p.id}`)}" loading="lazy" data-open="${p.id}">
        <figcaption><b>${esc(p.original_name || `Picture ${p.id}`)}</b><br>
          ${p.width}×${p.height} · ${size(p.file_size)}${p.rating ? ` · ${"★".repeat(p.rating)}` : ""}
          ${p.id === largest(group).id ? '<br><small class="muted">largest</small>' : ""}</figcaption>
        <button data-keep="${p.id}" aria-label="Keep ${esc(p.original_name || `picture ${p.id}`)}, scrap the rest of its group">Keep this one
          <small>(frees ${size(frees(group, p.id))})</small></button></figure>`).join("")}</div></section>`).join("")}`;
  $("close-duplicates").onclick = () => app.update({ dupes: undefined });
  box.querySelectorAll("[data-open]").forEach((img) => {
    img.onclick = () => app.update({ picture: Number(img.dataset.open) });
  });
  // Alike but different (a series, two poses): the group goes and its pictures are not grouped again.
  box.querySelectorAll("[data-distinct]").forEach((b) => {
    b.onclick = async () => {
      const group = shown[Number(b.dataset.distinct)];
      try {
        await api.post("/duplicates/distinct", { ids: group.map((p) => p.id) });
        toast(`${group.length} pictures marked as not duplicates`, 8, undoButton(app));
        b.closest(".duplicate-group").remove();
        window.dispatchEvent(new CustomEvent("pixlstash:history"));
      } catch (error) { toast(error.message); }
    };
  });
  box.querySelectorAll("[data-keep]").forEach((b) => {
    b.onclick = async () => {
      const keep = Number(b.dataset.keep);
      const group = shown[Number(b.closest("[data-group]").dataset.group)];
      const rest = group.filter((p) => p.id !== keep).map((p) => p.id);
      try {
        const result = await api.post("/pictures/bulk", { ids: rest, operation: { action: "scrap" } });
        const kept = group.find((p) => p.id === keep);
        toast(`Kept ${kept?.original_name || `picture ${keep}`}; ${result.count} moved to the scrapheap, freeing ${size(frees(group, keep))} when emptied`,
          8, undoButton(app));
        b.closest(".duplicate-group").remove();
        window.dispatchEvent(new CustomEvent("pixlstash:history"));
      } catch (error) { toast(error.message); }
    };
  });
}
