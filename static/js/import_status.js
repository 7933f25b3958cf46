// Bulk import progress: polls the status JSON every second until the import has finished, then
// reloads the page, which the server renders with the per-row report.
(function () {
  "use strict";
  var root = document.querySelector("[data-import-status-url]");
  if (!root || root.getAttribute("data-finished") === "true") {
    return;
  }
  var url = root.getAttribute("data-import-status-url");
  var bar = root.querySelector("progress");

  function show(name, value) {
    var element = root.querySelector('[data-field="' + name + '"]');
    if (element) {
      element.textContent = value;
    }
  }

  function update(state) {
    bar.max = Math.max(state.total_rows, 1);
    bar.value = state.processed_rows;
    bar.textContent = state.percent + "%";
    ["processed_rows", "total_rows", "enrolled", "refused", "duplicates", "status_label"].forEach(function (name) {
      show(name, state[name]);
    });
    show("percent", state.percent + "%");
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("the server answered " + response.status);
        }
        return response.json();
      })
      .then(function (state) {
        update(state);
        if (state.finished) {
          show("poll_error", "Finished: loading the report…");
          window.location.reload();
          return;
        }
        show("poll_error", "This page updates itself every second.");
        window.setTimeout(poll, 1000);
      })
      .catch(function (error) {
        show("poll_error", "Could not read the progress (" + error.message + "); trying again.");
        window.setTimeout(poll, 3000);
      });
  }

  window.setTimeout(poll, 1000);
})();
