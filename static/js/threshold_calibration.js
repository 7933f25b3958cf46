// A hint only: update the expected false alert rates as the planner changes the threshold. The page as
// served (and the figures the authorising officer is shown) comes from the server; this reads the same
// curves the same conservative way: false alerts at the highest measured threshold <= the chosen one,
// TPIR at the lowest measured threshold >= it. Per passer-by (walk-by calibration) first, then per face
// image; the table by group is the server's, for the threshold the page was served with.
(function () {
  "use strict";
  var panel = document.querySelector("[data-calibration-curve]");
  var threshold = document.querySelector('[data-deployment-form] input[name="threshold"]');
  if (!panel || !threshold) {
    return;
  }
  var EPSILON = 1e-9;

  function parse(attribute) {
    try {
      return JSON.parse(panel.getAttribute(attribute) || "[]");
    } catch (error) {
      return [];
    }
  }

  function around(points, value) {
    var low = null;
    var high = null;
    points.forEach(function (point) {
      if (point[0] <= value + EPSILON) {
        low = point;
      }
      if (high === null && point[0] >= value - EPSILON) {
        high = point;
      }
    });
    return { low: low, high: high };
  }

  // [threshold, per_1000, upper95_per_1000, false_alerts, nonmated, tpir]
  var walkby = parse("data-walkby-curve");
  var groups = panel.querySelector("[data-walkby-groups]");
  var stale = panel.querySelector("[data-walkby-groups-stale]");

  function updateWalkby(value) {
    if (!walkby.length || !panel.querySelector("[data-walkby-per1000]")) {
      return;
    }
    var found = around(walkby, value);
    var low = found.low;
    var high = found.high;
    setText("[data-walkby-threshold]", value.toFixed(2));
    setText("[data-walkby-per1000]", low && low[1] !== null ? low[1].toFixed(1) : "unknown");
    setText("[data-walkby-upper]", low && low[2] !== null ? low[2].toFixed(1) : "unknown");
    setText("[data-walkby-count]", low ? String(low[3]) : "unknown");
    setText("[data-walkby-tpir]", high && high[5] !== null ? (100 * high[5]).toFixed(1) + "%" : "unknown");
    if (groups && stale) {
      stale.hidden = Math.abs(parseFloat(groups.getAttribute("data-threshold")) - value) < EPSILON;
    }
  }

  var curve = parse("data-calibration-curve"); // [threshold, fpir, fpir_upper, false_alerts, tpir]

  function at(value) {
    var found = around(curve, value);
    var low = found.low;
    var high = found.high;
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
    updateWalkby(value);
    if (!curve.length || !panel.querySelector("[data-calib-per1000]")) {
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
