// A hint only: warn when the threshold is under the floor (the service refuses to authorise it).
(function () {
  "use strict";
  var form = document.querySelector("[data-deployment-form]");
  if (!form) {
    return;
  }
  var threshold = form.querySelector('input[name="threshold"]');
  var notice = form.querySelector("[data-threshold-notice]");
  if (!threshold || !notice) {
    return;
  }
  var floor = parseFloat(threshold.getAttribute("data-floor"));

  function check() {
    var value = parseFloat(threshold.value);
    notice.hidden = !(isFinite(value) && isFinite(floor) && value < floor);
  }

  threshold.addEventListener("input", check);
  check();
})();
