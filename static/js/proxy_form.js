// Create-proxy page: offer only the plans of the chosen proxy type.  The server checks the pair
// anyway (proxies.services); without JavaScript every enabled plan is listed, grouped by type.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var type = document.getElementById("id_proxy_type");
    var plan = document.getElementById("id_plan");
    if (!type || !plan) return;

    function sync() {
      plan.querySelectorAll("optgroup").forEach(function (group) {
        var options = group.querySelectorAll("option[data-proxy-type]");
        var matches = options.length && options[0].getAttribute("data-proxy-type") === type.value;
        group.hidden = !matches;
        group.disabled = !matches;
      });
      var chosen = plan.options[plan.selectedIndex];
      if (chosen && chosen.value && chosen.parentElement.disabled) plan.value = "";
    }

    type.addEventListener("change", sync);
    sync();
  });
})();
