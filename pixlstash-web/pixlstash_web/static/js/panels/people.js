// The People panel. Its front page: named characters with a cover face, and unnamed people (faces
// grouped by likeness) to name. A character's page: its faces (split a wrong one out), its suggestions
// (faces like its faces) to accept or reject one by one or all at once, undoing automatic naming, and
// merging it into another character.

import { api } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { engineName } from "../viewer/face_guesses.js";
import { undoButton } from "./history.js";
import { esc, toast } from "../ui.js";

const crop = (faceId, label) =>
  `<img class="face-crop" src="/api/v1/faces/${faceId}/crop.webp" alt="${esc(label)}" loading="lazy" width="48" height="48">`;
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

export async function renderPeople(app, panel, chrome, options = {}) {
  if (options.character) return renderCharacter(app, panel, chrome, options.character);
  let named, unnamed;
  try {
    [named, unnamed] = await Promise.all([api.get("/people/named"), api.get("/people/unnamed", { min_faces: 1, limit: 60 })]);
  } catch (error) { toast(error.message); return; }
  const characters = app.sidebar.characters();
  // Photo faces and anime characters come from different engines: a filter when there are several.
  const engineIds = [...new Set(unnamed.map((p) => p.engine_id))];
  const engineFilter = engineIds.length > 1 ? `<label class="row">Faces found by
    <select id="people-engine"><option value="">Every engine</option>${engineIds.map((id) =>
      `<option value="${esc(id)}">${esc(engineName(app, id))}</option>`).join("")}</select></label>` : "";
  panel.innerHTML = `${chrome.header("People")}
    <section><h3>Named</h3><div class="list" id="named">${named.length ? named.map((p) => `
      <button class="row face-row plain person" data-character="${p.character_id}" aria-label="Open ${esc(p.name)}">
        ${p.cover_face_id ? crop(p.cover_face_id, p.name) : '<span class="face-crop" aria-hidden="true"></span>'}
        <span>${esc(p.name)} <small class="muted">${plural(p.faces, "face")} · ${plural(p.pictures, "picture")}</small></span>
      </button>`).join("") : '<p class="muted">No characters yet: name a person below.</p>'}</div></section>
    <section><h3>Not named yet</h3>${engineFilter}<div class="list" id="unnamed">${unnamed.length ? unnamed.map((p) => `
      <div class="row face-row" data-person="${p.cluster_id}" data-engine="${esc(p.engine_id)}">
        <button class="plain" data-similar-face="${p.cover_face_id}" title="Find this person's faces">${crop(p.cover_face_id, `Unnamed person ${p.cluster_id}`)}</button>
        <span>Unnamed person <small class="muted">(${plural(p.pictures, "picture")}${
          engineFilter ? ` · ${esc(engineName(app, p.engine_id))}` : ""})</small></span>
        <form data-name-person="${p.cluster_id}"><input name="name" placeholder="Name…" aria-label="Name unnamed person ${p.cluster_id}"
          list="character-names" required></form></div>`).join("") : '<p class="muted">No unnamed faces. Faces come from a face engine (Find faces with ›).</p>'}</div>
      <datalist id="character-names">${characters.map((c) => `<option value="${esc(c.name)}">`).join("")}</datalist></section>`;
  chrome.bindClose(panel);
  const filter = panel.querySelector("#people-engine");
  if (filter) filter.onchange = () => panel.querySelectorAll("#unnamed [data-engine]").forEach((row) => {
    row.hidden = Boolean(filter.value) && row.dataset.engine !== filter.value;
  });
  panel.querySelectorAll("[data-character]").forEach((b) => {
    b.onclick = () => renderCharacter(app, panel, chrome, Number(b.dataset.character));
  });
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
        renderCharacter(app, panel, chrome, character.id);
      } catch (error) { toast(error.message); }
    };
  });
}

