// The « Statistiques » page: draws each chart with the vendored Chart.js from the data the
// page carries in a json_script element (CSP: no inline script). The table beside each
// chart holds the same figures, so the page reads the same without JavaScript.
(function () {
  "use strict";

  const source = document.getElementById("statistics-charts");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  // The palette of the PDF's SVG charts (reporting/charts.py).
  const COLOURS = ["#0d6efd", "#fd7e14", "#6c757d", "#198754", "#dc3545"];
  const charts = JSON.parse(source.textContent);

  charts.forEach((spec) => {
    const canvas = document.querySelector(`canvas[data-chart="${spec.id}"]`);
    if (!canvas) {
      return;
    }
    const horizontal = spec.labels.length > 6;
    const chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((dataset, index) => ({
          label: dataset.label,
          data: dataset.data,
          backgroundColor: COLOURS[index % COLOURS.length],
        })),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        animation: false,
        responsive: true,
        plugins: { legend: { display: spec.datasets.length > 1 } },
        scales: {
          x: { stacked: Boolean(spec.stacked), beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: Boolean(spec.stacked), beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
    canvas.dataset.chartReady = chart ? "true" : "false";
  });
}());
