// Report widgets drawn with Apache ECharts (vendor/echarts), the one chart library of the UI.
// A chart is <div data-report-chart="ID"> beside {{ chart|json_script:"ID" }}:
// {"type": bar|line|stacked_bar|pie|funnel, "labels": [...], "series": [{"name", "values", "urls"}],
//  "kind": number|money|percent|seconds, "dates": bool, "marker": {"talk_ratio": 0.43}?}.
// Clicking a bar, point or slice opens the records behind it (each point carries its URL).
// No inline scripts or styles (CSP): tooltips are plain text.
(() => {
  const primary = () => getComputedStyle(document.documentElement).getPropertyValue("--tblr-primary").trim() || "#0f766e";
  const palette = () => [primary(), "#f59f00", "#4263eb", "#d6336c", "#2f9e44", "#7048e8", "#1098ad", "#e8590c", "#495057"];
  const shortDate = (iso) => {
    const day = new Date(`${iso}T00:00:00`);
    return Number.isNaN(day.getTime()) ? iso : day.toLocaleDateString(undefined, { day: "numeric", month: "short" });
  };
  const format = (kind, value) => {
    if (value === null || value === undefined) return "—";
    if (kind === "percent") return `${Math.round(value * 100)} %`;
    if (kind === "seconds") return value < 60 ? `${value.toFixed(1)} s` : `${Math.floor(value / 60)}:${String(Math.floor(value % 60)).padStart(2, "0")}`;
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: kind === "money" ? 2 : 1 });
  };
  const escape = (text) => {
    const span = document.createElement("span");
    span.textContent = String(text);
    return span.innerHTML;
  };

  // "#rrggbb" mixed with white by ``amount`` (0: as is, 1: white); other colour syntaxes as they are.
  const lighter = (colour, amount) => {
    const hex = /^#([0-9a-f]{6})$/i.exec(colour);
    if (!hex) return colour;
    const channels = [0, 2, 4].map((at) => parseInt(hex[1].slice(at, at + 2), 16));
    return `rgb(${channels.map((c) => Math.round(c + (255 - c) * amount)).join(", ")})`;
  };

  // A pie of two groupings: inner slices (first grouping's totals) and outer ones (first × second),
  // each outer slice with the URL of its records.
  const pieRings = (data) => {
    const series = data.series || [];
    const colours = palette();
    const inner = [];
    const outer = [];
    const urls = [];
    (data.labels || []).forEach((label, index) => {
      let total = 0;
      const colour = colours[index % colours.length];
      series.forEach((line, position) => {
        const value = Number(line.values[index] ?? 0);
        total += value;
        if (value) {
          // its inner slice's colour, lighter for each value of the second grouping
          const shade = lighter(colour, (0.6 * position) / Math.max(series.length - 1, 1));
          outer.push({ name: `${label} · ${line.name}`, value, itemStyle: { color: shade } });
          urls.push((line.urls || [])[index]);
        }
      });
      inner.push({ name: label, value: total, itemStyle: { color: colour } });
    });
    return { inner, outer, urls };
  };

  const options = (data, narrow) => {
    const series = data.series || [];
    const labels = data.labels || [];
    const axisLabel = data.dates ? shortDate : (label) => (label.length > 14 ? `${label.slice(0, 13)}…` : label);
    if (data.type === "pie" && series.length > 1) {
      // Two groupings: the first as the inner ring, each of its slices split by the second outside it.
      const rings = pieRings(data);
      return {
        animation: false,
        color: palette(),
        tooltip: { trigger: "item", formatter: (p) => `${escape(p.name)}: ${format(data.kind, p.value)} (${p.percent} %)` },
        legend: { bottom: 0, type: "scroll", data: labels },
        series: [
          { type: "pie", radius: ["0%", narrow ? "28%" : "32%"], center: ["50%", "45%"], data: rings.inner, label: { show: !narrow, position: "inner", fontSize: 11 } },
          { type: "pie", radius: narrow ? ["38%", "60%"] : ["42%", "65%"], center: ["50%", "45%"], data: rings.outer, minShowLabelAngle: 6, label: { show: !narrow } },
        ],
      };
    }
    if (data.type === "pie" || data.type === "funnel") {
      const first = series[0] || { values: [] };
      const points = labels.map((label, index) => ({ name: label, value: first.values[index] ?? 0 }));
      return {
        animation: false,
        color: palette(),
        tooltip: { trigger: "item", formatter: (p) => `${escape(p.name)}: ${format(data.kind, p.value)}` },
        legend: data.type === "pie" ? { bottom: 0, type: "scroll" } : undefined,
        series: [
          data.type === "pie"
            ? { type: "pie", radius: narrow ? ["30%", "60%"] : ["35%", "65%"], center: ["50%", "45%"], data: points, label: { show: !narrow } }
            : { type: "funnel", sort: "none", left: 8, width: "55%", top: 8, bottom: 8, minSize: "6%", gap: 2, data: points, label: { position: "right", color: "#1d273b", formatter: (p) => `${p.name}: ${format(data.kind, p.value)}` }, labelLine: { show: true } },
        ],
      };
    }
    const stacked = data.type === "stacked_bar";
    const type = data.type === "line" ? "line" : "bar";
    const built = series.map((line) => ({
      name: line.name,
      type,
      stack: stacked ? "total" : undefined,
      data: line.values,
      barMaxWidth: 28,
      connectNulls: true,
    }));
    if (data.marker && data.marker.value !== undefined && built[0]) {
      built[0].markLine = { symbol: "none", data: [{ yAxis: data.marker.value, name: data.marker.label }], label: { formatter: data.marker.label } };
    }
    // Named categories (owners, stages) read best as horizontal bars: every name stays whole on a phone.
    const horizontal = !data.dates && type === "bar" && !/^\d{4}-\d{2}$/.test(labels[0] || "");
    const categories = { type: "category", data: labels, inverse: horizontal, axisLabel: { formatter: axisLabel, hideOverlap: !horizontal, rotate: !horizontal && narrow && labels.length > 4 ? 35 : 0 } };
    const amounts = { type: "value", minInterval: data.kind === "number" ? 1 : undefined, axisLabel: { formatter: (v) => format(data.kind, v), hideOverlap: true } };
    return {
      animation: false,
      color: palette(),
      grid: { left: 8, right: horizontal ? 32 : 16, top: series.length > 1 ? 36 : 16, bottom: 8, containLabel: true },
      legend: series.length > 1 ? { top: 0, type: "scroll" } : undefined,
      tooltip: {
        trigger: "axis",
        formatter: (params) => {
          const list = Array.isArray(params) ? params : [params];
          if (!list.length) return "";
          const head = data.dates ? shortDate(list[0].name) : list[0].name;
          return [escape(head), ...list.map((p) => `${escape(p.seriesName)}: ${format(data.kind, p.value)}`)].join("<br>");
        },
      },
      xAxis: horizontal ? amounts : categories,
      yAxis: horizontal ? categories : amounts,
      series: built,
    };
  };

  const draw = (element) => {
    const source = document.getElementById(element.dataset.reportChart);
    if (!source) return null;
    const data = JSON.parse(source.textContent || "{}");
    const horizontal = (data.type === "bar" || data.type === "stacked_bar") && !data.dates && !/^\d{4}-\d{2}$/.test((data.labels || [])[0] || "");
    if (horizontal) element.style.height = `${Math.max(160, 40 + 30 * (data.labels || []).length)}px`;
    const chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(options(data, element.clientWidth < 420));
    const nested = data.type === "pie" && (data.series || []).length > 1 ? pieRings(data) : null;
    chart.on("click", (params) => {
      const line = (data.series || [])[data.type === "pie" || data.type === "funnel" ? 0 : params.seriesIndex] || {};
      let url = (line.urls || [])[params.dataIndex];
      if (nested) url = params.seriesIndex === 1 ? nested.urls[params.dataIndex] : undefined;
      if (url) window.location.assign(url);
    });
    element.dataset.drawn = "true";
    return chart;
  };

  let watcher = null;
  // Draws every chart under ``root`` (the page, or a card the builder's preview or the dashboard
  // editor just put in); a chart already drawn is drawn afresh.
  const drawAll = (root) => {
    if (!window.echarts) return;
    watcher = watcher || new ResizeObserver((entries) => {
      entries.forEach((entry) => window.echarts.getInstanceByDom(entry.target)?.resize());
    });
    (root || document).querySelectorAll("[data-report-chart]").forEach((element) => {
      window.echarts.getInstanceByDom(element)?.dispose();
      if (draw(element)) watcher.observe(element);
    });
  };
  window.reportCharts = { drawAll };

  // After the other DOMContentLoaded handlers (app.js sets the organisation's accent colour there).
  document.addEventListener("DOMContentLoaded", () => requestAnimationFrame(() => drawAll(document)));
})();
