/* The letter template admin: picking a letter type or language on a new template loads
   Kauko's default wording, as long as nothing has been typed yet. */
(function () {
  "use strict";
  var code = document.getElementById("id_code");
  var language = document.getElementById("id_language");
  var subject = document.getElementById("id_subject");
  var text = document.getElementById("id_text");
  if (!code || !language || !subject || !text) return;
  function reload() {
    var untouched = subject.value === subject.defaultValue && text.value === text.defaultValue;
    if (!code.value || !language.value || !untouched) return;
    var params = new URLSearchParams(window.location.search);
    params.set("code", code.value);
    params.set("language", language.value);
    window.location.search = params.toString();
  }
  code.addEventListener("change", reload);
  language.addEventListener("change", reload);
})();
