// Statistics page (SPEC D3): draws traffic per day from the JSON the server embeds as
// <script id="usage-data" type="application/json">, with Chart.js 4.6.1
// (static/vendor/chart.js/chart.umd.min.js, MIT licence, from the npm package chart.js@4.6.1;
// served from our own static files, no CDN).
// Without JavaScript, or when the chart cannot be drawn, the page keeps its plain table of days
// (K8); once the chart is drawn the table is hidden behind a "Show as table" toggle.
(function () {
  "use strict";

  var UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];

  // Decimal units, as on the rest of the page: plans are priced per GB of 10^9 bytes.
  function unitFor(maxBytes) {
    var index = 0;
    while (maxBytes >= 1000 && index < UNITS.length - 1) {
      maxBytes /= 1000;
      index += 1;
    }
    return index;
  }

  function human(bytes) {
    var index = unitFor(bytes);
    return index === 0 ? bytes + " B" : (bytes / Math.pow(1000, index)).toFixed(2) + " " + UNITS[index];
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("usage-data");
    var figure = document.getElementById("usage-chart-figure");
    var canvas = document.getElementById("usage-chart");
    var table = document.getElementById("usage-days");
    var toggle = document.getElementById("usage-days-toggle");
    if (!source || !figure || !canvas || typeof window.Chart !== "function" || !window.chartTable) {
      return;
    }

    var data = JSON.parse(source.textContent);
    var unit = unitFor(Math.max.apply(null, data.traffic_bytes.concat([0])));
    var scale = Math.pow(1000, unit);

    window.chartTable.show(figure, table, toggle, function () {
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.dates,
          datasets: [{
            label: "Traffic (" + UNITS[unit] + ")",
            data: data.traffic_bytes.map(function (bytes) { return bytes / scale; }),
            backgroundColor: "#2457d6",
            borderRadius: 2,
            maxBarThickness: 28,
          }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: function (context) {
                  var i = context.dataIndex;
                  return human(data.traffic_bytes[i]) + " · " + data.requests[i].toLocaleString() +
                    " requests · $" + data.cost[i];
                },
              },
            },
          },
          scales: {
            x: { ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } },
            y: { beginAtZero: true, title: { display: true, text: UNITS[unit] } },
          },
        },
      });
    });
  });
})();
