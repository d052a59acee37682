// The big screen: one JSON answer (/screen/data.json) drawn as tiles, ECharts charts, a
// Leaflet map and the latest events; fetched again on every live change.
(function () {
  'use strict';
  const streetsEl = document.getElementById('chart-streets');
  const lightsEl = document.getElementById('chart-lights');
  const mapEl = document.getElementById('screen-map');
  const latestEl = document.querySelector('[data-latest]');
  const updatedEl = document.querySelector('[data-updated]');
  const text = {color: '#e8eef5', fontSize: 16};
  const streets = echarts.init(streetsEl, null, {renderer: 'svg'});
  const lights = echarts.init(lightsEl, null, {renderer: 'svg'});
  const map = gcMaps.create(mapEl, {zoomControl: false, attributionControl: true});
  let grids = null;
  let counts = {};
  let markers = L.layerGroup().addTo(map);

  function shade(feature) {
    const c = counts[feature.properties.code];
    let fill = {fillColor: '#13283d', fillOpacity: 0.6};
    if (c && c[1] > 0) fill = {fillColor: '#e53935', fillOpacity: Math.min(0.35 + 0.1 * c[1], 0.8)};
    else if (c && c[0] > 0) fill = {fillColor: '#2f6fab', fillOpacity: Math.min(0.35 + 0.08 * c[0], 0.8)};
    return Object.assign({color: '#5b7fa3', weight: 1, className: 'gc-grid'}, fill);
  }

  function drawCharts(data) {
    const names = data.by_street.map(function (s) { return s.name; });
    streets.setOption({
      animation: false,
      textStyle: text,
      legend: {textStyle: text, top: 0},
      grid: {left: 110, right: 20, top: 36, bottom: 24},
      xAxis: {type: 'value', minInterval: 1, axisLabel: text, splitLine: {lineStyle: {color: '#24496e'}}},
      yAxis: {type: 'category', data: names, axisLabel: text, inverse: true},
      series: [
        {name: streetsEl.dataset.open, type: 'bar', data: data.by_street.map(function (s) { return s.open; }),
         itemStyle: {color: '#4f9be0'}, label: {show: true, position: 'right', color: '#e8eef5'}},
        {name: streetsEl.dataset.overdue, type: 'bar', data: data.by_street.map(function (s) { return s.overdue; }),
         itemStyle: {color: '#ff6b6b'}, label: {show: true, position: 'right', color: '#e8eef5'}},
      ],
    }, true);
    lights.setOption({
      animation: false,
      textStyle: text,
      legend: {textStyle: text, bottom: 0},
      series: [{
        type: 'pie', radius: ['45%', '72%'], center: ['50%', '45%'],
        label: {color: '#e8eef5', fontSize: 18, formatter: '{b}\n{c}'},
        data: [
          {name: lightsEl.dataset.green, value: data.lights.green || 0, itemStyle: {color: '#2ea44f'}},
          {name: lightsEl.dataset.yellow, value: data.lights.yellow || 0, itemStyle: {color: '#e0a800'}},
          {name: lightsEl.dataset.red, value: data.lights.red || 0, itemStyle: {color: '#e53935'}},
        ],
      }],
    }, true);
    streetsEl.setAttribute('aria-label', data.by_street.map(function (s) {
      return s.name + ' ' + s.open + '/' + s.overdue;
    }).join('; '));
    lightsEl.setAttribute('aria-label', ['green', 'yellow', 'red'].map(function (c) {
      return lightsEl.dataset[c] + ' ' + (data.lights[c] || 0);
    }).join('; '));
  }

  function drawLatest(data) {
    latestEl.replaceChildren();
    data.latest.forEach(function (e) {
      const li = document.createElement('li');
      const label = document.createElement('span');
      label.className = 'ev-label';
      label.textContent = e.label;
      const link = document.createElement('a');
      link.className = 'ev-case';
      link.href = '/cases/' + encodeURIComponent(e.case);
      link.textContent = e.case;
      const meta = document.createElement('span');
      meta.className = 'ev-meta';
      meta.textContent = e.when + ' · ' + e.who;
      li.append(label, link, meta);
      latestEl.append(li);
    });
  }

  function drawMap(data) {
    counts = data.grids;
    if (grids) grids.setStyle(shade);
    const next = L.layerGroup();
    data.markers.forEach(function (m) {
      gcMaps.caseMarker(m[1], m[2], m[3], {radius: 5, className: 'gc-marker gc-light-' + m[3]})
        .bindTooltip(m[0]).addTo(next);
    });
    map.removeLayer(markers);
    markers = next.addTo(map);
    mapEl.dataset.markers = String(data.markers.length);
  }

  function draw(data) {
    Object.keys(data.tiles).forEach(function (k) {
      const el = document.querySelector('[data-tile="' + k + '"]');
      if (el) el.textContent = String(data.tiles[k]);
    });
    drawCharts(data);
    drawLatest(data);
    drawMap(data);
    updatedEl.textContent = updatedEl.dataset.template.replace('{time}', data.at);
    document.body.dataset.ready = String(Date.now());
  }

  function load() {
    return fetch('/screen/data.json', {credentials: 'same-origin'})
      .then(function (r) { if (!r.ok) throw new Error('screen data ' + r.status); return r.json(); })
      .then(draw);
  }

  fetch('/map/grids.geojson', {credentials: 'same-origin'})
    .then(function (r) { return r.ok ? r.json() : {type: 'FeatureCollection', features: []}; })
    .then(function (geo) {
      grids = L.geoJSON(geo, {style: shade}).addTo(map);
      if (geo.features.length) map.fitBounds(grids.getBounds().pad(0.02));
      else map.setView([34.78, 113.68], 12);
      return load();
    });
  document.addEventListener('gc:live', function () { load(); });
})();
