/* Charts of the indicator dashboard (Apache ECharts, served by jiancha itself).
   The page works without them: every chart has a table with the same numbers. */
(function () {
  "use strict";

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function axisLabel(format) {
    if (format === "rate") return "{value}%";
    return "{value}";
  }

  function tooltipValue(format, value) {
    if (value === null || value === undefined) return "—";
    if (format === "rate") return value.toFixed(value < 1 ? 2 : 1) + "%";
    if (format === "ratio") return "1:" + value.toFixed(2);
    return value.toFixed(1);
  }

  function trendChart(data) {
    var node = document.getElementById("chart-trend");
    if (!node || !data) return;
    var chart = window.echarts.init(node);
    var series = [
      { name: data.series.unit, type: "line", data: data.values, connectNulls: false, symbolSize: 7 },
      { name: data.series.previous, type: "line", data: data.previous, lineStyle: { type: "dashed" }, symbol: "none" },
      { name: data.series.national, type: "line", data: data.national, lineStyle: { type: "dotted" }, symbol: "none" }
    ];
    chart.setOption({
      color: ["#24508f", "#98a2b3", "#b42318"],
      tooltip: { trigger: "axis", valueFormatter: function (v) { return tooltipValue(data.format, v); } },
      legend: { bottom: 0 },
      grid: { left: 48, right: 16, top: 16, bottom: 48 },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", axisLabel: { formatter: axisLabel(data.format) } },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function unitsChart(data) {
    var node = document.getElementById("chart-units");
    if (!node || !data || !data.labels.length) return;
    var chart = window.echarts.init(node);
    chart.setOption({
      color: ["#24508f"],
      tooltip: { trigger: "axis", valueFormatter: function (v) { return tooltipValue(data.format, v); } },
      grid: { left: 120, right: 24, top: 8, bottom: 24 },
      xAxis: { type: "value", axisLabel: { formatter: axisLabel(data.format) } },
      yAxis: { type: "category", data: data.labels, inverse: true, axisLabel: { width: 110, overflow: "truncate" } },
      series: [{
        type: "bar",
        data: data.values,
        markLine: data.national === null ? undefined : { symbol: "none", data: [{ xAxis: data.national }], label: { formatter: "" } }
      }]
    });
    chart.on("click", function (params) {
      var url = data.urls[params.dataIndex];
      if (url) window.location.href = url;
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    if (!window.echarts) return;
    trendChart(read("chart-trend-data"));
    unitsChart(read("chart-units-data"));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
