// A virtualised picture grid: only the tiles in view exist in the DOM. The layout (every picture's id and
// size, in order) arrives first, so any position can be placed and jumped to at once; thumbnails are
// painted from ids straight away and details (rating, badges) are filled in as they arrive.

const GAP = 4;
const OVERSCAN = 2; // rows above and below the viewport
let firstPainted = false; // for the Performance mark the benchmarks read

export class Grid {
  constructor(element, { onOpen, onContext, onSelection, needDetails, needBadges, onDragStart }) {
    this.el = element;
    this.inner = document.createElement("div");
    this.inner.className = "grid-inner";
    this.el.appendChild(this.inner);
    this.onOpen = onOpen;
    this.onContext = onContext;
    this.onSelection = onSelection;
    this.needDetails = needDetails;
    this.needBadges = needBadges;
    this.onDragStart = onDragStart;
    this.ids = new Uint32Array(0);
    this.widths = new Uint16Array(0);
    this.heights = new Uint16Array(0);
    this.indexOf = new Map();
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
    this.rows = null;
    this.frame = 0;
    this.el.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => { this.relayout(); }).observe(this.el);
    this.bindPointer();
  }

  // -- data -----------------------------------------------------------------------------------

  setLayout(ids, widths, heights, { keepScroll = false } = {}) {
    this.ids = ids;
    this.widths = widths;
    this.heights = heights;
    this.indexOf = new Map();
    for (let i = 0; i < ids.length; i++) this.indexOf.set(ids[i], i);
    if (this.allSelected) this.selected = new Set(ids);
    else for (const id of [...this.selected]) if (!this.indexOf.has(id)) this.selected.delete(id);
    if (!keepScroll) { this.el.scrollTop = 0; this.focus = -1; }
    this.relayout();
    if (this.allSelected) this.onSelection(this.selected);
  }

  setDetails(summaries) {
    for (const s of summaries) this.details.set(s.id, s);
    this.refreshTiles();
    if (summaries.length) this.needBadges(summaries.map((s) => s.id));
  }

  setBadges(list) {
    for (const b of list) this.badges.set(b.id, b);
    this.refreshTiles();
  }

  forget(ids) {
    for (const id of ids) { this.details.delete(id); this.badges.delete(id); }
  }

  /** These pictures changed (all of them when ``ids`` is null): drop what is known of them and ask again
   * only for the tiles on screen; the rest are asked for when scrolled to. A bulk action on 100,000
   * pictures refetches dozens, not every one. */
  refresh(ids = null) {
    if (ids) this.forget(ids); else { this.details.clear(); this.badges.clear(); }
    this.requestDetails([...this.tiles.keys()].map((i) => this.ids[i]).filter((id) => !this.details.has(id)));
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
    const width = Math.max(1, this.el.clientWidth - GAP);
    const n = this.ids.length;
    if (this.mode === "square") {
      const columns = Math.max(1, Math.floor(width / (this.size + GAP)));
      const cell = Math.floor(width / columns) - GAP;
      this.rows = { square: true, columns, cell, count: Math.ceil(n / columns) };
      this.inner.style.height = `${this.rows.count * (cell + GAP) + GAP}px`;
    } else {
      // Justified: fill each row with pictures at the target height, then scale the row to the width.
      const starts = [];
      const tops = [];
      const heights = [];
      let top = GAP;
      let i = 0;
      while (i < n) {
        let sum = 0;
        const start = i;
        while (i < n) {
          sum += this.aspect(i);
          i += 1;
          if (sum * this.size + (i - start) * GAP >= width) break;
        }
        const full = sum * this.size + (i - start) * GAP >= width;
        const height = full ? (width - (i - start) * GAP) / sum : this.size;
        starts.push(start);
        tops.push(top);
        heights.push(height);
        top += height + GAP;
      }
      this.rows = { square: false, starts: Int32Array.from(starts), tops: Float64Array.from(tops),
        heights: Float64Array.from(heights), count: starts.length };
      this.inner.style.height = `${top}px`;
    }
    for (const tile of this.tiles.values()) { tile.hidden = true; this.pool.push(tile); }
    this.tiles.clear();
    this.render();
  }

  aspect(i) {
    const w = this.widths[i] || 1;
    const h = this.heights[i] || 1;
    return Math.min(4, Math.max(0.25, w / h));
  }

  rowOf(index) {
    if (this.rows.square) return Math.floor(index / this.rows.columns);
    return lastAtMost(this.rows.starts, index);
  }

  rowTop(row) {
    return this.rows.square ? GAP + row * (this.rows.cell + GAP) : this.rows.tops[row];
  }

  rowHeight(row) {
    return this.rows.square ? this.rows.cell : this.rows.heights[row];
  }

  rowRange(row) {
    if (this.rows.square) {
      const start = row * this.rows.columns;
      return [start, Math.min(this.ids.length, start + this.rows.columns)];
    }
    return [this.rows.starts[row], row + 1 < this.rows.count ? this.rows.starts[row + 1] : this.ids.length];
  }

  rowAt(y) {
    if (this.rows.square) return Math.max(0, Math.floor((y - GAP) / (this.rows.cell + GAP)));
    return lastAtMost(this.rows.tops, y);
  }

  box(index) {
    const row = this.rowOf(index);
    const top = this.rowTop(row);
    const height = this.rowHeight(row);
    if (this.rows.square) {
      const column = index % this.rows.columns;
      return { left: GAP + column * (this.rows.cell + GAP), top, width: this.rows.cell, height };
    }
    let left = GAP;
    const [start] = this.rowRange(row);
    for (let i = start; i < index; i++) left += this.aspect(i) * height + GAP;
    return { left, top, width: this.aspect(index) * height, height };
  }

  // -- rendering ------------------------------------------------------------------------------

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  visibleRange() {
    if (!this.rows || !this.rows.count) return [0, 0];
    const top = this.el.scrollTop;
    const first = Math.max(0, this.rowAt(top) - OVERSCAN);
    const last = Math.min(this.rows.count - 1, this.rowAt(top + this.el.clientHeight) + OVERSCAN);
    return [this.rowRange(first)[0], this.rowRange(last)[1]];
  }

  firstVisible() {
    if (!this.rows || !this.rows.count) return -1;
    return this.rowRange(this.rowAt(this.el.scrollTop))[0];
  }

  render() {
    if (!this.rows) return;
    const [start, end] = this.visibleRange();
    // Faster than about half a screen a second: place tiles now, fetch their images once scrolling pauses.
    // Decoding and painting images is what costs frames (measured in benchmarks/bench_ui.py).
    const now = performance.now();
    const speed = Math.abs(this.el.scrollTop - (this.lastTop ?? 0)) / Math.max(1, now - (this.lastTime ?? now));
    this.lastTop = this.el.scrollTop;
    this.lastTime = now;
    const fast = speed > (this.flingSpeed ?? this.el.clientHeight / 2000);
    if (fast) { clearTimeout(this.settleTimer); this.settleTimer = setTimeout(() => this.render(), 60); }
    for (const [index, tile] of this.tiles) {
      if (index < start || index >= end) { this.pool.push(tile); tile.hidden = true; this.tiles.delete(index); }
    }
    const missing = [];
    for (let index = start; index < end; index++) {
      let tile = this.tiles.get(index);
      const id = this.ids[index];
      if (!tile) {
        // Reuse this picture's own tile when it is in the pool (a relayout): its image stays painted.
        const own = this.pool.findIndex((t) => t.dataset.id === String(id));
        tile = own >= 0 ? this.pool.splice(own, 1)[0] : this.pool.pop() || this.makeTile();
        const same = tile.dataset.id === String(id);
        tile.hidden = false;
        tile.dataset.index = index;
        tile.dataset.id = id;
        if (!same) tile.dataset.src = "";
        const b = this.box(index);
        tile.style.cssText = `left:${b.left}px;top:${b.top}px;width:${b.width}px;height:${b.height}px`;
        const img = tile.firstChild;
        if (!same) img.removeAttribute("src");
        img.alt = `Picture ${id}`;
        this.tiles.set(index, tile);
        this.decorate(tile, index);
        if (!this.details.has(id)) missing.push(id);
      }
      if (!fast && tile.dataset.src !== String(id)) {
        tile.dataset.src = String(id);
        const img = tile.firstChild;
        if (!firstPainted && index === start) {
          img.addEventListener("load", () => requestAnimationFrame(() => {
            if (!firstPainted) { firstPainted = true; performance.mark("pixlstash:first-thumbnail"); }
          }), { once: true });
        }
        img.src = `/api/v1/pictures/${id}/grid.webp`;
      }
    }
    if (missing.length && !fast) this.requestDetails(missing);
    else if (missing.length) this.settleDetails = true;
    if (!fast && this.settleDetails) {
      this.settleDetails = false;
      this.requestDetails([...this.tiles.keys()].map((i) => this.ids[i]).filter((id) => !this.details.has(id)));
    }
  }

  makeTile() {
    const tile = document.createElement("div");
    tile.className = "tile";
    tile.setAttribute("role", "gridcell");
    tile.draggable = true;
    const img = document.createElement("img");
    img.decoding = "async";
    tile.appendChild(img);
    this.inner.appendChild(tile);
    return tile;
  }

  requestDetails(ids) {
    const wanted = ids.filter((id) => !this.pending.has(id));
    if (!wanted.length) return;
    wanted.forEach((id) => this.pending.add(id));
    clearTimeout(this.detailsTimer);
    this.detailsTimer = setTimeout(() => {
      const batch = [...this.pending].filter((id) => !this.details.has(id));
      this.pending.clear();
      for (let i = 0; i < batch.length; i += 200) this.needDetails(batch.slice(i, i + 200));
    }, 30);
  }

  decorate(tile, index) {
    const id = this.ids[index];
    tile.classList.toggle("selected", this.selected.has(id));
    tile.classList.toggle("focused", index === this.focus);
    tile.setAttribute("aria-selected", this.selected.has(id) ? "true" : "false");
    const summary = this.details.get(id);
    let meta = tile.querySelector(".meta");
    tile.querySelector(".chips")?.remove();
    if (!summary) {  // a recycled tile must not keep the previous picture's badges
      meta?.remove();
      tile.removeAttribute("title");
      return;
    }
    if (!meta) {
      meta = document.createElement("div");
      meta.className = "meta";
      tile.appendChild(meta);
    }
    const stars = summary.rating ? "★".repeat(summary.rating) : "";
    meta.innerHTML = "";
    const span = (cls, text) => { const s = document.createElement("span"); s.className = cls; s.textContent = text;
      meta.appendChild(s); };
    if (stars) span("stars", stars);
    if (summary.favourite) span("fav", "♥");
    if (summary.flagged) span("flag", "⚑");
    if (summary.missing) span("missing", "missing file");
    if (summary.media_type === "video") span("video", "▶");
    const title = [`${summary.width}×${summary.height}`];
    const badges = this.badges.get(id);  // arrive after the summary
    if (badges) {
      if (badges.face_count) {
        span("faces", `☺${badges.face_count}`);
        title.push(`${badges.face_count} face${badges.face_count > 1 ? "s" : ""}, ${badges.named_face_count} named`);
      }
      if (badges.suggestion_count) {
        span("suggestions", `+${badges.suggestion_count}`);
        title.push(`${badges.suggestion_count} suggested tag${badges.suggestion_count > 1 ? "s" : ""} to review`);
      }
      if (badges.has_caption) title.push("captioned");
      if (badges.tags.length) {
        title.push(`tags: ${badges.tags.join(", ")}${badges.tag_count > badges.tags.length ? ", …" : ""}`);
        // Chips only where they leave room for the picture; their own layer, so the badge row stays one line.
        if (this.box(index).width >= 140) tile.appendChild(tagChips(badges));
      }
    }
    tile.title = title.join(" · ");
  }

  refreshTiles() {
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

  bindPointer() {
    let band = null;
    this.el.addEventListener("click", (event) => {
      const tile = event.target.closest(".tile");
      if (!tile || band?.moved) return;
      const index = Number(tile.dataset.index);
      const id = Number(tile.dataset.id);
      if (event.shiftKey && this.anchor >= 0) this.selectRange(this.anchor, index, event.ctrlKey || event.metaKey);
      else if (event.ctrlKey || event.metaKey) { this.toggle(id); this.anchor = index; }
      else { this.select([id]); this.anchor = index; }
      this.focus = index;
      this.refreshTiles();
    });
    this.el.addEventListener("dblclick", (event) => {
      const tile = event.target.closest(".tile");
      if (tile) this.onOpen(Number(tile.dataset.id));
    });
    this.el.addEventListener("contextmenu", (event) => {
      const tile = event.target.closest(".tile");
      if (!tile) return;
      event.preventDefault();
      const id = Number(tile.dataset.id);
      if (!this.selected.has(id)) { this.select([id]); this.anchor = Number(tile.dataset.index); }
      this.onContext(event.clientX, event.clientY, [...this.selected]);
    });
    this.el.addEventListener("dragstart", (event) => {
      const tile = event.target.closest(".tile");
      if (!tile) return;
      const id = Number(tile.dataset.id);
      if (!this.selected.has(id)) this.select([id]);
      event.dataTransfer.setData("application/x-pixlstash-pictures", JSON.stringify([...this.selected]));
      event.dataTransfer.effectAllowed = "copyMove";
      if (this.onDragStart) this.onDragStart([...this.selected]);
    });
    // Rubber-band selection: press on the background between tiles and drag.
    this.el.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || event.target.closest(".tile")) return;
      const origin = this.point(event);
      const rect = document.createElement("div");
      rect.className = "rubber";
      band = { origin, rect, moved: false, add: event.ctrlKey || event.metaKey, base: new Set(this.selected) };
      this.el.setPointerCapture(event.pointerId);
    });
    this.el.addEventListener("pointermove", (event) => {
      if (!band) return;
      const p = this.point(event);
      const left = Math.min(p.x, band.origin.x);
      const top = Math.min(p.y, band.origin.y);
      const width = Math.abs(p.x - band.origin.x);
      const height = Math.abs(p.y - band.origin.y);
      if (!band.moved && width + height < 6) return;
      if (!band.moved) { band.moved = true; this.inner.appendChild(band.rect); }
      band.rect.style.cssText = `left:${left}px;top:${top}px;width:${width}px;height:${height}px`;
      const ids = new Set(band.add ? band.base : []);
      const firstRow = this.rowAt(top);
      const lastRow = this.rowAt(top + height);
      for (let row = firstRow; row <= lastRow && row < this.rows.count; row++) {
        const [start, end] = this.rowRange(row);
        for (let i = start; i < end; i++) {
          const b = this.box(i);
          if (b.left < left + width && b.left + b.width > left && b.top < top + height && b.top + b.height > top) {
            ids.add(this.ids[i]);
          }
        }
      }
      this.selected = ids;
      this.allSelected = false;
      this.refreshTiles();
    });
    const finish = () => {
      if (!band) return;
      if (band.moved) { band.rect.remove(); this.onSelection(this.selected); }
      else if (!band.add) this.clearSelection();
      setTimeout(() => { band = null; }, 0);
    };
    this.el.addEventListener("pointerup", finish);
    this.el.addEventListener("pointercancel", finish);
  }

  point(event) {
    const r = this.inner.getBoundingClientRect();
    return { x: event.clientX - r.left, y: event.clientY - r.top };
  }
}

/** The last position in an ascending array whose value is at most ``value`` (0 when none is). */
function lastAtMost(sorted, value) {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid] <= value) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** Decode the packed layout from ``GET /pictures/layout``. */
export function decodeLayout(buffer) {
  const count = new DataView(buffer).getUint32(0, true);
  const ids = new Uint32Array(buffer.slice(4, 4 + 4 * count));
  const widths = new Uint16Array(buffer.slice(4 + 4 * count, 4 + 6 * count));
  const heights = new Uint16Array(buffer.slice(4 + 6 * count, 4 + 8 * count));
  return { ids, widths, heights };
}

function tagChips(badges) {
  const chips = document.createElement("div");
  chips.className = "chips";
  const more = badges.tag_count - badges.tags.length;
  for (const text of more > 0 ? [...badges.tags, `+${more}`] : badges.tags) {
    const chip = document.createElement("span");
    chip.textContent = text;
    chips.appendChild(chip);
  }
  return chips;
}
