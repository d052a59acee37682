// Maps without a basemap by default: grids drawn on a plain background, so a map works
// with no network. A tile URL template (GRIDCASE_MAP_TILES, docs/web.md) adds tiles.
window.gcMaps = (function () {
  'use strict';
  const LIGHT_COLOURS = {green: '#1a7f37', yellow: '#b58100', red: '#c62828'};

  function create(el, options) {
    const map = L.map(el, Object.assign({zoomSnap: 0.25, attributionControl: true}, options || {}));
    const tiles = el.dataset.tiles;
    if (tiles) {
      L.tileLayer(tiles, {attribution: el.dataset.tilesAttribution || '', maxZoom: 19}).addTo(map);
    } else {
      el.classList.add('no-tiles');
    }
    return map;
  }

  function caseMarker(lon, lat, light, options) {
    return L.circleMarker([lat, lon], Object.assign({
      radius: 6, weight: 2, color: '#ffffff', fillColor: LIGHT_COLOURS[light] || '#0b4f8a',
      fillOpacity: 0.95,
    }, options || {}));
  }

  return {create: create, caseMarker: caseMarker, LIGHT_COLOURS: LIGHT_COLOURS};
})();
