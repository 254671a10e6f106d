/* Circulation desk: keyboard only. The scan field keeps focus; Enter submits (the scanner
   sends it); Alt+S/O/I/H switch pages, Alt+U undoes the last scan, Alt+P prints the slip. */
(function () {
  "use strict";
  var field = document.querySelector("[data-keep-focus]") || document.querySelector(".scan-field");

  function refocus() {
    if (field && document.activeElement !== field) { field.focus(); field.select(); }
  }

  if (field) {
    refocus();
    // Focus that lands on nothing (a click on the page, a closed print dialog) comes back.
    document.addEventListener("focusout", function () {
      window.setTimeout(function () {
        var active = document.activeElement;
        if (!active || active === document.body) { refocus(); }
      }, 0);
    });
    window.addEventListener("focus", refocus);
  }

  // Self-service: Enter in the card field moves to the item field instead of submitting.
  document.querySelectorAll("[data-next]").forEach(function (input) {
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        var next = document.getElementById(input.getAttribute("data-next"));
        if (next) { next.focus(); }
      }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && field) { field.value = ""; refocus(); return; }
    if (!event.altKey || event.ctrlKey || event.metaKey) { return; }
    var key = event.key.toLowerCase();
    if (key === "p" && document.querySelector(".slip-print")) {
      event.preventDefault();
      window.print();
      return;
    }
    var target = document.querySelector('[data-shortcut="' + key + '"]');
    if (target) {
      event.preventDefault();
      target.click();
    }
  });

  // Submitting twice (a double Enter from the scanner) must not scan twice.
  document.querySelectorAll("form.scan-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });

  if (document.body.dataset.autoprint) { window.setTimeout(function () { window.print(); }, 200); }
})();
