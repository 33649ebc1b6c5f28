// API key page (SPEC K31/K32): draws the key's requests per day, stacked by outcome, from the JSON
// the server embeds as <script id="key-usage-data" type="application/json">, with the same
// Chart.js as the Statistics page (static/vendor/chart.js/chart.umd.min.js, served from our own
// static files: the Content-Security-Policy allows same-origin scripts only).
// Without JavaScript, or when the chart cannot be drawn, the page keeps its plain table of days
// (K8); once the chart is drawn the table is hidden behind a "Show as table" toggle.
(function () {
  "use strict";

  var SERIES = [
    { key: "success", label: "Success", color: "#1f8a4c" },
    { key: "client_error", label: "Client error", color: "#d38b0b" },
    { key: "rate_limited", label: "Rate-limited", color: "#c2352b" },
  ];

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("key-usage-data");
    var figure = document.getElementById("key-usage-figure");
    var canvas = document.getElementById("key-usage-chart");
    var table = document.getElementById("key-usage-days");
    var toggle = document.getElementById("key-usage-toggle");
    if (!source || !figure || !canvas || typeof window.Chart !== "function" || !window.chartTable) {
      return;
    }

    var data = JSON.parse(source.textContent);

    window.chartTable.show(figure, table, toggle, function () {
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.dates,
          datasets: SERIES.map(function (series) {
            return {
              label: series.label,
              data: data[series.key],
              backgroundColor: series.color,
              maxBarThickness: 28,
            };
          }),
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: true, position: "bottom" } },
          scales: {
            x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } },
            y: {
              stacked: true,
              beginAtZero: true,
              ticks: { precision: 0 },
              title: { display: true, text: "Requests" },
            },
          },
        },
      });
    });
  });
})();
