// Keyboard: arrows move the focus (Shift extends the selection), Space toggles, Enter opens, Esc closes,
// 1-5 rate, 0 clears, T tags, Delete scraps, F searches, Ctrl+Z undoes, Ctrl+Y redoes, ? shows every
// shortcut. In the picture overlay the arrows step.

import { api } from "./api.js";
import { redo, undo } from "./panels/history.js";

const $ = (id) => document.getElementById(id);
const ARROWS = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down" };
const WRITING_KEYS = new Set(["0", "1", "2", "3", "4", "5", "a", "x", "r", "R", "c", "t", "T", "Delete"]);

/** The modal open on top (a dialog over the viewer first), or null. */
function openModal() {
  if (!$("dialog").hidden) return $("dialog").querySelector(".dialog");
  return $("overlay").hidden ? null : $("overlay");
}

/** Tab and Shift+Tab cycle through a modal's controls instead of leaving it for the page behind. */
function keepFocusIn(modal, event) {
  if (!modal) return;
  const controls = [...modal.querySelectorAll("button, a[href], input, select, textarea, [tabindex]:not([tabindex='-1'])")]
    .filter((el) => !el.disabled && el.getClientRects().length);
  if (!controls.length) return;
  const first = controls[0];
  const last = controls[controls.length - 1];
  const inside = modal.contains(document.activeElement);
  if (event.shiftKey && (!inside || document.activeElement === first || document.activeElement === modal)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (!inside || document.activeElement === last)) {
    event.preventDefault();
    first.focus();
  }
}

/** A text field holding what was typed and not yet sent: Esc leaves it first rather than lose it with the
 * viewer or panel around it. */
function holdsUnsentText(target) {
  return target.matches("textarea, input:not([type=checkbox], [type=radio], [type=range])")
    && target.value !== target.defaultValue;
}

export function bindKeyboard(app) {
  document.addEventListener("keydown", async (event) => {
    if (event.key === "Tab") { keepFocusIn(openModal(), event); return; }
    if (event.target.matches("input, textarea, select") && event.key !== "Escape") return;
    const grid = app.grid;
    const overlayOpen = !$("overlay").hidden;
    const dialogOpen = !$("dialog").hidden;
    if (dialogOpen) return;
    if (event.key === "Escape") {
      if (holdsUnsentText(event.target)) { event.target.blur(); event.preventDefault(); return; }  // first, keep it
      const filters = document.querySelector(".filters[open]");
      if (filters) filters.open = false;
      // What is on screen has its module in already (imported again, it answers at once).
      else if (!$("menu").hidden) app.menus().then((m) => m.hideMenu());
      else if (overlayOpen) app.viewer().then((m) => m.leaveTool() || m.closeOverlay(app));
      else if (!$("panel").hidden) app.panels().then((m) => m.closePanel());
      else if (event.target.matches("input")) event.target.blur();
      else grid.clearSelection();
      event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) {
      const key = event.key.toLowerCase();
      if ((event.ctrlKey || event.metaKey) && key === "a" && !overlayOpen) {
        event.preventDefault();
        grid.selectAll();
      } else if ((event.ctrlKey || event.metaKey) && !event.altKey && (key === "y" || key === "z")
        && app.me?.scope !== "read") {
        event.preventDefault();
        if (key === "y" || event.shiftKey) redo(app); else undo(app);
      }
      return;
    }
    // The open picture, else the selection, else the focused one (arrows move the focus, not the selection).
    const focused = grid.focus >= 0 ? [grid.ids[grid.focus]] : [];
    const targets = overlayOpen ? [app.view.picture] : (app.selection().length ? app.selection() : focused);
    if (overlayOpen && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
      event.preventDefault();
      (await app.viewer()).step(app, event.key === "ArrowLeft" ? -1 : 1);
      return;
    }
    // A viewer changes nothing: the keys that would (rate, tag, turn, crop, delete, accept, undo) do nothing.
    if (app.me?.scope === "read" && WRITING_KEYS.has(event.key)) return;
    if (overlayOpen && ["a", "x", "r", "R", "c"].includes(event.key)) {
      const picture = await fetchPicture(app);
      if (picture) (await app.viewer()).overlayKeys(app, picture, event);
      return;
    }
    // The context-menu key (or Shift+F10) opens the picture menu of the selection or the focused picture.
    if (!overlayOpen && (event.key === "ContextMenu" || (event.shiftKey && event.key === "F10")) && targets.length) {
      event.preventDefault();
      const tile = grid.el.querySelector(`.tile[data-id="${targets[0]}"]:not([hidden])`)?.getBoundingClientRect();
      (await app.menus()).contextMenu(app, tile ? tile.left + 16 : 80, tile ? tile.top + 16 : 80, targets);
      return;
    }
    if (!overlayOpen && ARROWS[event.key]) {
      event.preventDefault();
      grid.step(ARROWS[event.key], event.shiftKey); // the focus moves; Space or Shift selects
      return;
    }
    switch (event.key) {
      case " ":
        if (overlayOpen || grid.focus < 0) return;
        event.preventDefault();
        grid.toggle(grid.ids[grid.focus]);
        break;
      case "Enter":
        if (overlayOpen) return;
        if (grid.focus >= 0) app.update({ picture: grid.ids[grid.focus] });
        else if (targets.length) app.update({ picture: targets[0] });
        break;
      case "1": case "2": case "3": case "4": case "5": case "0":
        if (targets.length) {
          await (await app.menus()).actions.rate(app, targets, Number(event.key));
          if (overlayOpen) app.apply(app.view);
        }
        break;
      case "i": case "I":
        if (overlayOpen) { event.preventDefault(); (await app.viewer()).toggleInfo(); }
        break;
      case "r": case "R":  // turn the selection (or the focused picture) right, with Shift left
        if (targets.length) (await app.menus()).actions.turn(app, targets, event.key === "r" ? 90 : -90);
        break;
      case "t": case "T":
        event.preventDefault();
        if (overlayOpen) $("tag-input")?.focus();
        else if (targets.length) (await app.menus()).actions.tag(app, targets);
        break;
      case "Delete":
        if (targets.length) {
          if (overlayOpen) (await app.viewer()).closeOverlay(app);
          (await app.menus()).actions.remove(app, targets);
        }
        break;
      case "f": case "F":
        event.preventDefault();
        $("search").focus();
        break;
      case "?":
        app.showPanel("help");
        break;
      default:
    }
  });
}

async function fetchPicture(app) {
  try { return await api.get(`/pictures/${app.view.picture}`); } catch { return null; }
}
