/* The console's only script: the viewer's time zone for the server, and focus around htmx swaps.
   Everything works without it; it only makes the pages smoother. */
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\/-]+$/.test(zone) && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/console; SameSite=Lax; max-age=31536000";
    }
  } catch (e) { /* no Intl: times stay in UTC, with their offset */ }

  // A self-refreshing region (data-keep-focus) keeps the focus where it was: on the
  // element with the same id in the new content.
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    kept = active && active.id && event.detail.target.contains(active) ? active.id : null;
  });

  // After htmx inserts a result, move focus to it (its aria-live region announces it).
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) { return; }
    if (target.hasAttribute("data-keep-focus")) {
      var again = kept && document.getElementById(kept);
      if (again) { again.focus(); }
      return;
    }
    var focus = target.querySelector("[data-autofocus]") || target.querySelector("#card-title");
    if (focus) { focus.focus(); }
  });
})();
