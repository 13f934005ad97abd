// SmartBorder console: live notifications over Server-Sent Events. The server renders every
// piece of HTML; this script only puts it in place.
(function () {
  "use strict";
  function start() {
    var url = document.body.getAttribute("data-live");
    if (!url || !window.EventSource) { return; }
    var source = new EventSource(url);
    source.addEventListener("notification", function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      var badge = document.getElementById("unread");
      if (badge) { badge.textContent = String(data.unread); }
      var template = document.createElement("template");
      var feed = document.getElementById("notifications");
      if (feed && data.item) {
        template.innerHTML = data.item;
        feed.insertBefore(template.content.firstElementChild, feed.firstElementChild);
      }
      var arrivals = document.querySelector("#arrivals tbody");
      if (arrivals && data.arrival) {
        template.innerHTML = "<table><tbody>" + data.arrival + "</tbody></table>";
        var row = template.content.querySelector("tr");
        var mrn = row && row.getAttribute("data-mrn");
        var old = mrn && arrivals.querySelector('tr[data-mrn="' + mrn + '"]');
        if (old) { old.remove(); }
        if (row) {
          row.classList.add("fresh");
          arrivals.insertBefore(row, arrivals.firstElementChild);
        }
      }
      var region = document.getElementById("live-region");
      if (region && data.item) {
        template.innerHTML = data.item;
        region.textContent = template.content.textContent.trim();
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
