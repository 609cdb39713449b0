// The one way the UI talks to the server: JSON over fetch with the session cookie and CSRF header.

const CSRF_KEY = "pixlstash.csrf";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(key, v));
    else search.append(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

async function request(method, path, { params, body, form, raw, headers: extra } = {}) {
  const headers = { ...extra };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method !== "GET") headers["X-CSRF-Token"] = localStorage.getItem(CSRF_KEY) || "";
  let response;
  try {
    response = await fetch(`/api/v1${path}${query(params)}`, { method, headers, body: payload, credentials: "same-origin" });
  } catch (error) {
    if (error instanceof TypeError) connection(false); // fetch's word for "no answer at all"
    throw error;
  }
  connection(true);
  if (response.status === 401) window.dispatchEvent(new CustomEvent("pixlstash:signed-out"));
  if (!response.ok) {
    let error = { code: "error", message: response.statusText };
    try { error = (await response.json()).error || error; } catch { /* not JSON */ }
    throw new ApiError(response.status, error.code, error.message, error.details);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/** POST a multipart form, telling ``onProgress(loaded, total)`` as the bytes go (fetch cannot say that). */
function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1${path}`);
    xhr.withCredentials = true;
    xhr.setRequestHeader("X-CSRF-Token", localStorage.getItem(CSRF_KEY) || "");
    xhr.responseType = "json";
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onload = () => {
      if (xhr.status === 401) window.dispatchEvent(new CustomEvent("pixlstash:signed-out"));
      if (xhr.status >= 200 && xhr.status < 300) { resolve(xhr.response); return; }
      const error = xhr.response?.error || { code: "error", message: xhr.statusText || `HTTP ${xhr.status}` };
      reject(new ApiError(xhr.status, error.code, error.message, error.details));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "the connection to the server was lost"));
    xhr.send(form);
  });
}

export const api = {
  get: (path, params) => request("GET", path, { params }),
  post: (path, body, params) => request("POST", path, { body, params }),
  /** POST with headers of its own (the first-run setup code). */
  postWith: (path, body, headers) => request("POST", path, { body, headers }),
  put: (path, body) => request("PUT", path, { body }),
  patch: (path, body) => request("PATCH", path, { body }),
  del: (path) => request("DELETE", path),
  upload,
  raw: (path, params) => request("GET", path, { params, raw: true }),
  setCsrf: (token) => localStorage.setItem(CSRF_KEY, token),
  clearCsrf: () => localStorage.removeItem(CSRF_KEY),
  query,
};

/** A thumbnail's URL; an edited picture's names its edit (``edit_key``), so no cache keeps an earlier look. */
export function thumbUrl(hash, size = "grid", edit = "") {
  return `/api/v1/media/${hash}/${size}.webp${edit ? `?edit=${edit}` : ""}`;
}

export function originalUrl(hash) {
  return `/api/v1/media/${hash}/original`;
}

let online = true;

/** Whether the server answers, told to the page ("pixlstash:connection") each time it changes. */
function connection(reached) {
  if (reached === online) return;
  online = reached;
  window.dispatchEvent(new CustomEvent("pixlstash:connection", { detail: { online } }));
}

/** Live updates from the server (server-sent events); returns a function that stops listening. */
export function subscribe(onEvent) {
  const source = new EventSource("/api/v1/events", { withCredentials: true });
  source.onopen = () => { connection(true); window.dispatchEvent(new Event("pixlstash:live")); };
  source.onerror = () => { if (source.readyState !== EventSource.OPEN) connection(false); }; // it retries by itself
  source.onmessage = (message) => {
    try { onEvent(JSON.parse(message.data)); } catch { /* heartbeat or malformed */ }
  };
  for (const kind of ["picture.added", "picture.changed", "picture.removed", "picture.restored", "job.progress", "comfy.run",
    "collection.changed", "project.changed", "library.restored", "library.changed"]) {
    source.addEventListener(kind, (message) => {
      try { onEvent({ kind, ...JSON.parse(message.data) }); } catch { /* ignore */ }
    });
  }
  return () => source.close();
}
