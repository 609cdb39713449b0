// Every view is a URL: filters, sort, search, the open picture. Reload or bookmark lands in the same place.

const LISTS = ["tags", "any_tags", "not_tags", "collections", "similar", "loras", "ids"];
const NUMBER_LISTS = ["collections", "similar", "ids"];
const NUMBERS = ["project", "rating_min", "rating_max", "picture", "folder", "size", "seed", "face", "taken_after",
  "taken_before", "min_width", "min_height", "steps", "stack", "score_min", "score_max"];
const FLAGS = ["favourite", "unrated", "scrapheap", "duplicates", "dupes", "asc", "variants"];
const TEXTS = ["op", "sort", "q", "mode", "media_type", "layout", "combine", "checkpoint", "generation_seed",
  "sampler", "scheduler", "score_engine", "has_text", "made", "whose"];

export const DEFAULTS = { sort: "taken_at", op: "union", layout: "square", size: 180 };

export function readView(search = location.search) {
  const params = new URLSearchParams(search);
  const view = {};
  for (const key of LISTS) {
    const values = params.getAll(key).flatMap((v) => v.split(",")).filter(Boolean);
    if (values.length) view[key] = NUMBER_LISTS.includes(key) ? values.map(Number) : values;
  }
  for (const key of NUMBERS) if (params.has(key)) view[key] = Number(params.get(key));
  for (const key of FLAGS) if (params.get(key) === "1") view[key] = true;
  for (const key of TEXTS) if (params.get(key)) view[key] = params.get(key);
  return view;
}

export function viewUrl(view) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(view)) {
    if (value === undefined || value === null || value === false || value === "") continue;
    if (DEFAULTS[key] !== undefined && DEFAULTS[key] === value) continue;
    if (Array.isArray(value)) { if (value.length) params.set(key, value.join(",")); }
    else params.set(key, value === true ? "1" : String(value));
  }
  const text = params.toString();
  return text ? `/?${text}` : "/";
}

/** The API filter (query parameters) a view stands for. */
export function filterParams(view) {
  const params = {};
  for (const key of ["tags", "any_tags", "not_tags", "collections", "project", "rating_min", "rating_max",
    "media_type", "folder", "taken_after", "taken_before", "min_width", "min_height", "loras", "checkpoint",
    "generation_seed", "sampler", "scheduler", "steps", "score_engine", "score_min", "score_max", "ids"]) {
    if (view[key] !== undefined) params[key] = view[key];
  }
  if (view.collections?.length > 1) params.collection_op = view.op || "union";
  if (view.favourite) params.favourite = true;
  if (view.unrated) params.unrated = true;
  if (view.duplicates) params.duplicates = true;
  if (view.has_text === "yes" || view.has_text === "no") params.has_text = view.has_text === "yes";  // read (OCR)
  if (view.made === "ai" || view.made === "not-ai") params.ai_generated = view.made === "ai";
  if (view.whose === "mine" || view.whose === "others") params.mine = view.whose === "mine";  // My pictures, Shared with me
  if (view.scrapheap) params.scrapheap = true;
  if (view.stack) params.stack = view.stack;  // an opened stack: its members
  return params;
}

/** What the grid lists: the view's pictures with one tile per stack (its cover), unless a stack is open
 * or every variant is asked for. Actions still cover a stack's members (``App.scope``). */
export function gridParams(view) {
  const params = filterParams(view);
  if (!view.stack && !view.variants && !view.scrapheap) params.stack_covers = true;
  return params;
}

export function sortParams(view) {
  return { sort: view.sort || "taken_at", descending: view.asc ? false : true, seed: view.seed || 0 };
}

/** The same filter as a JSON body (search requests take a filter object). */
export function filterBody(view) {
  const params = filterParams(view);
  for (const key of ["tags", "any_tags", "not_tags", "collections", "loras"]) if (params[key] && !params[key].length) delete params[key];
  return Object.keys(params).length ? params : null;
}