async function renderCharacter(app, panel, chrome, characterId) {
  let people, faces;
  try {
    [people, faces] = await Promise.all([api.get("/people/named"), api.get(`/characters/${characterId}/faces`, { limit: 60 })]);
  } catch (error) { toast(error.message); return; }
  const person = people.find((p) => p.character_id === characterId);
  if (!person) { toast("That character no longer exists"); return renderPeople(app, panel, chrome); }
  const others = people.filter((p) => p.character_id !== characterId);
  panel.innerHTML = `${chrome.header(person.name)}
    <button class="plain" id="back-to-people">‹ People</button>
    <div class="row face-row character-head">${person.cover_face_id ? crop(person.cover_face_id, person.name) : ""}
      <span>${plural(person.faces, "face")} · ${plural(person.pictures, "picture")}</span>
      <button id="show-pictures">Show pictures</button></div>
    ${person.automatic ? `<p><button id="undo-automatic">Unname the ${plural(person.automatic, "face")} named automatically</button></p>` : ""}
    <section><h3>Suggestions</h3>
      <label><input type="checkbox" id="suggest-min"> like all its faces (min)</label>
      <div id="suggestions" class="list"><p class="muted">Loading…</p></div></section>
    <section><h3>Faces named ${esc(person.name)}</h3>${faces.length ? `<p class="muted"><small>Automatically named and least
      confident first. ✗ splits a wrong face out; it is not suggested again.</small></p><div class="suggestions" id="named-faces">
      ${faces.map((f) => `<div class="suggestion" data-face="${f.face_id}">
        <button class="plain" data-open-picture="${f.picture_id}" title="Open the picture">${crop(f.face_id, `Face ${f.face_id}`)}</button>
        <small>${f.automatic ? "auto" : `${Math.round(f.score * 100)}%`}</small>
        <button data-remove-face="${f.face_id}" aria-label="Not ${esc(person.name)}: face ${f.face_id}">✗</button></div>`).join("")}</div>`
      : `<p class="muted">No face is named ${esc(person.name)} yet: name one in a picture's Faces, or name an unnamed person.</p>`}</section>
    ${others.length ? `<section><h3>Merge</h3><form id="merge"><select name="into" aria-label="Merge into">
      ${others.map((p) => `<option value="${p.character_id}">${esc(p.name)}</option>`).join("")}</select>
      <button>Merge ${esc(person.name)} into it</button></form></section>` : ""}`;
  chrome.bindClose(panel);
  const again = () => renderCharacter(app, panel, chrome, characterId);
  panel.querySelector("#back-to-people").onclick = () => renderPeople(app, panel, chrome);
  panel.querySelector("#show-pictures").onclick = () => app.navigate({ collections: [characterId] });
  panel.querySelectorAll("[data-open-picture]").forEach((b) => {
    b.onclick = () => app.update({ picture: Number(b.dataset.openPicture) });
  });
  const post = async (path, body, message, { undoable = false } = {}) => {
    try {
      await api.post(path, body);
      if (undoable) {
        toast(message, 8, undoButton(app));
        window.dispatchEvent(new CustomEvent("pixlstash:history"));
      } else toast(message);
      app.sidebar.reload();
      return true;
    } catch (error) { toast(error.message); return false; }
  };
  panel.querySelectorAll("[data-remove-face]").forEach((b) => {
    b.onclick = async () => {
      if (await post(`/characters/${characterId}/faces/remove`, { face_ids: [Number(b.dataset.removeFace)] },
        `No longer ${person.name}`)) again();
    };
  });
  const undo = panel.querySelector("#undo-automatic");
  if (undo) undo.onclick = async () => {
    if (await post("/people/undo-automatic", { character_id: characterId }, "Automatic naming undone")) again();
  };
  const merge = panel.querySelector("#merge");
  if (merge) merge.onsubmit = async (event) => {
    event.preventDefault();
    const into = Number(merge.into.value);
    const target = others.find((p) => p.character_id === into);
    if (!(await confirmAction(`Merge ${person.name} into ${target.name}?`, `Its faces and pictures move and ${person.name} is deleted.`, { ok: "Merge" }))) return;
    if (await post(`/characters/${characterId}/merge`, { into }, `Merged into ${target.name}`, { undoable: true })) {
      renderCharacter(app, panel, chrome, into);
    }
  };
  const strict = panel.querySelector("#suggest-min");
  strict.onchange = () => renderSuggestions(panel, characterId, strict.checked, post, again);
  renderSuggestions(panel, characterId, false, post, again);
}

async function renderSuggestions(panel, characterId, strict, post, again) {
  const box = panel.querySelector("#suggestions");
  let hits;
  try {
    hits = await api.get(`/characters/${characterId}/suggestions`, { combine: strict ? "min" : "mean", limit: 24 });
  } catch (error) { box.innerHTML = `<p class="muted">${esc(error.message)}</p>`; return; }
  box.innerHTML = hits.length ? `<div class="suggestions">${hits.map((h) => `
      <div class="suggestion" data-face="${h.face_id}">${crop(h.face_id, `Face in picture ${h.picture.id}`)}
        <small>${Math.round(h.similarity * 100)}%</small>
        <span><button data-accept-face="${h.face_id}" aria-label="Accept face ${h.face_id}">✓</button>
        <button data-reject-face="${h.face_id}" aria-label="Reject face ${h.face_id}">✗</button></span></div>`).join("")}</div>
      <button id="accept-all">Accept all ${hits.length}</button> <button id="reject-all">Reject all ${hits.length}</button>`
    : '<p class="muted">No more suggestions.</p>';
  const act = async (verb, ids, message) => {
    if (await post(`/characters/${characterId}/suggestions/${verb}`, { face_ids: ids }, message)) {
      if (verb === "accept") again(); else renderSuggestions(panel, characterId, strict, post, again);
    }
  };
  box.querySelectorAll("[data-accept-face]").forEach((b) => { b.onclick = () => act("accept", [Number(b.dataset.acceptFace)], "Accepted"); });
  box.querySelectorAll("[data-reject-face]").forEach((b) => { b.onclick = () => act("reject", [Number(b.dataset.rejectFace)], "Rejected"); });
  const ids = hits.map((h) => h.face_id);
  const all = box.querySelector("#accept-all");
  if (all) all.onclick = () => act("accept", ids, `Accepted ${ids.length}`);
  const none = box.querySelector("#reject-all");
  if (none) none.onclick = () => act("reject", ids, `Rejected ${ids.length}`);
}
