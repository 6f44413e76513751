// Charts with Apache ECharts (vendor/echarts), one look for every chart in the UI. A chart is an
// element <div data-chart="ID"> beside {{ data|json_script:"ID" }}: {"type": "bar", "name", "labels",
// "values"}. No inline scripts or styles (CSP): tooltips are plain text.
(() => {
  const palette = () => getComputedStyle(document.documentElement).getPropertyValue("--tblr-primary").trim() || "#0f766e";
  const shortDate = (iso) => {
    const day = new Date(`${iso}T00:00:00`);
    return Number.isNaN(day.getTime()) ? iso : day.toLocaleDateString(undefined, { day: "numeric", month: "short" });
  };
  const draw = (element) => {
    const source = document.getElementById(element.dataset.chart);
    if (!source) return null;
    const data = JSON.parse(source.textContent || "{}");
    const chart = window.echarts.init(element, null, { renderer: "svg" });
    const dates = (data.labels || []).every((label) => /^\d{4}-\d{2}-\d{2}$/.test(label));
    chart.setOption({
      animation: false,
      color: [palette()],
      grid: { left: 40, right: 12, top: 16, bottom: 28 },
      tooltip: {
        trigger: "axis",
        formatter: (params) => {
          const point = params[0];
          return `${dates ? shortDate(point.name) : point.name}: ${point.value}`;
        },
      },
      xAxis: { type: "category", data: data.labels || [], axisLabel: { formatter: dates ? shortDate : undefined } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: data.name || "", type: data.type || "bar", data: data.values || [], barMaxWidth: 24 }],
    });
    return chart;
  };
  document.addEventListener("DOMContentLoaded", () => {
    if (!window.echarts) return;
    // Each chart follows its box's size (a window resize, a phone turned, a card that changes width).
    const watcher = new ResizeObserver((entries) => {
      entries.forEach((entry) => window.echarts.getInstanceByDom(entry.target)?.resize());
    });
    document.querySelectorAll("[data-chart]").forEach((element) => {
      if (draw(element)) watcher.observe(element);
    });
  });
})();
