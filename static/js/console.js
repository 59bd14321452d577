// SWR Console: progressive enhancement only. Every page also works without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Dialogs arrive as htmx fragments (or open, server-rendered, on a no-JS URL): make them modal.
  function showDialogs(root) {
    var dialogs = Array.prototype.slice.call(root.querySelectorAll("dialog[data-modal]"));
    if (root.matches && root.matches("dialog[data-modal]")) dialogs.push(root);
    dialogs.forEach(function (dialog) {
      if (dialog.dataset.shown) return;
      dialog.dataset.shown = "1";
      if (dialog.open) dialog.close();
      dialog.showModal();
    });
  }

  // Local times beside the UTC ones the server renders.
  function localiseTimes(root) {
    root.querySelectorAll("[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("data-local-time"));
      if (!isNaN(when)) el.textContent = when.toLocaleString() + " (your time)";
    });
  }

  // The create dialog's date field matters only with the "On a date" validity.
  function syncValidity(root) {
    root.querySelectorAll("select[data-validity]").forEach(function (select) {
      var box = select.form && select.form.querySelector("[data-validity-date]");
      if (box) box.hidden = select.value !== "date";
    });
  }

  document.addEventListener("htmx:load", function (event) {
    showDialogs(event.detail.elt);
    localiseTimes(event.detail.elt.parentNode || document);
    syncValidity(event.detail.elt.parentNode || document);
  });

  // A closed dialog leaves the page as it was: removed, and the URL back on its tab.
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (!(dialog instanceof HTMLDialogElement) || !dialog.hasAttribute("data-modal")) return;
    var back = dialog.getAttribute("data-return-url");
    if (back && location.pathname !== back) history.replaceState(null, "", back);
    dialog.remove();
  }, true);

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      event.preventDefault();
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    var copier = event.target.closest("[data-copy]");
    if (copier) copy(copier);
  });

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.setAttribute("data-copied", "");
      window.setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      done();
    }
  }

  // The create form answers with the CSV itself: save it, close the dialog, keep the page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if ((xhr.getResponseHeader("Content-Type") || "").indexOf("text/csv") !== 0) return;
    event.detail.shouldSwap = false;
    var match = /filename="([^"]+)"/.exec(xhr.getResponseHeader("Content-Disposition") || "");
    // XHR drops a leading byte-order mark; a form that asks for one (credentials.csv) gets it back.
    var form = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
    var bom = form.closest("[data-csv-bom]") ? "\ufeff" : "";
    var url = URL.createObjectURL(new Blob([bom + xhr.responseText], { type: "text/csv;charset=utf-8" }));
    var link = document.createElement("a");
    link.href = url;
    link.download = match ? match[1] : "credential.csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    // The dialog of the form that asked (its target may lie outside the dialog).
    var source = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
    var dialog = source.closest("dialog") || event.detail.elt.closest("dialog");
    if (dialog) dialog.close();
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
    if (event.target.matches("select[data-validity]")) syncValidity(event.target.form);
  });
})();
