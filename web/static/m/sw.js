// The mobile app's service worker (served as /m/sw.js, scope /m/).
// - The shell (the page, its scripts, styles, Leaflet, icons) is cached at install and
//   served from the cache first, so the app opens with no network; a new version of this
//   file (VERSION) replaces the cache.
// - His data (grids, categories, task list, open cases) is fetched from the network first
//   and the last good answer kept, to show when the network is gone.
// - Nothing else is touched: POSTs (reports, steps, photos, sign-in) always go to the
//   network; the app's own outbox (IndexedDB) keeps what could not be sent.
const VERSION = "gridcase-m-1";
const SHELL = `gridcase-shell-${VERSION}`;
const DATA = "gridcase-data";
const SHELL_FILES = [
  "/m/",
  "/m/manifest.webmanifest",
  "/static/m/app.js",
  "/static/m/queue.js",
  "/static/m/send.js",
  "/static/m/photos.js",
  "/static/m/geo.js",
  "/static/m/app.css",
  "/static/m/icon-192.png",
  "/static/m/icon-512.png",
  "/static/favicon.svg",
  "/static/vendor/leaflet/leaflet.js",
  "/static/vendor/leaflet/leaflet.css",
];
const DATA_PATHS = ["/m/api/data", "/m/api/cases", "/v1/tasks"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("gridcase-shell-") && k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

async function shellFirst(request) {
  const cache = await caches.open(SHELL);
  const key = new URL(request.url).pathname === "/m" ? "/m/" : request;
  const hit = await cache.match(key, { ignoreSearch: true });
  if (hit) return hit;
  return fetch(request);
}

async function networkFirst(request) {
  const cache = await caches.open(DATA);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (err) {
    const hit = await cache.match(request);
    if (!hit) throw err;
    // Say that this is the last good answer, not a fresh one (the app shows it).
    const headers = new Headers(hit.headers);
    headers.set("X-Gridcase-Cached", hit.headers.get("Date") || "yes");
    return new Response(hit.body, { status: hit.status, headers });
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (DATA_PATHS.includes(url.pathname)) {
    event.respondWith(networkFirst(request));
  } else if (SHELL_FILES.includes(url.pathname) || url.pathname === "/m") {
    event.respondWith(shellFirst(request));
  }
});
