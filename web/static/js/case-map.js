// The case page's small map: the case's grid, its point, and the possible duplicates
// with their distance (merge candidates).
(function () {
  'use strict';
  const el = document.getElementById('case-map');
  if (!el) return;
  const geo = JSON.parse(el.dataset.geo);
  const map = gcMaps.create(el, {scrollWheelZoom: false});
  const grid = geo.grid ? L.geoJSON(geo.grid, {style: {color: '#0b4f8a', weight: 2, fillOpacity: 0.08}}) : null;
  // The view first: permanent tooltips need it to place themselves.
  const bounds = L.latLngBounds([[geo.case.lat, geo.case.lon]]);
  if (grid) bounds.extend(grid.getBounds());
  geo.candidates.forEach(function (c) { bounds.extend([c.lat, c.lon]); });
  map.fitBounds(bounds.pad(0.3), {maxZoom: 17});
  if (grid) grid.addTo(map);
  geo.candidates.forEach(function (c) {
    L.polyline([[geo.case.lat, geo.case.lon], [c.lat, c.lon]], {color: '#4a525c', dashArray: '4 4', weight: 1}).addTo(map);
    gcMaps.caseMarker(c.lon, c.lat, 'yellow', {radius: 6})
      .bindTooltip(c.id + ' · ' + Math.round(c.distance_m) + ' m', {permanent: true, direction: 'right'})
      .addTo(map);
  });
  gcMaps.caseMarker(geo.case.lon, geo.case.lat, 'red', {radius: 8}).bindTooltip(geo.case.id).addTo(map);
})();
