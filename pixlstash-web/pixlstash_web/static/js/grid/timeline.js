// Time in the grid: headers over its groups (each day, each month when tiles are small, or each rating)
// and, under a date sort, the scrubber on its right edge: years and months down its length, a drag or a
// click jumps anywhere at once, and a label says where you are while scrolling.

import { lastAtMost } from "./grid.js";

const DAY = 86_400_000;
const MONTHLY_BELOW = 140; // tile size under which days are headed by month
const YEAR_GAP = 16; // px kept between year labels on the scrubber
const TICK_GAP = 4; // and between month ticks
const LABEL_FOR = 1200; // ms the "where you are" label stays after scrolling stops
const SETTLE = 60; // ms of rest before a scrolled grid loads thumbnails (grid.js)
const DRAG_SETTLE = 250; // and while the scrubber is held
const INSET = 6; // px at each end of the scrubber before its first and after its last mark
const DENSE = 3; // pictures a day, on average, for headers by day (sparser timelines read better by month)

const monthFormat = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
const dayFormat = new Intl.DateTimeFormat(undefined,
  { weekday: "short", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

/** The groups a view's layout is asked for: days under a date sort, ratings under the rating sort, none
 * for other sorts and for search results (ranked by likeness, not time). */
export function groupKind(view) {
  if (view.q || view.similar?.length || view.face) return "none";
  const sort = view.sort || "taken_at";
  if (sort === "taken_at" || sort === "imported_at") return "day";
  return sort === "rating" ? "rating" : "none";
}

/** The viewer's offset from UTC in minutes (what the layout's day groups are asked for). */
export function utcOffset() {
  return -new Date().getTimezoneOffset();
}

/** The same groups as the server's for a page of pictures in hand (the first screen, before the whole
 * layout arrives): so its headers are there from the start and nothing moves when the layout comes. */
export function groupsOfPage(view, items) {
  const kind = groupKind(view);
  if (kind === "none" || !items.length) return { kind, starts: new Uint32Array(0), keys: new Int32Array(0) };
  const offset = utcOffset() * 60_000;
  const field = view.sort === "imported_at" ? "imported_at" : "taken_at";
  const keyOf = kind === "rating" ? (p) => p.rating : (p) => Math.floor((p[field] + offset) / DAY);
  const starts = [];
  const keys = [];
  items.forEach((p, i) => {
    const key = keyOf(p);
    if (!keys.length || keys[keys.length - 1] !== key) { starts.push(i); keys.push(key); }
  });
  return { kind, starts: Uint32Array.from(starts), keys: Int32Array.from(keys) };
}

/** Headers from the server's groups (``keys``: days since 1970 in local time, or ratings): each day its
 * own, or merged into months when tiles are small or days hold few pictures. Null when there is nothing
 * to head. */
export function headedGroups(kind, starts, keys, size, count) {
  if (!starts?.length || kind === "none") return null;
  if (kind === "rating") {
    return { kind, starts, keys, labels: Array.from(keys, (r) => (r ? `${"★".repeat(r)} ${r} star${r > 1 ? "s" : ""}` : "Unrated")) };
  }
  if (size >= MONTHLY_BELOW && count >= DENSE * starts.length) return { kind: "day", starts, keys, labels: Array.from(keys, (d) => dayFormat.format(d * DAY)) };
  const monthStarts = [];
  const monthKeys = [];
  let last = null;
  for (let g = 0; g < starts.length; g++) {
    const month = monthOf(keys[g]);
    if (month !== last) { monthStarts.push(starts[g]); monthKeys.push(keys[g]); last = month; }
  }
  return { kind: "month", starts: Uint32Array.from(monthStarts), keys: Int32Array.from(monthKeys),
    labels: monthKeys.map((d) => monthFormat.format(d * DAY)) };
}

function monthOf(day) {
  const date = new Date(day * DAY);
  return date.getUTCFullYear() * 12 + date.getUTCMonth();
}

/** The timeline beside a grid headed by dates. */
export class Scrubber {
  constructor(element, grid) {
    this.el = element;
    this.grid = grid;
    this.marks = document.createElement("div");
    this.marks.className = "scrubber-marks";
    this.thumb = document.createElement("div");
    this.thumb.className = "scrubber-thumb";
    this.label = document.createElement("div");
    this.label.className = "scrubber-label";
    this.label.setAttribute("role", "status");
    this.label.hidden = true;
    this.el.append(this.marks, this.thumb, this.label);
    this.el.setAttribute("role", "scrollbar");
    this.el.setAttribute("aria-controls", grid.el.id);
    this.el.setAttribute("aria-orientation", "vertical");
    this.el.setAttribute("aria-label", "Timeline: drag to go to a date");
    this.el.setAttribute("aria-valuemin", "0");
    this.el.setAttribute("aria-valuemax", "100");
    this.el.setAttribute("aria-valuenow", "0");
    this.el.tabIndex = -1;
    this.hideTimer = 0;
    this.frame = 0;
    grid.el.addEventListener("scroll", () => {
      // The grid has drawn this frame already: its position is known without asking the page again.
      if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.follow(true, grid.lastTop); });
    }, { passive: true });
    this.bindPointer();
  }

  get shown() { return !this.el.hidden; }

  /** After each layout: shown under a date sort, with a mark for each year and month. */
  update() {
    const grid = this.grid;
    const dated = grid.headers && (grid.groups.kind === "day" || grid.groups.kind === "month");
    this.el.hidden = !dated;
    if (!dated) return;
    this.el.style.top = `${grid.el.offsetTop}px`;
    // Measured once a layout: a drag then reads nothing from the page (a read after a change costs a layout).
    this.measured = { length: Math.max(1, this.el.clientHeight - 2 * INSET),
      range: Math.max(1, grid.el.scrollHeight - grid.el.clientHeight) };
    const height = this.length();
    const range = this.range();
    const { tops } = grid.headers;
    const { keys } = grid.groups;
    const parts = [];
    let lastYear = null;
    let lastMonth = null;
    let yearAt = -Infinity;
    let tickAt = -Infinity;
    for (let g = 0; g < tops.length; g++) {
      const y = Math.min(1, tops[g] / range) * height;
      const date = new Date(keys[g] * DAY);
      const year = date.getUTCFullYear();
      const month = year * 12 + date.getUTCMonth();
      if (year !== lastYear && y - yearAt >= YEAR_GAP) {
        parts.push(`<span class="year" style="top:${y.toFixed(1)}px">${year}</span>`);
        yearAt = y;
        tickAt = y;
      } else if (month !== lastMonth && y - tickAt >= TICK_GAP) {
        parts.push(`<i style="top:${y.toFixed(1)}px"></i>`);
        tickAt = y;
      }
      lastYear = year;
      lastMonth = month;
    }
    this.marks.innerHTML = parts.join("");
    this.follow(false);
  }

  /** The scrubber's travel in px: its height less the insets. */
  length() {
    return this.measured?.length ?? Math.max(1, this.el.clientHeight - 2 * INSET);
  }

  /** How far the grid scrolls. */
  range() {
    return this.measured?.range ?? Math.max(1, this.grid.el.scrollHeight - this.grid.el.clientHeight);
  }

  /** Move the thumb to where the grid is; while scrolling, say where that is. */
  follow(scrolling, scrollTop = this.grid.el.scrollTop) {
    if (!this.shown) return;
    const y = (scrollTop / this.range()) * this.length();
    this.thumb.style.transform = `translateY(${y.toFixed(1)}px)`;
    const percent = String(Math.round(Math.min(1, scrollTop / this.range()) * 100));
    if (this.el.getAttribute("aria-valuenow") !== percent) this.el.setAttribute("aria-valuenow", percent);
    if (scrolling) this.say(y + INSET, this.grid.groupInView(scrollTop));
  }

  say(y, group) {
    if (group < 0) return;
    const text = monthFormat.format(this.grid.groups.keys[group] * DAY);
    if (this.label.textContent !== text) { this.label.textContent = text; this.el.setAttribute("aria-valuetext", text); }
    this.label.style.top = `${Math.max(0, Math.min(this.length() + 2 * INSET - 28, y - 14)).toFixed(1)}px`;
    this.label.hidden = false;
    this.el.classList.add("active");
    clearTimeout(this.hideTimer);
    this.hideTimer = setTimeout(() => {
      if (this.dragging) return;
      this.label.hidden = true;
      this.el.classList.remove("active");
    }, LABEL_FOR);
  }

  /** Scroll the grid to the point ``y`` px down the scrubber stands for, and paint it now. */
  jump(y) {
    const fraction = Math.max(0, Math.min(1, (y - INSET) / this.length()));
    const scrollTop = Math.round(fraction * this.range());
    this.grid.el.scrollTop = scrollTop;
    this.grid.render();
    this.follow(true, scrollTop);
  }

  bindPointer() {
    const at = (event) => event.clientY - this.top; // this.top: measured when the drag starts
    this.el.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      this.top = this.el.getBoundingClientRect().top;
      this.dragging = true;
      // Thumbnails wait for a real pause: decoding them between two moves of a drag delays the second.
      this.grid.settleDelay = DRAG_SETTLE;
      this.el.setPointerCapture(event.pointerId);
      this.el.classList.add("dragging");
      this.jump(at(event));
    });
    this.el.addEventListener("pointermove", (event) => {
      if (this.dragging) { this.jump(at(event)); return; }
      // Hovering names the month under the pointer before any jump.
      this.top = this.el.getBoundingClientRect().top;
      const y = at(event);
      const top = (Math.max(0, Math.min(1, (y - INSET) / this.length()))) * this.range();
      const { tops } = this.grid.headers || { tops: [] };
      if (tops.length) this.say(y, lastAtMost(tops, top + 1));
    });
    const stop = () => {
      if (!this.dragging) return;
      this.dragging = false;
      this.el.classList.remove("dragging");
      this.grid.settleDelay = SETTLE;
      this.grid.fastUntil = 0;
      this.grid.render(); // released: the thumbnails now
      this.say(parseFloat(this.label.style.top) + 14, this.grid.groupInView());
    };
    this.el.addEventListener("pointerup", stop);
    this.el.addEventListener("pointercancel", stop);
  }
}
