// The district map: grids shaded by open and overdue cases, a marker per open case in
// its light's colour; a click opens the case. Re-fetches its data on live changes.
(function () {
  'use strict';
  const el = document.getElementById('district-map');
  if (!el) return;
  const summary = document.querySelector('[data-map-summary]');
  const query = el.dataset.query ? '?' + el.dataset.query : '';
  const map = gcMaps.create(el, {preferCanvas: false});
  let gridLayer = null;
  let markerLayer = L.layerGroup().addTo(map);
  let counts = {};
  let gridCount = 0;

  function shade(code) {
    const c = counts[code];
    if (!c || !c[0]) return {fillColor: '#ffffff', fillOpacity: 0.5};
    if (c[1] > 0) return {fillColor: '#c62828', fillOpacity: Math.min(0.25 + 0.12 * c[1], 0.7)};
    return {fillColor: '#0b4f8a', fillOpacity: Math.min(0.15 + 0.08 * c[0], 0.55)};
  }

  function styleGrid(feature) {
    return Object.assign({color: '#4a525c', weight: 1, className: 'gc-grid'}, shade(feature.properties.code));
  }

  function gridTip(feature) {
    const p = feature.properties;
    const c = counts[p.code] || [0, 0];
    return p.name + ' (' + p.code + ')<br>' + p.community + ' · ' + p.street +
      '<br>' + el.dataset.open + ' ' + c[0] + ' · ' + el.dataset.overdue + ' ' + c[1];
  }

  function say(total, shown) {
    if (!summary) return;
    let text = summary.dataset.grids.replace('{n}', gridCount) + ' · ' +
      summary.dataset.cases.replace('{n}', total);
    if (shown < total) {
      text += ' · ' + summary.dataset.capped.replace('{shown}', shown).replace('{total}', total);
    }
    summary.textContent = text;
  }

  function loadData() {
    return fetch('/map/data.json' + query, {credentials: 'same-origin'})
      .then(function (r) { if (!r.ok) throw new Error('map data ' + r.status); return r.json(); })
      .then(function (data) {
        counts = data.grids;
        if (gridLayer) gridLayer.setStyle(styleGrid);
        const next = L.layerGroup();
        data.markers.forEach(function (m) {
          gcMaps.caseMarker(m[1], m[2], m[3], {className: 'gc-marker gc-light-' + m[3]})
            .bindTooltip(m[0])
            .on('click', function () { window.location.href = '/cases/' + encodeURIComponent(m[0]); })
            .addTo(next);
        });
        map.removeLayer(markerLayer);
        markerLayer = next.addTo(map);
        el.dataset.markers = String(data.markers.length);
        say(data.total, data.markers.length);
      });
  }

  fetch('/map/grids.geojson', {credentials: 'same-origin'})
    .then(function (r) { return r.json(); })
    .then(function (geo) {
      gridCount = geo.features.length;
      gridLayer = L.geoJSON(geo, {style: styleGrid, onEachFeature: function (feature, layer) {
        layer.bindTooltip(function () { return gridTip(feature); }, {sticky: true});
      }}).addTo(map);
      if (gridCount) map.fitBounds(gridLayer.getBounds().pad(0.02));
      else map.setView([34.78, 113.68], 12);
      el.dataset.grids = String(gridCount);
      return loadData();
    })
    .then(function () { el.dataset.ready = '1'; });

  document.addEventListener('gc:live', function () { loadData(); });
})();
