// The app shell (the page, its styles, scripts and icons) for an installed PixlStash. Pictures, thumbnails,
// API data and share pages are never cached here: they are private, and the server is the only copy that
// counts. SHELL (the cache's name, changing with every release's files) and FILES are written above by
// the server: a shell file's content is fixed for a given SHELL, so the files come from this cache, and
// an update of the server installs a new worker with a new cache (the next load uses it).
// The page is kept under its path alone: its query holds the view, what was searched for included, and
// that must not outlive the session in the browser's cache.

self.addEventListener("install", (event) => {
  // Decided by the browser without waking this worker (a woken worker costs every request ~tens of ms):
  // the API (thumbnails included) always from the network, the shell's files from this cache.
  if (event.addRoutes) {
    event.addRoutes([
      { condition: { urlPattern: { pathname: "/api/*" } }, source: "network" },
      { condition: { urlPattern: { pathname: "/ui/*" } }, source: "cache" },
    ]);
  }
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== SHELL).map((name) => caches.delete(name))))
      // The page's own request starts while this worker wakes, rather than after.
      .then(() => self.registration.navigationPreload?.enable())
      .then(() => self.clients.claim()),
  );
});

const isShell = (url) => url.origin === self.location.origin && (url.pathname === "/" || url.pathname.startsWith("/ui/"));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !isShell(url)) return;  // the network alone
  const key = url.origin + url.pathname;
  if (event.request.mode !== "navigate") {  // a shell file (where the browser has no static routes)
    event.respondWith(caches.match(key, { cacheName: SHELL }).then((cached) => cached || fetch(event.request)));
    return;
  }
  // The page: from the server (so a sign-in or an update shows at once), from this cache when it cannot be reached.
  event.respondWith(
    Promise.resolve(event.preloadResponse)
      .then((preloaded) => preloaded || fetch(event.request))
      .catch(() => caches.match(key, { cacheName: SHELL }).then((cached) => cached || Response.error())),
  );
});
