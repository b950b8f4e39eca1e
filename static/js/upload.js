// Uploads with a progress bar per file, for forms marked data-uploader.
// Files chosen or dropped are sent one per request (XHR, so the upload's
// progress can be shown), three at a time. Without JavaScript the form
// posts all files at once and the server answers with a page.
(function () {
  "use strict";
  var PARALLEL = 3;

  function formatBytes(n) {
    if (n < 1000) return n + " B";
    var units = ["kB", "MB", "GB"], i = -1;
    do { n /= 1000; i++; } while (n >= 1000 && i < units.length - 1);
    return (n >= 100 ? n.toFixed(0) : n.toFixed(1)) + " " + units[i];
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function setup(form) {
    var input = form.querySelector("input[type=file]");
    var drop = form.querySelector("[data-drop]");
    var list = form.querySelector("[data-upload-list]");
    var submit = form.querySelector("[data-upload-submit]");
    var single = form.hasAttribute("data-single");
    var max = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var maxLabel = form.getAttribute("data-max-label") || "";
    var fieldName = input.getAttribute("name");
    var queue = [], active = 0, ok = 0, failed = 0, lastURL = "";

    if (submit) submit.classList.add("js-hidden");
    form.classList.add("js-uploader");

    function finished() {
      if (active > 0 || queue.length > 0) return;
      if (single && ok > 0 && failed === 0) { window.location.assign(lastURL || window.location.href); return; }
      if (ok > 0) {
        var li = el("li", "doc-progress-summary");
        var a = el("a", "", failed > 0 ? "Show the new documents" : "Refreshing the list…");
        a.href = window.location.href;
        li.appendChild(a);
        list.appendChild(li);
        if (failed === 0) setTimeout(function () { window.location.reload(); }, 800);
      }
    }

    function fields() {
      var fd = new FormData();
      // Fields first: the server reads them before the file.
      Array.prototype.forEach.call(form.elements, function (f) {
        if (!f.name || f.type === "file" || f.type === "submit" || f.disabled) return;
        fd.append(f.name, f.value);
      });
      return fd;
    }

    function row(file) {
      var li = el("li", "doc-progress");
      li.setAttribute("data-testid", "upload-progress");
      var head = el("div", "doc-progress-head");
      head.appendChild(el("span", "doc-progress-name", file.name));
      head.appendChild(el("span", "muted small", formatBytes(file.size)));
      var bar = el("progress", "doc-progress-bar");
      bar.max = 100;
      bar.value = 0;
      var status = el("div", "doc-progress-status small muted", "Waiting…");
      li.appendChild(head);
      li.appendChild(bar);
      li.appendChild(status);
      list.appendChild(li);
      return { li: li, bar: bar, status: status };
    }

    function fail(r, msg) {
      failed++;
      r.li.classList.add("is-error");
      r.status.className = "doc-progress-status small field-error";
      r.status.textContent = msg;
      r.bar.value = 0;
    }

    function send(item) {
      active++;
      var r = item.row, xhr = new XMLHttpRequest(), fd = fields();
      fd.append(fieldName, item.file, item.file.name);
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.round((e.loaded / e.total) * 100);
        r.bar.value = pct;
        r.status.textContent = pct < 100 ? "Uploading… " + pct + "%" : "Checking and encrypting…";
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        if (xhr.status === 201 && body.document) {
          ok++;
          lastURL = body.document.url;
          r.bar.value = 100;
          r.li.classList.add("is-done");
          r.status.className = "doc-progress-status small";
          r.status.textContent = "";
          var a = el("a", "", "Uploaded");
          a.href = body.document.url;
          r.status.appendChild(a);
        } else {
          fail(r, body.error || "The upload failed (" + xhr.status + "). Please try again.");
        }
        next();
      });
      xhr.addEventListener("error", function () {
        fail(r, "The upload was interrupted. Check your connection and try again.");
        next();
      });
      xhr.send(fd);
    }

    function pump() {
      while (active < PARALLEL && queue.length > 0) send(queue.shift());
      finished();
    }

    function next() {
      active--;
      pump();
    }

    function add(files) {
      if (!files || files.length === 0) return;
      if (single) files = [files[0]];
      if (active === 0 && queue.length === 0) {
        // A new batch: its own outcome decides whether the list reloads.
        ok = 0;
        failed = 0;
        list.querySelectorAll(".doc-progress-summary").forEach(function (e) { e.remove(); });
      }
      Array.prototype.forEach.call(files, function (file) {
        var r = row(file);
        if (max > 0 && file.size > max) {
          fail(r, file.name + " is larger than the limit of " + maxLabel + ".");
          return;
        }
        if (file.size === 0) {
          fail(r, file.name + " is empty.");
          return;
        }
        queue.push({ file: file, row: r });
      });
      pump();
    }

    input.addEventListener("change", function () {
      add(input.files);
      input.value = "";
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      add(input.files);
      input.value = "";
    });
    if (drop) {
      ["dragenter", "dragover"].forEach(function (t) {
        drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("is-dragover"); });
      });
      ["dragleave", "dragend", "drop"].forEach(function (t) {
        drop.addEventListener(t, function () { drop.classList.remove("is-dragover"); });
      });
      drop.addEventListener("drop", function (e) {
        e.preventDefault();
        if (e.dataTransfer) add(e.dataTransfer.files);
      });
    }
  }

  function init() {
    document.querySelectorAll("form[data-uploader]").forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
