/* Small page behaviours, without inline scripts (the Content-Security-Policy allows none):
   [data-print] prints the page, [data-submit-on-change] submits its form when changed,
   [data-check-all="selector"] checks or clears the boxes the selector finds. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches("[data-submit-on-change]") && field.form) {
      field.form.submit();
    }
    if (field.matches("[data-check-all]")) {
      document.querySelectorAll(field.dataset.checkAll).forEach(function (box) {
        box.checked = field.checked;
      });
    }
  });
})();
