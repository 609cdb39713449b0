// A virtualised picture grid: only the tiles in view exist in the DOM. The layout (every picture's id and
// size, in order) arrives first, so any position can be placed and jumped to at once; thumbnails are
// painted from ids straight away and details (rating, badges) are filled in as they arrive.

import { bindPointer } from "./grid_pointer.js";
import { decorateTile, makeTile, thumbnailFor } from "./tiles.js";

const GAP = 4;
const OVERSCAN = 2; // rows above and below the viewport
const HEADER = 36; // a date or rating header's height
const SCRUBBER = 44; // room on the right for the timeline
const NARROW = 700; // px: a phone (as in app.css)
let firstPainted = false; // for the Performance mark the benchmarks read

const PHONE_SCRUBBER = 14; // px: the phone's timeline strip (app.css)

export class Grid {
  constructor(element, { onOpen, onContext, onSelection, needDetails, needBadges, onDragStart, imageUrl,
    onOpenStack, selectable = true }) {
    this.el = element;
    this.inner = document.createElement("div");
    this.inner.className = "grid-inner";
    this.el.appendChild(this.inner);
    // Grid semantics that leave the layout alone: the tiles are the cells of one row of a grid, both
    // unpositioned (tiles are placed against .grid-inner); day headings stay outside it, where headings may be.
    const cells = document.createElement("div");
    cells.setAttribute("role", "grid");
    cells.setAttribute("aria-label", element.dataset.label || "Pictures");
    if (selectable) cells.setAttribute("aria-multiselectable", "true");
    this.row = document.createElement("div");
    this.row.setAttribute("role", "row");
    cells.appendChild(this.row);
    this.inner.appendChild(cells);
    this.onOpen = onOpen;
    this.onOpenStack = onOpenStack;
    this.showStacks = true;  // false inside an opened stack: its pictures need no count
    this.onContext = onContext;
    this.onSelection = onSelection;
    this.needDetails = needDetails;
    this.needBadges = needBadges;
    this.onDragStart = onDragStart;
    // Where a tile's thumbnail is (a share's recipient reads them through the share's own routes).
    // An edited picture's URL names its edit, so no cache holds an earlier look.
    this.imageUrl = imageUrl || ((id, size, edit) => `/api/v1/pictures/${id}/${size}.webp${edit ? `?edit=${edit}` : ""}`);
    this.selectable = selectable; // a read-only grid (a share) only opens pictures
    this.el.classList.toggle("read-only", !selectable);
    this.ids = new Uint32Array(0);
    this.widths = new Uint16Array(0);
    this.heights = new Uint16Array(0);
    this.indexOf = new Positions(new Uint32Array(0));
    this.details = new Map();
    this.badges = new Map(); // id -> tags and counts, which come after the details
    this.selected = new Set();
    this.allSelected = false; // Ctrl+A: every picture of the view, loaded or not (actions go by its filter)
    this.anchor = -1;
    this.focus = -1;
    this.mode = "square";
    this.size = 180;
    this.tiles = new Map(); // index -> element
    this.pool = []; // tiles scrolled out of view, reused for the ones scrolled in
    this.pending = new Set();
    this.stale = new Set(); // changed since their details came: asked for again, the old kept meanwhile
    this.rows = null;
    this.groups = null; // {starts, labels}: headers over the pictures, by date or rating
    this.headers = null; // where the groups' headers are
    this.headerTiles = new Map(); // group -> header element in view
    this.reserve = 0; // px on the right kept free (for the timeline scrubber)
    this.settleDelay = 60; // ms of rest after fast scrolling before images load (longer while scrubbing)
    this.frame = 0;
    this.el.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => { this.relayout(); }).observe(this.el);
    bindPointer(this);
  }

  // -- data -----------------------------------------------------------------------------------

  setLayout(ids, widths, heights, { keepScroll = false, groups = null } = {}) {
    this.ids = ids;
    this.setGroups(groups, { relayout: false });
    this.widths = widths;
    this.heights = heights;
    this.indexOf = new Positions(ids);
    if (this.allSelected) this.selected = new Set(ids);
    else for (const id of [...this.selected]) if (!this.indexOf.has(id)) this.selected.delete(id);
    if (!keepScroll) { this.el.scrollTop = 0; this.focus = -1; }
    this.relayout();
    if (this.allSelected) this.onSelection(this.selected);
  }

  /** Headers over runs of pictures ({kind, starts, keys, labels}, or null); a date-headed grid leaves
   * room on its right for the timeline scrubber. */
  setGroups(groups, { relayout = true } = {}) {
    this.groups = groups;
    this.reserve = groups && groups.kind !== "rating" ? SCRUBBER : 0;
    this.el.classList.toggle("scrubbed", this.reserve > 0);
    if (relayout) {
      const first = this.firstVisible();
      this.relayout();
      if (first >= 0) this.scrollToIndex(first, "start");
    }
  }

  setDetails(summaries) {
    let reshaped = false;
    for (const s of summaries) {
      this.details.set(s.id, s);
      this.stale.delete(s.id);
      const index = this.indexOf.get(s.id);  // an edit (a turn, a crop) changes a picture's shape
      if (index === undefined || (this.widths[index] === Math.min(65535, s.width)
        && this.heights[index] === Math.min(65535, s.height))) continue;
      this.widths[index] = Math.min(65535, s.width);
      this.heights[index] = Math.min(65535, s.height);
      reshaped = true;
    }
    if (reshaped) this.relayout();
    this.refreshTiles();
    if (summaries.length) this.needBadges(summaries.map((s) => s.id));
  }

  setBadges(list) {
    for (const b of list) this.badges.set(b.id, b);
    this.refreshTiles();
  }

  /** Details that are there and current (not changed since they came). */
  known(id) {
    return this.details.has(id) && !this.stale.has(id);
  }

  /** These pictures changed (all of them when ``ids`` is null): ask again only for the tiles on screen;
   * the rest are asked for when scrolled to. A bulk action on 100,000 pictures refetches dozens, not
   * every one. What was known stays until the new details come, so that a menu opened meanwhile (a
   * stack's items, say) still sees the picture. */
  refresh(ids = null) {
    for (const id of ids || this.details.keys()) this.stale.add(id);
    this.requestDetails([...this.tiles.keys()].map((i) => this.ids[i]).filter((id) => !this.known(id)));
  }

  setMode(mode, size) {
    this.mode = mode;
    this.size = size;
    const first = this.firstVisible();
    this.relayout();
    if (first >= 0) this.scrollToIndex(first, "start");
  }

  // -- layout ---------------------------------------------------------------------------------

  relayout() {
    // On a phone the timeline is a slim strip beside the tiles (never over them, where taps would reach
    // it instead of a tile), and tiles are small enough for three a row.
    const narrow = window.innerWidth <= NARROW;
    const width = Math.max(1, this.el.clientWidth - GAP - (narrow ? Math.min(this.reserve, PHONE_SCRUBBER) : this.reserve));
    const n = this.ids.length;
    const groups = this.groups?.starts.length ? this.groups : null;
    const square = this.mode === "square";
    const size = narrow ? Math.min(this.size, width / 3 - GAP) : this.size;
    const columns = Math.max(1, Math.floor(width / (size + GAP)));
    const cell = Math.floor(width / columns) - GAP;
    this.headers = null;
    if (square && !groups) {
      // Without headers every row is alike: positions are arithmetic, at any size.
      this.rows = { square, uniform: true, columns, cell, count: Math.ceil(n / columns) };
      this.inner.style.height = `${this.rows.count * (cell + GAP) + GAP}px`;
    } else {
      // Rows listed one by one: justified rows (each filled at the target height, then scaled to the
      // width) or square ones, each group starting a new row under its header.
      const starts = [];
      const tops = [];
      const heights = [];
      const headerTops = [];
      let top = GAP;
      let group = 0;
      let i = 0;
      while (i < n) {
        let end = n;
        if (groups) {
          headerTops.push(top);
          top += HEADER;
          end = group + 1 < groups.starts.length ? groups.starts[group + 1] : n;
          group += 1;
        }
        while (i < end) {
          const start = i;
          let height = cell;
          if (square) i = Math.min(end, i + columns);
          else {
            let sum = 0;
            while (i < end) {
              sum += this.aspect(i);
              i += 1;
              if (sum * size + (i - start) * GAP >= width) break;
            }
            const full = sum * size + (i - start) * GAP >= width;
            height = full ? (width - (i - start) * GAP) / sum : size;
          }
          starts.push(start);
          tops.push(top);
          heights.push(height);
          top += height + GAP;
        }
      }
      this.rows = { square, uniform: false, columns, cell, starts: Int32Array.from(starts),
        tops: Float64Array.from(tops), heights: Float64Array.from(heights), count: starts.length };
      if (groups) this.headers = { tops: Float64Array.from(headerTops), labels: groups.labels };
      this.inner.style.height = `${top}px`;
    }
    for (const tile of this.tiles.values()) { tile.hidden = true; this.pool.push(tile); }
    this.tiles.clear();
    this.reuseOwn = true; // the next render gives each picture back its own tile (its image stays painted)
    for (const header of this.headerTiles.values()) header.remove();
    this.headerTiles.clear();
    this.render();
    if (this.onLayout) this.onLayout();
  }

  aspect(i) {
    const w = this.widths[i] || 1;
    const h = this.heights[i] || 1;
    return Math.min(4, Math.max(0.25, w / h));
  }

  rowOf(index) {
    if (this.rows.uniform) return Math.floor(index / this.rows.columns);
    return lastAtMost(this.rows.starts, index);
  }

  rowTop(row) {
    return this.rows.uniform ? GAP + row * (this.rows.cell + GAP) : this.rows.tops[row];
  }

  rowHeight(row) {
    return this.rows.uniform ? this.rows.cell : this.rows.heights[row];
  }

  rowRange(row) {
    if (this.rows.uniform) {
      const start = row * this.rows.columns;
      return [start, Math.min(this.ids.length, start + this.rows.columns)];
    }
    return [this.rows.starts[row], row + 1 < this.rows.count ? this.rows.starts[row + 1] : this.ids.length];
  }

  rowAt(y) {
    if (this.rows.uniform) return Math.max(0, Math.floor((y - GAP) / (this.rows.cell + GAP)));
    return lastAtMost(this.rows.tops, y);
  }

  box(index) {
    const row = this.rowOf(index);
    const top = this.rowTop(row);
    const height = this.rowHeight(row);
    const [start] = this.rowRange(row);
    if (this.rows.square) {
      return { left: GAP + (index - start) * (this.rows.cell + GAP), top, width: this.rows.cell, height };
    }
    let left = GAP;
    for (let i = start; i < index; i++) left += this.aspect(i) * height + GAP;
    return { left, top, width: this.aspect(index) * height, height };
  }

  /** The group in view at the top of the grid (the one a scrubber names), or -1. */
  groupInView(top = this.el.scrollTop) {
    if (!this.headers || !this.headers.tops.length) return -1;
    return lastAtMost(this.headers.tops, top + HEADER);
  }

  // -- rendering ------------------------------------------------------------------------------

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  visibleRange(top = this.el.scrollTop, height = this.el.clientHeight) {
    if (!this.rows || !this.rows.count) return [0, 0];
    const first = Math.max(0, this.rowAt(top) - OVERSCAN);
    const last = Math.min(this.rows.count - 1, this.rowAt(top + height) + OVERSCAN);
    return [this.rowRange(first)[0], this.rowRange(last)[1]];
  }

  firstVisible() {
    if (!this.rows || !this.rows.count) return -1;
    return this.rowRange(this.rowAt(this.el.scrollTop))[0];
  }

  render() {
    if (!this.rows) return;
    // Read the geometry once, before any change: a read after a change forces a layout mid-frame.
    const top = this.el.scrollTop;
    const viewHeight = this.el.clientHeight;
    const [start, end] = this.visibleRange(top, viewHeight);
    // Faster than about half a screen a second: place tiles now, fetch their images once scrolling pauses.
    // Decoding and painting images is what costs frames (measured in benchmarks/bench_ui.py).
    const now = performance.now();
    if (top !== this.lastTop) {
      const speed = Math.abs(top - (this.lastTop ?? 0)) / Math.max(1, now - (this.lastTime ?? now));
      this.lastTop = top;
      this.lastTime = now;
      // A render for a position already drawn (the scroll event after a jump) keeps the jump's verdict.
      this.fastUntil = speed > (this.flingSpeed ?? viewHeight / 2000) ? now + this.settleDelay - 10 : 0;
    }
    const fast = now < this.fastUntil;
    if (fast) { clearTimeout(this.settleTimer); this.settleTimer = setTimeout(() => this.render(), this.settleDelay); }
    for (const [index, tile] of this.tiles) {
      if (index < start || index >= end) { this.pool.push(tile); tile.hidden = true; this.tiles.delete(index); }
    }
    const missing = [];
    for (let index = start; index < end; index++) {
      let tile = this.tiles.get(index);
      const id = this.ids[index];
      if (!tile) {
        // Reuse this picture's own tile when it is in the pool (a relayout): its image stays painted.
        const own = this.reuseOwn ? this.pool.findIndex((t) => t.dataset.id === String(id)) : -1;
        tile = own >= 0 ? this.pool.splice(own, 1)[0] : this.pool.pop() || this.makeTile();
        const same = tile.dataset.id === String(id);
        tile.hidden = false;
        tile.dataset.index = index;
        tile.dataset.id = id;
        if (!same) tile.dataset.src = "";
        const b = this.box(index);
        tile.style.cssText = `left:${b.left}px;top:${b.top}px;width:${b.width}px;height:${b.height}px`;
        tile.thumbnail = thumbnailFor(b.width, b.height); // chosen as it is placed, not every frame
        const img = tile.firstChild;
        if (!same) img.removeAttribute("src");
        img.alt = `Picture ${id}`;
        this.tiles.set(index, tile);
        this.decorate(tile, index);
        if (!this.known(id)) missing.push(id);
      }
      if (!fast && tile.dataset.src !== this.wantedSrc(tile, id)) {
        if (!firstPainted && index === start) {
          tile.firstChild.addEventListener("load", () => requestAnimationFrame(() => {
            if (!firstPainted) { firstPainted = true; performance.mark("pixlstash:first-thumbnail"); }
          }), { once: true });
        }
        this.paint(tile, id);
      }
    }
    this.renderHeaders(top, viewHeight);
    this.reuseOwn = false;
    if (missing.length && !fast) this.requestDetails(missing);
    else if (missing.length) this.settleDetails = true;
    if (!fast && this.settleDetails) {
      this.settleDetails = false;
      this.requestDetails([...this.tiles.keys()].map((i) => this.ids[i]).filter((id) => !this.known(id)));
    }
  }

  /** Headers of the groups in view, placed like tiles (few exist at a time, at any library size). */
  renderHeaders(top, viewHeight) {
    if (!this.headers) return;
    const { tops, labels } = this.headers;
    const first = lastAtMost(tops, top - HEADER);
    const seen = new Set();
    for (let g = first; g < tops.length && tops[g] < top + viewHeight; g++) {
      seen.add(g);
      if (this.headerTiles.has(g)) continue;
      const header = document.createElement("h3");
      header.className = "group-header";
      header.textContent = labels[g];
      header.style.top = `${tops[g]}px`;
      this.inner.appendChild(header);
      this.headerTiles.set(g, header);
    }
    for (const [g, header] of this.headerTiles) if (!seen.has(g)) { header.remove(); this.headerTiles.delete(g); }
  }

  wantedSrc(tile, id) {
    return `${id}/${tile.thumbnail}/${this.details.get(id)?.edit_key ?? ""}`;
  }

  paint(tile, id) {
    tile.dataset.src = this.wantedSrc(tile, id);
    tile.firstChild.src = this.imageUrl(id, tile.thumbnail, this.details.get(id)?.edit_key ?? "");
  }

  makeTile() {
    const tile = makeTile();
    tile.draggable = this.selectable;
    this.row.appendChild(tile);
    return tile;
  }

  requestDetails(ids) {
    const wanted = ids.filter((id) => !this.pending.has(id));
    if (!wanted.length) return;
    wanted.forEach((id) => this.pending.add(id));
    clearTimeout(this.detailsTimer);
    this.detailsTimer = setTimeout(() => {
      const batch = [...this.pending].filter((id) => !this.known(id));
      this.pending.clear();
      for (let i = 0; i < batch.length; i += 200) this.needDetails(batch.slice(i, i + 200));
    }, 30);
  }

  decorate(tile, index) {
    const id = this.ids[index];
    tile.classList.toggle("selected", this.selected.has(id));
    tile.classList.toggle("focused", index === this.focus);
    tile.setAttribute("aria-selected", this.selected.has(id) ? "true" : "false");
    tile.querySelector(".check").setAttribute("aria-checked", this.selected.has(id) ? "true" : "false");
    decorateTile(tile, this.details.get(id), this.badges.get(id), () => this.box(index).width, this.showStacks);
    // Painted before its details said it was edited (or edited since): the edited look.
    if (tile.dataset.src && tile.dataset.src !== this.wantedSrc(tile, id)) this.paint(tile, id);
  }

  refreshTiles() {
    this.el.classList.toggle("selecting", this.selected.size > 0);
    for (const [index, tile] of this.tiles) this.decorate(tile, index);
  }

  scrollToIndex(index, where = "nearest") {
    if (index < 0 || index >= this.ids.length) return;
    const b = this.box(index);
    const top = this.el.scrollTop;
    const height = this.el.clientHeight;
    if (where === "start") this.el.scrollTop = b.top - GAP;
    else if (where === "center") this.el.scrollTop = b.top - (height - b.height) / 2;
    else if (b.top < top) this.el.scrollTop = b.top - GAP;
    else if (b.top + b.height > top + height) this.el.scrollTop = b.top + b.height - height + GAP;
    this.render();
  }

  // -- selection ------------------------------------------------------------------------------

  select(ids, { add = false, all = false } = {}) {
    this.allSelected = all;
    if (!add) this.selected.clear();
    for (const id of ids) this.selected.add(id);
    this.refreshTiles();
    this.onSelection(this.selected);
  }

  toggle(id) {
    this.allSelected = false;
    if (this.selected.has(id)) this.selected.delete(id); else this.selected.add(id);
    this.refreshTiles();
    this.onSelection(this.selected);
  }

  selectRange(from, to, add) {
    const [a, b] = from < to ? [from, to] : [to, from];
    const ids = [];
    for (let i = Math.max(0, a); i <= b; i++) ids.push(this.ids[i]);
    this.select(ids, { add });
  }

  /** Every picture of the view, including those whose ids have not arrived yet. */
  selectAll() {
    this.select(this.ids, { all: true });
  }

  clearSelection() {
    this.select([]);
  }

  moveFocus(index, { extend = false } = {}) {
    index = Math.max(0, Math.min(this.ids.length - 1, index));
    if (!this.ids.length) return;
    if (extend) {
      if (this.anchor < 0) this.anchor = this.focus >= 0 ? this.focus : index;
      this.selectRange(this.anchor, index, false);
    } else {
      this.anchor = index;
    }
    this.focus = index;
    this.scrollToIndex(index);
    this.refreshTiles();
  }

  columnsAt(index) {
    if (this.rows.square) return this.rows.columns;
    const [start, end] = this.rowRange(this.rowOf(index));
    return end - start;
  }

  step(direction, extend) {
    let index = this.focus < 0 ? 0 : this.focus;
    if (this.focus >= 0) {
      if (direction === "left") index -= 1;
      if (direction === "right") index += 1;
      if (direction === "up" || direction === "down") {
        const row = this.rowOf(index) + (direction === "up" ? -1 : 1);
        if (row >= 0 && row < this.rows.count) {
          const b = this.box(index);
          const [start, end] = this.rowRange(row);
          index = start;
          for (let i = start; i < end; i++) if (this.box(i).left <= b.left + b.width / 2) index = i;
        }
      }
    }
    this.moveFocus(index, { extend });
  }
}

