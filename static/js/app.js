// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // Toasts disappear after a while; errors stay a little longer.
  function schedule(el) {
    var ms = el.classList.contains("toast-error") ? 9000 : 5000;
    setTimeout(function () { el.classList.add("toast-out"); setTimeout(function () { el.remove(); }, 300); }, ms);
  }
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("#toasts .toast:not([data-scheduled])").forEach(function (el) {
      el.setAttribute("data-scheduled", "1");
      schedule(el);
    });
    // After a form comes back with errors, move focus to the first one.
    var invalid = document.querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus(); }
  });
  // A network failure on an HTMX request becomes a toast too.
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("toasts");
    if (!box) return;
    var t = document.createElement("div");
    t.className = "toast toast-error";
    t.setAttribute("role", "alert");
    t.textContent = "Could not reach the server. Check your connection and try again.";
    box.appendChild(t);
    schedule(t);
  });
  // Close the organization switcher when clicking elsewhere.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.switcher[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
  // Confirmation for destructive buttons: data-confirm="message".
  document.addEventListener("submit", function (e) {
    var btn = e.submitter || e.target.querySelector("[data-confirm]");
    var msg = (btn && btn.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); e.stopPropagation(); }
  }, true);
})();
