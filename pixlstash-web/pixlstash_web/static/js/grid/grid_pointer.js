// The grid's pointer: a click opens, the check mark, Ctrl or Shift select (and once anything is selected,
// clicks select), a touch's long press selects, right-click opens the menu, tiles drag onto the sidebar,
// and a drag on the background draws a rubber band.

const LONG_PRESS = 450; // ms a touch rests on a tile to select it

export function bindPointer(grid) {
  let band = null;
  // A click opens a picture; the check mark, Ctrl or Shift select; once anything is selected, clicks
  // select (as in photo apps people know). On touch, a long press selects.
  grid.el.addEventListener("click", (event) => {
    const tile = event.target.closest(".tile");
    if (!tile || band?.moved) return;
    if (grid.longPressed) { grid.longPressed = false; return; } // the click that ends a long press
    const stack = event.target.closest(".stack-open");
    if (stack) { grid.onOpenStack?.(Number(stack.dataset.stack)); return; }
    const index = Number(tile.dataset.index);
    const id = Number(tile.dataset.id);
    const selecting = grid.selectable && (grid.selected.size > 0 || event.target.closest(".check"));
    if (!grid.selectable) { grid.focus = index; grid.onOpen(id); return; }
    if (event.shiftKey && grid.anchor >= 0) grid.selectRange(grid.anchor, index, true);
    else if (event.ctrlKey || event.metaKey || selecting) { grid.toggle(id); grid.anchor = index; }
    else { grid.focus = index; grid.anchor = index; grid.onOpen(id); return; }
    grid.focus = index;
    grid.refreshTiles();
  });
  let press = null;
  grid.el.addEventListener("pointerdown", (event) => {
    grid.longPressed = false;
    const tile = event.target.closest(".tile");
    if (!tile || event.pointerType !== "touch" || !grid.selectable) return;
    const id = Number(tile.dataset.id);
    const fire = () => {
      clearTimeout(press?.timer);
      press = null;
      grid.longPressed = true;
      grid.toggle(id);
      grid.anchor = Number(tile.dataset.index);
      navigator.vibrate?.(15);
    };
    press = { timer: setTimeout(fire, LONG_PRESS), fire, x: event.clientX, y: event.clientY };
  });
  const endPress = () => { if (press) { clearTimeout(press.timer); press = null; } };
  grid.el.addEventListener("pointermove", (event) => {
    if (press && Math.hypot(event.clientX - press.x, event.clientY - press.y) > 10) endPress();
  });
  grid.el.addEventListener("pointerup", endPress);
  grid.el.addEventListener("pointercancel", endPress);
  grid.el.addEventListener("scroll", endPress, { passive: true });
  grid.el.addEventListener("contextmenu", (event) => {
    const tile = event.target.closest(".tile");
    if (!tile || !grid.selectable) return;
    event.preventDefault();
    if (press) { press.fire(); return; } // on touch, a long press selects (the browser's menu is early)
    if (grid.longPressed) return;
    const id = Number(tile.dataset.id);
    if (!grid.selected.has(id)) { grid.select([id]); grid.anchor = Number(tile.dataset.index); }
    grid.onContext(event.clientX, event.clientY, [...grid.selected]);
  });
  grid.el.addEventListener("dragstart", (event) => {
    const tile = event.target.closest(".tile");
    if (!tile || !grid.selectable) return;
    const id = Number(tile.dataset.id);
    if (!grid.selected.has(id)) grid.select([id]);
    event.dataTransfer.setData("application/x-pixlstash-pictures", JSON.stringify([...grid.selected]));
    event.dataTransfer.effectAllowed = "copyMove";
    if (grid.onDragStart) grid.onDragStart([...grid.selected]);
  });
  // Rubber-band selection: press on the background between tiles and drag.
  grid.el.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || event.target.closest(".tile") || !grid.selectable) return;
    const origin = point(grid, event);
    const rect = document.createElement("div");
    rect.className = "rubber";
    band = { origin, rect, moved: false, add: event.ctrlKey || event.metaKey, base: new Set(grid.selected) };
    grid.el.setPointerCapture(event.pointerId);
  });
  grid.el.addEventListener("pointermove", (event) => {
    if (!band) return;
    const p = point(grid, event);
    const left = Math.min(p.x, band.origin.x);
    const top = Math.min(p.y, band.origin.y);
    const width = Math.abs(p.x - band.origin.x);
    const height = Math.abs(p.y - band.origin.y);
    if (!band.moved && width + height < 6) return;
    if (!band.moved) { band.moved = true; grid.inner.appendChild(band.rect); }
    band.rect.style.cssText = `left:${left}px;top:${top}px;width:${width}px;height:${height}px`;
    const ids = new Set(band.add ? band.base : []);
    const firstRow = grid.rowAt(top);
    const lastRow = grid.rowAt(top + height);
    for (let row = firstRow; row <= lastRow && row < grid.rows.count; row++) {
      const [start, end] = grid.rowRange(row);
      for (let i = start; i < end; i++) {
        const b = grid.box(i);
        if (b.left < left + width && b.left + b.width > left && b.top < top + height && b.top + b.height > top) {
          ids.add(grid.ids[i]);
        }
      }
    }
    grid.selected = ids;
    grid.allSelected = false;
    grid.refreshTiles();
  });
  const finish = () => {
    if (!band) return;
    if (band.moved) { band.rect.remove(); grid.onSelection(grid.selected); }
    else if (!band.add) grid.clearSelection();
    setTimeout(() => { band = null; }, 0);
  };
  grid.el.addEventListener("pointerup", finish);
  grid.el.addEventListener("pointercancel", finish);
}

/** Where the pointer is inside the grid's scrolled content. */
function point(grid, event) {
  const r = grid.inner.getBoundingClientRect();
  return { x: event.clientX - r.left, y: event.clientY - r.top };
}
