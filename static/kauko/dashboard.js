// The staff home refreshes its dashboard without a full reload: every few seconds (the
// container's data-refresh-seconds) it fetches the dashboard fragment (data-url) and swaps it
// in, and says so when a lending request newer than the one on the page when it was loaded
// has arrived. No inline script, no third-party code: CSP-friendly.
(function () {
  "use strict";
  var live = document.getElementById("dashboard-live");
  if (!live) { return; }
  var notice = document.getElementById("new-lending-notice");
  var seconds = parseInt(live.getAttribute("data-refresh-seconds"), 10) || 60;
  var first = live.querySelector("[data-newest-lending]");
  var known = first ? parseInt(first.getAttribute("data-newest-lending"), 10) || 0 : 0;

  function refresh() {
    if (document.hidden) { return; }
    fetch(live.getAttribute("data-url"), {
      credentials: "same-origin",
      headers: {"X-Requested-With": "XMLHttpRequest"}
    }).then(function (response) {
      if (response.redirected) {
        // Logged out meanwhile: the login page must not land inside the dashboard.
        window.location.reload();
        throw new Error("logged out");
      }
      if (!response.ok) { throw new Error(response.status); }
      return response.text();
    }).then(function (html) {
      live.innerHTML = html;
      var fresh = live.querySelector("[data-newest-lending]");
      var newest = fresh ? parseInt(fresh.getAttribute("data-newest-lending"), 10) || 0 : 0;
      if (newest > known && notice) {
        notice.hidden = false;
      }
    }).catch(function () { /* offline for a moment: try again next time */ });
  }

  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { refresh(); }
  });
}());
