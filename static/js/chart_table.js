// Charts with a table of the same figures (Statistics, the key page): `window.chartTable.show`
// draws the chart into its figure and then hides the table behind a "Show as table" toggle.
// Without JavaScript, or when the chart cannot be drawn, the table stays the report (K8).
(function () {
  "use strict";

  window.chartTable = {
    show: function (figure, table, toggle, draw) {
      figure.hidden = false;
      try {
        draw();
      } catch (error) {
        figure.hidden = true;  // keep the table as the report
        throw error;
      }

      if (!table || !toggle) return;
      table.hidden = true;
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var show = table.hidden;
        table.hidden = !show;
        toggle.setAttribute("aria-expanded", show ? "true" : "false");
        toggle.textContent = show ? "Hide table" : "Show as table";
      });
    },
  };
})();
