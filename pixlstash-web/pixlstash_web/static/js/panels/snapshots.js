// The snapshots panel: take one, preview and restore all or part of one, delete one.

import { api } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { esc, toast } from "../ui.js";

// -- snapshots ------------------------------------------------------------------------------------

// How each kind of snapshot reads in the list (a scheduled one has no label of its own).
const SNAPSHOT_KINDS = { DAILY: "Daily snapshot", WEEKLY: "Weekly snapshot", MONTHLY: "Monthly snapshot",
  MANUAL: "Taken by hand", SAFETY: "Safety snapshot" };

/** What a restore does to the undo history, said before it runs ("" when there is nothing to lose). */
async function historyCleared() {
  try {
    const history = await api.get("/history", { limit: 1 });
    if (!history.can_undo && !history.can_redo) return "";
  } catch { return ""; }
  return " It also clears the undo history: the edits made before it can no longer be undone.";
}

export async function renderSnapshots(app, panel, frame, options = {}) {
  const { header, bindClose } = frame;
  let snapshots;
  try { snapshots = await api.get("/snapshots"); } catch (error) { toast(error.message); return; }
  const selected = options.restoreIds || app.selection();
  const resource = options.restoreResource;
  panel.innerHTML = `${header("Snapshots")}
    <form id="take-snapshot"><input name="label" placeholder="label (optional)" aria-label="Snapshot label">
      <button class="primary">Take snapshot</button></form>
    ${selected.length || resource ? `<p class="muted">${resource ? `Selective restore of ${esc(resource.type)} ${resource.id}`
      : `Selective restore of the ${selected.length} selected picture(s)`} available on each snapshot.</p>` : ""}
    <div class="list" id="snapshot-list">${snapshots.map((s) => `<div class="row" data-snapshot="${s.id}">
      <span><strong>${esc(s.label || SNAPSHOT_KINDS[s.kind] || s.kind)}</strong>${s.label
        ? ` <span class="muted">${esc(SNAPSHOT_KINDS[s.kind] || s.kind)}</span>` : ""}<br>
      <small>${new Date(s.created_at).toLocaleString()} · ${s.picture_count.toLocaleString()} pictures · ${(s.byte_size / 1e6).toFixed(1)} MB</small></span>
      <span><button data-preview="${s.id}">Preview restore</button>
      ${selected.length || resource ? `<button data-selective="${s.id}">Restore selection…</button>` : ""}
      <button data-delete="${s.id}" aria-label="Delete snapshot ${s.id}">✕</button></span>
      <div class="result" id="snapshot-result-${s.id}"></div></div>`).join("")}</div>`;
  bindClose(panel);
  panel.querySelector("#take-snapshot").onsubmit = async (event) => {
    event.preventDefault();
    try {
      const label = event.target.label.value.trim();
      await api.post("/snapshots", label ? { label } : {});
      toast("Snapshot taken");
      renderSnapshots(app, panel, frame, options);
    } catch (error) { toast(error.message); }
  };
  panel.querySelectorAll("[data-preview]").forEach((b) => {
    b.onclick = async () => {
      const id = b.dataset.preview;
      const out = panel.querySelector(`#snapshot-result-${id}`);
      try {
        const { summary, to_delete: gone, to_recreate: back } = await api.get(`/snapshots/${id}/restore/preview`);
        const named = (list, verb) => list.length ? `<br><small>${verb}: ${list.map((c) => `${esc(c.type)} ${esc(c.name)}`).join(", ")}</small>` : "";
        out.innerHTML = `<small>${summary.pictures_to_revert} to revert, ${summary.pictures_to_recreate} to recreate,
          ${summary.pictures_to_delete} to delete, ${summary.pictures_unchanged} unchanged, ${summary.missing_files} missing files</small>
          ${named(gone, "Deletes")}${named(back, "Brings back")}
          <button class="danger" data-full="${id}">Restore everything</button>`;
        out.querySelector("[data-full]").onclick = async () => {
          const detail = `A safety snapshot is taken first, so this can be reversed.${await historyCleared()}`;
          if (!(await confirmAction("Roll all metadata back to this snapshot?", detail, { ok: "Restore everything", danger: true }))) return;
          try {
            const result = await api.post(`/snapshots/${id}/restore`);
            toast(`Restored (${result.missing_files_count} missing files)`);
            app.sidebar.reload();
            app.load({ keepScroll: true });
            renderSnapshots(app, panel, frame);
          } catch (error) { toast(error.message); }
        };
      } catch (error) { toast(error.message); }
    };
  });
  panel.querySelectorAll("[data-selective]").forEach((b) => {
    b.onclick = async () => {
      const id = b.dataset.selective;
      const resources = resource ? [resource] : selected.map((pid) => ({ type: "picture", id: pid }));
      const out = panel.querySelector(`#snapshot-result-${id}`);
      try {
        const preview = await api.post(`/snapshots/${id}/restore/batch/preview`, { resources });
        const changing = preview.changes.filter((c) => c.change !== "unchanged");
        out.innerHTML = `<small>${changing.length} of ${resources.length} would change</small>
          <ul class="changes">${changing.slice(0, 50).map((c) => `<li><small>${esc(c.type)} ${c.id}: ${esc(c.change)}
          ${c.fields ? Object.keys(c.fields).map(esc).join(", ") : ""}</small></li>`).join("")}</ul>
          ${preview.errors.map((e) => `<small class="error">${esc(e.type)} ${e.id}: ${esc(e.error)}</small>`).join("")}
          <button class="primary" data-apply="${id}">Restore these</button>`;
        out.querySelector("[data-apply]").onclick = async () => {
          const dropped = (await historyCleared()) && " Undo steps that changed them can no longer be undone; the others stay.";
          if (dropped && !(await confirmAction(`Restore ${changing.length} from this snapshot?`, dropped.trim(),
            { ok: "Restore these", danger: true }))) return;
          try {
            const result = await api.post(`/snapshots/${id}/restore/batch`, { resources, recreate_missing: true });
            toast(`Restored ${result.upserted_count}`);
            app.refreshDetails(selected);
            app.sidebar.reload();
          } catch (error) { toast(error.message); }
        };
      } catch (error) { toast(error.message); }
    };
  });
  panel.querySelectorAll("[data-delete]").forEach((b) => {
    b.onclick = async () => {
      if (!(await confirmAction("Delete this snapshot?", "Its data shared with other snapshots stays.", { ok: "Delete", danger: true }))) return;
      try { await api.del(`/snapshots/${b.dataset.delete}`); renderSnapshots(app, panel, frame, options); } catch (error) { toast(error.message); }
    };
  });
}
