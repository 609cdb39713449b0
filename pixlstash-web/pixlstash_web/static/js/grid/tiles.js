// A grid tile's element and what it shows: the thumbnail sharp at its size, the check mark that selects,
// the badge row (rating, favourite, faces, suggestions) and one line of tag chips.

// Thumbnail sizes the server makes (longest side): a tile takes the smallest one that is sharp at its
// displayed size on this screen, so big tiles are never a stretched grid thumbnail.
const THUMBNAILS = [["grid", 384], ["preview", 1024]];

/** A tile: its image and the check mark that selects without opening (shown on hover, always on touch
 * screens and while anything is selected). */
export function makeTile() {
  const tile = document.createElement("div");
  tile.className = "tile";
  tile.setAttribute("role", "gridcell");
  tile.draggable = true;
  const img = document.createElement("img");
  img.decoding = "async";
  tile.appendChild(img);
  const check = document.createElement("span");
  check.className = "check";
  check.setAttribute("role", "checkbox");
  check.setAttribute("aria-label", "Select");
  check.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M5 12.5l4.5 4.5L19 7.5"/></svg>';
  tile.appendChild(check);
  return tile;
}

/** A video's length as a person reads it: 0:07, 3:21, 1:02:03. */
export function clock(seconds) {
  const s = Math.round(seconds);
  const parts = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const [h, m, sec] = parts;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}` : `${m}:${String(sec).padStart(2, "0")}`;
}

/** Show a picture's summary and badges on its tile (``width()``: its displayed width, asked only when
 * chips may fit). Without a summary, a recycled tile drops the previous picture's badges. */
export function decorateTile(tile, summary, badges, width, showStacks = true) {
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
  if (summary.media_type === "video") span("video", summary.duration ? `▶ ${clock(summary.duration)}` : "▶");
  if (summary.score !== undefined && summary.score !== null) {  // under a score sort
    span("score", summary.score.toFixed(2));
  }
  // A stack's count button is taller than the badges: the tag chips above the row move up with it.
  meta.classList.toggle("with-stack", summary.stack_size > 1 && showStacks);
  if (summary.stack_size > 1 && showStacks) {  // one tile per stack: its count opens it
    const open = document.createElement("button");
    open.className = "stack-open";
    open.dataset.stack = summary.stack_id;
    open.innerHTML = `<svg class="i" aria-hidden="true"><use href="/ui/icons/lucide.svg#images"></use></svg>${summary.stack_size}`;
    open.title = `A stack of ${summary.stack_size}: show them all`;
    open.setAttribute("aria-label", `Open the stack of ${summary.stack_size}`);
    meta.appendChild(open);
  }
  const title = [summary.original_name, `${summary.width}×${summary.height}`].filter(Boolean);
  if (badges) {  // they arrive after the summary
    if (badges.face_count) {
      span("faces", `☺${badges.face_count}`);
      title.push(`${badges.face_count} face${badges.face_count > 1 ? "s" : ""}, ${badges.named_face_count} named`);
    }
    if (badges.suggestion_count) {
      span("suggested", `+${badges.suggestion_count}`);  // not .suggestions: the panels' suggestion lists
      title.push(`${badges.suggestion_count} suggested tag${badges.suggestion_count > 1 ? "s" : ""} to review`);
    }
    if (badges.has_caption) title.push("captioned");
    if (badges.tags.length) {
      title.push(`tags: ${badges.tags.join(", ")}${badges.tag_count > badges.tags.length ? ", …" : ""}`);
      // Chips only where they leave room for the picture; their own layer, so the badge row stays one line.
      const shown = width();
      if (shown >= 140) tile.appendChild(tagChips(badges, shown - 8));
    }
  }
  tile.title = title.join(" · ");
}

/** The grid thumbnail, or the preview where a tile of this size shows more pixels than the grid
 * thumbnail has. */
export function thumbnailFor(width, height) {
  const needed = Math.max(width, height) * (window.devicePixelRatio || 1);
  return (THUMBNAILS.find(([, side]) => side >= needed) || THUMBNAILS[THUMBNAILS.length - 1])[0];
}

const CHIP_CHAR = 6.2; // px per character at the chips' 11 px font, and each chip's padding and gap
const CHIP_EXTRA = 11;

/** One line of tag chips in ``width`` px: as many as fit (the last cut short with an ellipsis when it
 * alone would not fit), then "+N" for the rest. Estimated from lengths, so tiles never measure text. */
function tagChips(badges, width) {
  const chips = document.createElement("div");
  chips.className = "chips";
  const cost = (text) => text.length * CHIP_CHAR + CHIP_EXTRA;
  let left = width;
  let shown = 0;
  for (const name of badges.tags) {
    const rest = badges.tag_count - shown - 1;
    const reserve = rest > 0 ? cost(`+${rest}`) : 0;
    if (cost(name) + reserve > left && shown > 0) break;
    const chip = document.createElement("span");
    chip.textContent = name;
    chip.style.maxWidth = `${Math.max(24, left - reserve)}px`;
    chips.appendChild(chip);
    left -= Math.min(left, cost(name));
    shown += 1;
  }
  if (badges.tag_count > shown) {
    const more = document.createElement("span");
    more.className = "more";
    more.textContent = `+${badges.tag_count - shown}`;
    chips.appendChild(more);
  }
  return chips;
}
