// The viewer's face boxes over the picture.

import { esc } from "../ui.js";
import { drawnAt } from "./viewer_size.js";

/** A box over each face as the picture is shown; ``nameOf`` names the engine that found it. */
export function drawFaces(nameOf, el, p) {
  const img = el.querySelector("#full");
  const layer = el.querySelector("#faceboxes");
  if (!img || !p.faces.length) return;
  const place = () => {
    const { scale, left, top } = drawnAt(img, p);
    // Boxes as the picture is shown (turned, cropped); a face the crop leaves out has none.
    layer.innerHTML = p.faces.map((f, i) => [f.shown_box, i]).filter(([b]) => b).map(([b, i]) => `<div class="facebox"
      style="left:${left + b[0] * scale}px;top:${top + b[1] * scale}px;width:${(b[2] - b[0]) * scale}px;height:${(b[3] - b[1]) * scale}px">
      <span>Face ${i + 1} · ${esc(nameOf(p.faces[i].engine_id))}</span></div>`).join("");
  };
  if (img.complete) place(); else img.addEventListener("load", place, { once: true });
  new ResizeObserver(() => { if (img.complete) place(); }).observe(el.querySelector("#stage"));  // the details come and go
}
