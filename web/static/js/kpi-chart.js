// The evaluation page's ranking chart (ECharts, SVG): scores, best at the top.
(function () {
  'use strict';
  const el = document.getElementById('kpi-chart');
  if (!el) return;
  const data = JSON.parse(el.dataset.chart);
  el.style.height = Math.max(220, 28 * data.names.length + 60) + 'px';
  const chart = echarts.init(el, null, {renderer: 'svg'});
  chart.setOption({
    animation: false,
    grid: {left: 160, right: 40, top: 20, bottom: 30},
    xAxis: {type: 'value', max: 100, minInterval: 1},
    yAxis: {type: 'category', data: data.names},
    series: [{name: data.title, type: 'bar', data: data.scores, itemStyle: {color: '#0b4f8a'},
              label: {show: true, position: 'right'}}],
    tooltip: {trigger: 'axis'},
  });
  el.setAttribute('aria-label', data.names.map(function (n, i) {
    return n + ' ' + data.scores[i];
  }).reverse().join('; '));
  window.addEventListener('resize', function () { chart.resize(); });
})();
