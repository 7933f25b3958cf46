// A hint only: when the date of birth makes the subject under 18, point at the justification field.
// The service decides; this saves the detective a round trip.
(function () {
  "use strict";
  var form = document.querySelector("[data-subject-form]");
  if (!form) {
    return;
  }
  var birth = form.querySelector('input[name="date_of_birth"]');
  var notice = form.querySelector("[data-under-18-notice]");
  var justification = form.querySelector('[data-field="under_18_justification"]');
  if (!birth || !notice) {
    return;
  }

  function ageOn(born, today) {
    var age = today.getFullYear() - born.getFullYear();
    var month = today.getMonth() - born.getMonth();
    if (month < 0 || (month === 0 && today.getDate() < born.getDate())) {
      age -= 1;
    }
    return age;
  }

  function check() {
    var value = birth.value;
    var under18 = false;
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
      var parts = value.split("-");
      var born = new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
      under18 = ageOn(born, new Date()) < 18;
    }
    notice.hidden = !under18;
    if (justification) {
      justification.classList.toggle("needed", under18);
    }
  }

  birth.addEventListener("change", check);
  birth.addEventListener("input", check);
  check();
})();

// The rules of the chosen inclusion category: the server lists every category's; show the chosen one only.
(function () {
  "use strict";
  var form = document.querySelector("[data-subject-form]");
  var list = form && form.querySelector("[data-category-rules]");
  var category = form && form.querySelector('select[name="category"]');
  if (!list || !category) {
    return;
  }
  function show() {
    list.querySelectorAll("[data-category]").forEach(function (entry) {
      entry.hidden = entry.getAttribute("data-category") !== category.value;
    });
  }
  category.addEventListener("change", show);
  show();
})();
