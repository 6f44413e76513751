// The call page's charts with Apache ECharts: sentiment over the call (one line per speaker) and
// talk time per speaker. The data comes from <script type="application/json" id="call-charts">.
(function () {
  "use strict";
  var node = document.getElementById("call-charts");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent || "{}");
  var charts = [];

  function mmss(seconds) {
    var whole = Math.max(0, Math.floor(seconds || 0));
    var secs = whole % 60;
    return Math.floor(whole / 60) + ":" + (secs < 10 ? "0" : "") + secs;
  }

  function mood(score) {
    if (score >= 0.05) { return "Positive"; }
    if (score <= -0.05) { return "Negative"; }
    return "Neutral";
  }

  function escape(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  // Tooltips written without style attributes: the page's CSP refuses inline styles.
  function sentimentTooltip(params) {
    var list = Array.isArray(params) ? params : [params];
    if (!list.length) { return ""; }
    var lines = [mmss(list[0].value[0])];
    list.forEach(function (p) { lines.push(escape(p.seriesName) + ": " + mood(p.value[1])); });
    return lines.join("<br>");
  }

  function sentiment(element) {
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 72, right: 12, top: 28, bottom: 28 },
      legend: { top: 0, textStyle: { fontSize: 12 } },
      tooltip: { trigger: "axis", formatter: sentimentTooltip },
      xAxis: {
        type: "value", min: 0, max: Math.max(data.duration || 0, 1),
        axisLabel: { formatter: mmss }, splitLine: { show: false }
      },
      yAxis: {
        type: "value", min: -1, max: 1, interval: 1,
        axisLabel: { formatter: function (value) { return value > 0 ? "Positive" : value < 0 ? "Negative" : "Neutral"; } }
      },
      series: (data.timeline || []).map(function (line) {
        return {
          name: line.name, type: "line", smooth: true, showSymbol: false, data: line.points,
          lineStyle: { width: 2, color: line.colour }, itemStyle: { color: line.colour }
        };
      })
    });
    return chart;
  }

  function talk(element) {
    var rows = data.talk || [];
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 96, right: 56, top: 4, bottom: 4 },
      tooltip: {
        trigger: "item",
        formatter: function (p) { return escape(p.name) + ": " + mmss(p.value) + " (" + rows[p.dataIndex].share + "%)"; }
      },
      xAxis: { type: "value", show: false },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }), axisTick: { show: false } },
      series: [{
        type: "bar", barMaxWidth: 18,
        data: rows.map(function (r) { return { value: r.seconds, itemStyle: { color: r.colour } }; }),
        label: { show: true, position: "right", formatter: function (p) { return rows[p.dataIndex].share + "%"; } }
      }]
    });
    return chart;
  }

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var kind = element.getAttribute("data-chart");
    if (kind === "sentiment") { charts.push(sentiment(element)); }
    if (kind === "talk") { charts.push(talk(element)); }
  });
  // Each chart follows its box's size (a window resize, a phone turned, a card that changes width).
  var watcher = new ResizeObserver(function () { charts.forEach(function (chart) { chart.resize(); }); });
  charts.forEach(function (chart) { watcher.observe(chart.getDom()); });
})();
