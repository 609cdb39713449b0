// The app shell (the page, its styles, scripts and icons) for an installed PixlStash: fetched from the
// server first, from this cache only when the server cannot be reached. Pictures, thumbnails, API data
// and share pages are never cached here: they are private, and the server is the only copy that counts.
// SHELL (the cache's name, changing with every release's files) and FILES are written above by the server.
// The shell is kept under its path alone: the page's query holds the view, what was searched for
// included, and that must not outlive the session in the browser's cache.

const isShell = (url) => url.origin === self.location.origin && (url.pathname === "/" || url.pathname.startsWith("/ui/"));

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== SHELL).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !isShell(url)) return;  // the network alone
  const key = url.origin + url.pathname;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(SHELL).then((cache) => cache.put(key, copy)));
        }
        return response;
      })
      .catch(() => caches.match(key).then((cached) => cached || Response.error())),
  );
});
