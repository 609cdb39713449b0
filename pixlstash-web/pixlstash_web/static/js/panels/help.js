// The keyboard shortcuts panel.

import { esc } from "../ui.js";

// -- shortcuts --------------------------------------------------------------------------------------

export const SHORTCUTS = [
  ["Click", "open (select, once anything is selected)"], ["Ctrl / Shift + click", "select, a range"],
  ["← → ↑ ↓", "move"], ["Shift + arrows", "extend the selection"], ["Space", "select or unselect"],
  ["Enter", "open the picture"], ["Esc", "close, or clear the selection"], ["1 – 5", "rate (the selection, or the picture in focus)"],
  ["0", "clear the rating"],
  ["T", "tag"], ["Delete", "move to the scrapheap"], ["F", "search"], ["Ctrl + A", "select all"],
  ["A / X", "accept / reject suggested tags (in the picture)"], ["I", "show or hide the details (in the picture)"],
  ["R / Shift + R", "turn right / left (the picture, or the selection)"], ["C", "crop and straighten (in the picture)"],
  ["Shift + F10, menu key", "the picture menu"], ["Tab", "move between controls (Skip to pictures first)"],
  ["Ctrl + Z", "undo"],
  ["Ctrl + Y, Ctrl + Shift + Z", "redo"], ["?", "these shortcuts"],
];

export function renderHelp(app, panel, frame) {
  const { header, bindClose } = frame;
  panel.innerHTML = `${header("Keyboard shortcuts")}<dl class="kv">${SHORTCUTS.map(([k, d]) =>
    `<dt><kbd>${esc(k)}</kbd></dt><dd>${esc(d)}</dd>`).join("")}</dl>`;
  bindClose(panel);
}
