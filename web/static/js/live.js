// Live updates (docs/web.md): one EventSource per page on /live, which names the cases
// that changed within the viewer's jurisdiction. Every element marked data-live-refresh
// re-fetches itself with htmx (hx-trigger="live"); one with data-live-case only when its
// own case changed. Other scripts (the map, the big screen) listen to "gc:live".
// Bursts are gathered: a part is fetched at most once per GATHER_MS.
(function () {
  'use strict';
  const GATHER_MS = 400;
  const status = document.querySelector('[data-live-status]');
  let pending = new Set();
  let timer = null;

  function show(on) {
    if (!status) return;
    status.textContent = on ? status.dataset.on : status.dataset.off;
    status.classList.toggle('live-off', !on);
  }

  function flush() {
    timer = null;
    const changed = pending;
    pending = new Set();
    const all = changed.has('*');
    document.querySelectorAll('[data-live-refresh]').forEach(function (el) {
      const own = el.getAttribute('data-live-case');
      if (all || !own || changed.has(own)) htmx.trigger(el, 'live');
    });
    document.dispatchEvent(new CustomEvent('gc:live', {detail: {cases: Array.from(changed), all: all}}));
  }

  const source = new EventSource('/live');
  source.addEventListener('open', function () { show(true); });
  source.addEventListener('error', function () { show(false); });
  source.addEventListener('change', function (event) {
    JSON.parse(event.data).cases.forEach(function (id) { pending.add(id); });
    if (timer === null) timer = setTimeout(flush, GATHER_MS);
  });
  // The session ended: reloading meets the sign-in page.
  source.addEventListener('ended', function () { source.close(); window.location.reload(); });
  window.addEventListener('pagehide', function () { source.close(); });
})();
