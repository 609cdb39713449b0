// The viewer's guesses for unnamed faces: "Looks like Asuka", from each face engine's own likeness (CCIP
// for anime characters, ArcFace for photos), one click to name the face. Loaded after the picture is
// shown: a guess is a search, and the viewer must not wait for it.

import { api } from "../api.js";
import { esc } from "../ui.js";

/** Short engine names for face rows and boxes: "Anime heads", "InsightFace buffalo_l". */
export function engineName(app, engineId) {
  if (engineId === "xmp") return "Named in its XMP";  // a face box photo software wrote (digiKam, Lightroom)
  const label = (app.engines || []).find((e) => e.id === engineId)?.label || engineId;
  return label.split(" (")[0];
}

/** Fill each unnamed face's guess slot; ``name(faceId, characterId, name)`` names it. */
export async function showGuesses(el, p, name) {
  if (!p.faces.some((f) => f.character_id == null)) return;
  let guesses;
  try { guesses = await api.get(`/pictures/${p.id}/character-guesses`); } catch { return; }
  for (const slot of el.querySelectorAll("[data-guess-for]")) {
    const mine = guesses.filter((g) => g.face_id === Number(slot.dataset.guessFor));
    slot.innerHTML = mine.map((g) => `<button class="guess" data-guess-character="${g.character_id}"
      title="${esc(`likeness ${g.likeness.toFixed(2)}`)}">Looks like ${esc(g.name)}</button>`).join("");
    slot.querySelectorAll("[data-guess-character]").forEach((button, i) => {
      button.onclick = () => name(mine[i].face_id, mine[i].character_id, mine[i].name);
    });
  }
}
