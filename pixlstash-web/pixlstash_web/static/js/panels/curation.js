// A curated set's panel: its curators' review of what was submitted (Accept or Reject each: A and X on the
// focused one), a contributor's own submissions and how each went, and for admins and curators who may
// contribute or curate. Accepting is one undo step; the set's pictures change only through a curator.

import { api } from "../api.js";
import { undoButton } from "./history.js";
import { esc, toast } from "../ui.js";

const STATE_WORDS = { pending: "waiting", accepted: "accepted", rejected: "not taken" };
const thumb = (hash) => `/api/v1/media/${hash}/grid.webp`;

/** A project's people: who may see a private project and its sets, add to it, or manage it. */
async function renderProjectRoles(app, panel, { header, bindClose }, project) {
  const found = app.sidebar.projects.find((p) => p.id === project) || { name: "the project", id: project };
  const gives = app.me?.scope === "admin" || found.role === "curator" || (found.owner_id != null && found.owner_id === app.me?.user_id);
  let roles; let accounts = [];
  try {
    roles = await api.get(`/projects/${project}/roles`);
    if (gives) accounts = (await api.get("/users/names")).filter((a) => a.id !== app.me?.user_id);
  } catch (error) { toast(error.message); return; }
  panel.innerHTML = `${header(`People of ${found.name}`)}${rolesSection(roles, accounts, "project")}
    <p class="muted"><small>A private project, and every set and character in it, is seen only by whoever made it,
    admins and the people here: viewers look, contributors add pictures, curators manage it.</small></p></section>`;
  bindClose(panel);
  bindGiveRole(app, panel, `/projects/${project}/roles`, () => renderProjectRoles(app, panel, { header, bindClose }, project));
}

function rolesSection(roles, accounts, what) {
  return `<section><h3>Viewers, contributors and curators</h3><div class="list" aria-label="Roles">${roles.map((r) =>
    `<div class="row"><span>${esc(r.username)} <small class="muted">${esc(r.role)}</small></span></div>`).join("")
    || `<p class="muted">No one: anyone who may write adds pictures to it (when it is not private).</p>`}</div>
    ${accounts.length ? `<form id="give-role" class="row"><select name="user" aria-label="Who">${accounts
      .map((a) => `<option value="${a.id}">${esc(a.username)}</option>`).join("")}</select>
      <select name="role" aria-label="Their role in the ${what}"><option value="viewer">viewer</option>
      <option value="contributor" selected>contributor</option>
      <option value="curator">curator</option><option value="">no role</option></select><button>Give</button></form>` : ""}`;
}

function bindGiveRole(app, panel, path, again) {
  const form = panel.querySelector("#give-role");
  if (!form) return;
  form.onsubmit = async (event) => {
    event.preventDefault();
    try {
      await api.put(`${path}/${form.user.value}`, { role: form.role.value || null });
      await app.sidebar.reload();
    } catch (error) { toast(error.message); }
    again();
  };
}

export async function renderCuration(app, panel, frame, { set, project }) {
  if (project != null) { await renderProjectRoles(app, panel, frame, project); return; }
  const { header, bindClose } = frame;
  const collection = app.sidebar.collections.find((c) => c.id === set) || { name: "the set", id: set };
  const curator = collection.role === "curator" || app.me?.scope === "admin";
  const gives = curator || (collection.owner_id != null && collection.owner_id === app.me?.user_id);
  let submissions; let roles; let accounts = [];
  try {
    [submissions, roles] = await Promise.all([
      api.get(`/sets/${set}/submissions`, { state: curator ? "pending" : "all" }), api.get(`/sets/${set}/roles`)]);
    if (gives) accounts = (await api.get("/users/names")).filter((a) => a.id !== app.me?.user_id);
  } catch (error) { toast(error.message); return; }
  const pictures = await Promise.all(submissions.map((s) => api.get(`/pictures/${s.picture_id}`).catch(() => null)));
  const again = () => renderCuration(app, panel, { header, bindClose }, { set });
  const card = (s, p) => `<div class="row submission" tabindex="0" data-submission="${s.picture_id}">
    ${p ? `<img src="${thumb(p.content_hash)}" alt="${esc(p.original_name || `Picture ${p.id}`)}" width="64" height="64" loading="lazy">` : ""}
    <span>${esc(p?.original_name || `Picture ${s.picture_id}`)} <small class="muted">${curator ? `from ${esc(nameOf(accounts, roles, s.submitted_by))} · ` : ""}${
      STATE_WORDS[s.state]}</small></span>
    ${curator && s.state === "pending" ? `<span class="row-controls"><button data-accept="${s.picture_id}">Accept</button>
      <button data-reject="${s.picture_id}">Reject</button></span>` : ""}</div>`;
  panel.innerHTML = `${header(`Curating ${collection.name}`)}
    <section><h3>${curator ? "Waiting for you (A accepts, X rejects)" : "What you sent"}</h3>
    <div class="list" aria-label="Submissions">${submissions.map((s, n) => card(s, pictures[n])).join("")
      || `<p class="muted">${curator ? "Nothing waits." : "You sent nothing yet."}</p>`}</div></section>
    ${rolesSection(roles, accounts, "set")}
    <p class="muted"><small>A private set is seen only by whoever made it, admins and the people here: viewers
    look, contributors add pictures, curators manage it. With a curator the set is curated: its contributors
    submit pictures, its curators accept them (they join the set) or not.</small></p></section>`;
  bindClose(panel);
  const decide = async (id, accept) => {
    try {
      await api.post(`/sets/${set}/submissions/decide`, { ids: [Number(id)], accept });
      toast(accept ? "Accepted" : "Not taken", 6, accept ? undoButton(app) : undefined);
      window.dispatchEvent(new CustomEvent("pixlstash:history"));
    } catch (error) { toast(error.message); }
    again();
  };
  panel.querySelectorAll("[data-accept]").forEach((b) => { b.onclick = () => decide(b.dataset.accept, true); });
  panel.querySelectorAll("[data-reject]").forEach((b) => { b.onclick = () => decide(b.dataset.reject, false); });
  panel.querySelectorAll("[data-submission]").forEach((row) => {
    row.onkeydown = (event) => {
      const key = event.key.toLowerCase();
      if (!curator || (key !== "a" && key !== "x") || !row.querySelector("[data-accept]")) return;
      event.preventDefault();
      event.stopPropagation();
      decide(row.dataset.submission, key === "a");
    };
  });
  panel.querySelector(".submission [data-accept]")?.closest(".submission").focus();
  bindGiveRole(app, panel, `/sets/${set}/roles`, again);
}

function nameOf(accounts, roles, userId) {
  return accounts.find((a) => a.id === userId)?.username || roles.find((r) => r.user_id === userId)?.username
    || `account ${userId}`;
}
