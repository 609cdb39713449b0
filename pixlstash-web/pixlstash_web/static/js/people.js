// The People panel: unnamed people (faces grouped by likeness) to name as characters, and a named
// character's suggestions (faces like its faces) to accept or reject, one by one or all at once.

import { api } from "./api.js";
import { esc, toast } from "./ui.js";

const crop = (faceId, label) =>
  `<img class="face-crop" src="/api/v1/faces/${faceId}/crop.webp" alt="${esc(label)}" loading="lazy" width="48" height="48">`;

export async function renderPeople(app, panel, { header, bindClose }, options = {}) {
  let people;
  try { people = await api.get("/people/unnamed", { min_faces: 1, limit: 60 }); } catch (error) { toast(error.message); return; }
  const characters = app.sidebar.characters();
  const chosen = options.character || (characters[0] && characters[0].id);
  panel.innerHTML = `${header("People")}
    <section><h3>Not named yet</h3><div class="list" id="unnamed">${people.length ? people.map((p) => `
      <div class="row face-row" data-person="${p.cluster_id}">
        <button class="plain" data-similar-face="${p.cover_face_id}" title="Find this person's faces">${crop(p.cover_face_id, `Unnamed person ${p.cluster_id}`)}</button>
        <span>Unnamed person <small class="muted">(${p.pictures} picture${p.pictures === 1 ? "" : "s"})</small></span>
        <form data-name-person="${p.cluster_id}"><input name="name" placeholder="Name…" aria-label="Name unnamed person ${p.cluster_id}"
          list="character-names" required></form></div>`).join("") : '<p class="muted">No unnamed faces. Faces come from a face engine (Find faces with ›).</p>'}</div>
      <datalist id="character-names">${characters.map((c) => `<option value="${esc(c.name)}">`).join("")}</datalist></section>
    <section><h3>Suggestions for</h3>${characters.length ? `<select id="suggest-for" aria-label="Suggestions for character">
      ${characters.map((c) => `<option value="${c.id}" ${c.id === chosen ? "selected" : ""}>${esc(c.name)}</option>`).join("")}</select>
      <label><input type="checkbox" id="suggest-min"> like all its faces (min)</label>
      <div id="suggestions" class="list"><p class="muted">Loading…</p></div>` : '<p class="muted">Name a person first.</p>'}</section>`;
  bindClose(panel);
  panel.querySelectorAll("[data-similar-face]").forEach((b) => {
    b.onclick = () => app.navigate({ face: Number(b.dataset.similarFace) });
  });
  panel.querySelectorAll("[data-name-person]").forEach((form) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      const name = form.name.value.trim();
      const existing = characters.find((c) => c.name.toLowerCase() === name.toLowerCase());
      try {
        const character = await api.post(`/people/unnamed/${form.dataset.namePerson}/name`,
          existing ? { character_id: existing.id } : { name });
        toast(`Named ${character.name}`);
        await app.sidebar.reload();
        renderPeople(app, panel, { header, bindClose }, { character: character.id });
      } catch (error) { toast(error.message); }
    };
  });
  const select = panel.querySelector("#suggest-for");
  if (!select) return;
  const load = () => renderSuggestions(app, panel, Number(select.value), panel.querySelector("#suggest-min").checked);
  select.onchange = load;
  panel.querySelector("#suggest-min").onchange = load;
  load();
}

async function renderSuggestions(app, panel, characterId, strict) {
  const box = panel.querySelector("#suggestions");
  let hits;
  try {
    hits = await api.get(`/characters/${characterId}/suggestions`, { combine: strict ? "min" : "mean", limit: 24 });
  } catch (error) { box.innerHTML = `<p class="muted">${esc(error.message)}</p>`; return; }
  box.innerHTML = hits.length ? `<div class="suggestions">${hits.map((h) => `
      <div class="suggestion" data-face="${h.face_id}">${crop(h.face_id, `Face in picture ${h.picture.id}`)}
        <small>${Math.round(h.similarity * 100)}%</small>
        <button data-accept-face="${h.face_id}" aria-label="Accept face ${h.face_id}">✓</button>
        <button data-reject-face="${h.face_id}" aria-label="Reject face ${h.face_id}">✗</button></div>`).join("")}</div>
      <button id="accept-all">Accept all ${hits.length}</button>` : '<p class="muted">No more suggestions.</p>';
  const act = async (verb, ids, message) => {
    try {
      await api.post(`/characters/${characterId}/suggestions/${verb}`, { face_ids: ids });
      toast(message);
      renderSuggestions(app, panel, characterId, strict);
      app.sidebar.reload();
    } catch (error) { toast(error.message); }
  };
  box.querySelectorAll("[data-accept-face]").forEach((b) => { b.onclick = () => act("accept", [Number(b.dataset.acceptFace)], "Accepted"); });
  box.querySelectorAll("[data-reject-face]").forEach((b) => { b.onclick = () => act("reject", [Number(b.dataset.rejectFace)], "Rejected"); });
  const all = box.querySelector("#accept-all");
  if (all) all.onclick = () => act("accept", hits.map((h) => h.face_id), `Accepted ${hits.length}`);
}
