// The viewer's "Text in the picture" section (OCR) and its marks over the picture.

import { esc } from "../ui.js";
import { drawnAt } from "./viewer_size.js";

/** The text read in the picture (OCR), one row per run; a row pointed at or focused marks its run. */
export function textSection(text) {
  if (!text.runs.length) return `<h3>Text in the picture</h3><p class="muted">None found.</p>`;
  return `<h3>Text in the picture</h3><ol class="text-runs" id="text-runs">${text.runs.map((run, i) =>
    `<li tabindex="0" data-run="${i}">${esc(run.text)}</li>`).join("")}</ol>`;
}

/** Each run of text as its quadrilateral over the picture, placed as the picture is drawn ("contain"). */
export function drawText(el, p) {
  const img = el.querySelector("#full");
  const layer = el.querySelector("#textboxes");
  if (!img || !layer || !p.text?.runs.length || p.edit) return;  // (read on the original: no marks on an edited look)
  const place = () => {
    const { scale, left, top } = drawnAt(img, p);
    layer.innerHTML = p.text.runs.map((run, i) => {
      const points = [0, 2, 4, 6].map((n) => `${left + run.quad[n] * scale},${top + run.quad[n + 1] * scale}`).join(" ");
      return `<polygon class="textbox" data-run="${i}" points="${points}"></polygon>`;
    }).join("");
  };
  if (img.complete) place(); else img.addEventListener("load", place, { once: true });
  new ResizeObserver(() => { if (img.complete) place(); }).observe(el.querySelector("#stage"));
  const mark = (i, on) => layer.querySelector(`[data-run="${i}"]`)?.classList.toggle("marked", on);
  el.querySelectorAll("#text-runs [data-run]").forEach((row) => {
    for (const [kind, on] of [["pointerenter", true], ["pointerleave", false], ["focus", true], ["blur", false]]) {
      row.addEventListener(kind, () => { layer.classList.toggle("showing", on); mark(row.dataset.run, on); });
    }
  });
}
