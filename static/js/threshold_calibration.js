// A hint only: update the expected false alert rate as the planner changes the threshold. The page as
// served (and the figure the authorising officer is shown) comes from the server; this reads the same
// curve the same conservative way: FPIR at the highest measured threshold <= the chosen one, TPIR at
// the lowest measured threshold >= it.
(function () {
  "use strict";
  var panel = document.querySelector("[data-calibration-curve]");
  var threshold = document.querySelector('[data-deployment-form] input[name="threshold"]');
  if (!panel || !threshold || !panel.querySelector("[data-calib-per1000]")) {
    return;
  }
  var curve;
  try {
    curve = JSON.parse(panel.getAttribute("data-calibration-curve")); // [threshold, fpir, fpir_upper, false_alerts, tpir]
  } catch (error) {
    return;
  }
  if (!curve.length) {
    return;
  }
  var EPSILON = 1e-9;

  function at(value) {
    var low = null;
    var high = null;
    curve.forEach(function (point) {
      if (point[0] <= value + EPSILON) {
        low = point;
      }
      if (high === null && point[0] >= value - EPSILON) {
        high = point;
      }
    });
    return {
      threshold: value,
      per1000: low ? (1000 * low[1]).toFixed(1) : "unknown",
      upper: low && low[2] !== null ? (1000 * low[2]).toFixed(1) : "unknown",
      count: low ? String(low[3]) : "unknown",
      tpir: high ? (100 * high[4]).toFixed(1) + "%" : "unknown",
    };
  }

  function setText(selector, text) {
    var node = panel.querySelector(selector);
    if (node) {
      node.textContent = text;
    }
  }

  function cell(text, strong) {
    var td = document.createElement("td");
    td.className = "num";
    if (strong) {
      var bold = document.createElement("strong");
      bold.textContent = text;
      td.appendChild(bold);
    } else {
      td.textContent = text;
    }
    return td;
  }

  function update() {
    var value = parseFloat(threshold.value);
    if (!isFinite(value) || value < 0 || value > 1) {
      return;
    }
    var chosen = at(value);
    setText("[data-calib-threshold]", value.toFixed(2));
    setText("[data-calib-per1000]", chosen.per1000);
    setText("[data-calib-upper]", chosen.upper);
    setText("[data-calib-count]", chosen.count);
    setText("[data-calib-tpir]", chosen.tpir);
    var rows = panel.querySelector("[data-calib-rows]");
    if (!rows) {
      return;
    }
    while (rows.firstChild) {
      rows.removeChild(rows.firstChild);
    }
    for (var offset = -2; offset <= 2; offset++) {
      var rowValue = offset === 0 ? value : Math.round((value + 0.05 * offset) * 10000) / 10000;
      if (rowValue < 0 || rowValue > 1) {
        continue;
      }
      var row = at(rowValue);
      var tr = document.createElement("tr");
      if (offset === 0) {
        tr.setAttribute("aria-current", "true");
      }
      tr.appendChild(cell(rowValue.toFixed(2), offset === 0));
      tr.appendChild(cell(row.per1000));
      tr.appendChild(cell(row.upper));
      tr.appendChild(cell(row.tpir));
      rows.appendChild(tr);
    }
  }

  threshold.addEventListener("input", update);
})();
