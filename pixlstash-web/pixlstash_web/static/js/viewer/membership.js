// The viewer's "In" section: what a picture belongs to.

import { esc } from "../ui.js";
import { viewUrl } from "../view.js";

/** The sets, characters and projects a picture is in, as chips that open them or take it out. */
export function membership(collections, projectList, p) {
  const byId = new Map(collections.map((c) => [c.id, c]));
  const projects = new Map(projectList.map((x) => [x.id, x]));
  const items = [
    ...p.collections.map((id) => byId.get(id)).filter(Boolean).map((c) => ({ kind: c.kind, id: c.id, name: c.name })),
    ...p.projects.map((id) => projects.get(id)).filter(Boolean).map((x) => ({ kind: "project", id: x.id, name: x.name })),
  ];
  if (!items.length) return "";
  const mark = { set: "■", character: "●", project: "▸" };
  return `<h3>In</h3><div class="chips" id="membership">${items.map((m) => `<span class="chip member">
    <a href="${viewUrl(m.kind === "project" ? { project: m.id } : { collections: [m.id] })}" data-open-member="${m.kind}:${m.id}"
      title="Open the ${m.kind} ${esc(m.name)}">${mark[m.kind]} ${esc(m.name)}</a>
    <button data-leave="${m.kind}:${m.id}" aria-label="Remove from ${m.kind} ${esc(m.name)}">×</button></span>`).join("")}</div>`;
}