/** Where each id is in the grid's order: a typed array indexed by id, not a Map of a million entries
 * (which costs a tenth of a second to fill and weighs on every garbage collection). ``get`` and ``has``
 * as a Map's. */
class Positions {
  constructor(ids) {
    let max = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] > max) max = ids[i];
    this.at = new Int32Array(ids.length ? max + 1 : 0).fill(-1);
    for (let i = 0; i < ids.length; i++) this.at[ids[i]] = i;
  }

  get(id) {
    const index = this.at[id];
    return index >= 0 ? index : undefined;
  }

  has(id) {
    return this.at[id] >= 0;
  }
}

/** The last position in an ascending array whose value is at most ``value`` (0 when none is). */
export function lastAtMost(sorted, value) {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid] <= value) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** Decode the packed layout from ``GET /pictures/layout``: ids, sizes, and groups (each one's first
 * position and key). */
export function decodeLayout(buffer) {
  const view = new DataView(buffer);
  const count = view.getUint32(0, true);
  const ids = new Uint32Array(buffer.slice(4, 4 + 4 * count));
  const widths = new Uint16Array(buffer.slice(4 + 4 * count, 4 + 6 * count));
  const heights = new Uint16Array(buffer.slice(4 + 6 * count, 4 + 8 * count));
  const at = 4 + 8 * count;
  const groups = at + 4 <= buffer.byteLength ? view.getUint32(at, true) : 0;
  const starts = new Uint32Array(buffer.slice(at + 4, at + 4 + 4 * groups));
  const keys = new Int32Array(buffer.slice(at + 4 + 4 * groups, at + 4 + 8 * groups));
  return { ids, widths, heights, starts, keys };
}
