// The search box's suggestions: as words are typed, the tags, sets, characters and projects whose names
// start with them, each with its kind (and a tag's count), under a first choice that searches the words in
// captions, prompts and file names. Arrow keys move through them, Enter takes one, Esc closes the list.
// Taking a name applies that exact filter; the words search also finds pictures of matching names.

import { api } from "./api.js";
import { esc } from "./ui.js";

const $ = (id) => document.getElementById(id);
const KINDS = { tag: "Tag", set: "Set", character: "Character", project: "Project" };

export function bindSearchSuggestions(app) {
  const box = $("search");
  const list = document.createElement("ul");
  list.id = "search-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Suggestions");
  list.hidden = true;
  box.parentElement.append(list);
  box.setAttribute("role", "combobox");
  box.setAttribute("aria-controls", list.id);
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-expanded", "false");
  let options = [];
  let active = -1;
  let asked = 0;

  const close = () => {
    asked++; // an answer still on its way is for a list no longer wanted (Esc, a choice, the box left)
    list.hidden = true;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const mark = (index) => {
    active = index;
    list.querySelectorAll("li").forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) box.setAttribute("aria-activedescendant", `suggestion-${index}`);
    else box.removeAttribute("aria-activedescendant");
  };
  const take = (option) => {
    close();
    if (option.kind === "words") { $("search-form").requestSubmit(); return; }
    box.value = "";
    if (option.kind === "tag") app.navigate({ tags: [option.name] });
    else if (option.kind === "project") app.navigate({ project: option.id });
    else app.navigate({ collections: [option.id] });
  };
  const show = async () => {
    const typed = box.value.trim();
    if (!typed || $("search-mode").value === "meaning") { close(); return; }
    const ticket = ++asked;
    const lower = typed.toLowerCase();
    const starts = (name) => name.toLowerCase().startsWith(lower);
    let tags = [];
    try { tags = await api.get("/tags", { prefix: typed, limit: 6 }); } catch { tags = []; }
    if (ticket !== asked) return; // a later keystroke asked since, or the list was closed
    options = [
      { kind: "words", name: typed },
      ...tags.map((t) => ({ kind: "tag", name: t.name, count: t.picture_count })),
      ...app.sidebar.collections.filter((c) => starts(c.name)).slice(0, 6)
        .map((c) => ({ kind: c.kind, name: c.name, id: c.id, count: c.member_count })),
      ...app.sidebar.projects.filter((p) => starts(p.name)).slice(0, 4)
        .map((p) => ({ kind: "project", name: p.name, id: p.id, count: p.picture_count })),
    ];
    list.innerHTML = options.map((o, i) => `<li id="suggestion-${i}" role="option" aria-selected="false" data-index="${i}">
      ${o.kind === "words" ? `<span class="kind">Words</span> <span>Search for “${esc(o.name)}”</span>`
        : `<span class="kind">${KINDS[o.kind]}</span> <span>${esc(o.name)}</span>${o.count != null
          ? ` <small class="muted">${Number(o.count).toLocaleString()}</small>` : ""}`}</li>`).join("");
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
    mark(-1);
  };

  box.addEventListener("input", show);
  box.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = active + (event.key === "ArrowDown" ? 1 : -1); // -1: back in the box
      mark(next >= options.length ? -1 : next < -1 ? options.length - 1 : next);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      take(options[active]);
    } else if (event.key === "Escape") { // closes the list only (a search box would clear itself too)
      event.preventDefault();
      event.stopPropagation();
      close();
    } else if (event.key === "Enter") {
      close();
    }
  });
  // A press on a suggestion takes it (pointerdown: before the box's blur closes the list).
  list.addEventListener("pointerdown", (event) => {
    const item = event.target.closest("li[data-index]");
    if (!item) return;
    event.preventDefault();
    take(options[Number(item.dataset.index)]);
  });
  box.addEventListener("blur", () => setTimeout(close, 150));
}
