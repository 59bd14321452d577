// SWR Console: progressive enhancement only. Every page also works without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Words the script shows come from the page, in the page's language.
  function label(name, fallback) {
    return (document.body && document.body.getAttribute("data-" + name + "-label")) || fallback;
  }

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

  // Local times beside the UTC ones the server renders, in the page's language.
  function localiseTimes(root) {
    var lang = document.documentElement.lang || undefined;
    root.querySelectorAll("[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("data-local-time"));
      if (isNaN(when)) return;
      var text;
      try {
        text = when.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
      } catch (e) {
        text = when.toLocaleString();
      }
      el.textContent = text + " " + label("your-time", "(your time)");
    });
  }

  // The create dialog's date field matters only with the "On a date" validity.
  function syncValidity(root) {
    root.querySelectorAll("select[data-validity]").forEach(function (select) {
      var box = select.form && select.form.querySelector("[data-validity-date]");
      if (box) box.hidden = select.value !== "date";
    });
  }

  // The create dialog's list of organizations matters only with "Only the organizations I
  // choose" (without a script it stays shown, and is used only with that choice).
  function syncScope(root) {
    root.querySelectorAll("[data-scope]").forEach(function (fieldset) {
      var list = fieldset.querySelector("[data-scope-list]");
      var chosen = fieldset.querySelector("input[name=scope]:checked");
      if (list) list.hidden = !chosen || chosen.value !== "chosen";
    });
  }

  document.addEventListener("htmx:load", function (event) {
    showDialogs(event.detail.elt);
    localiseTimes(event.detail.elt.parentNode || document);
    syncValidity(event.detail.elt.parentNode || document);
    syncScope(event.detail.elt.parentNode || document);
  });

  // A message the server sends with an htmx answer (HX-Trigger "consoleMessage"): shown in
  // the page's live region, so screen readers announce it.
  document.addEventListener("consoleMessage", function (event) {
    var region = document.getElementById("messages");
    if (!region || !event.detail || !event.detail.text) return;
    var message = document.createElement("p");
    message.className = "message " + (event.detail.level || "success");
    message.setAttribute("role", event.detail.level === "error" ? "alert" : "status");
    message.textContent = event.detail.text;
    region.replaceChildren(message);
  });

  // After every htmx swap the focus lands somewhere sensible, never on <body>, and shows: a
  // ring even when the action began with a click (.moved-focus, console.css).
  function focusOn(target) {
    if (!target) return;
    if (!target.matches("a[href], button, input, select, textarea, summary")) {
      target.setAttribute("tabindex", "-1");
    }
    if (document.activeElement !== target) target.focus();
    target.classList.add("moved-focus");
    target.addEventListener("blur", function () { target.classList.remove("moved-focus"); }, { once: true });
  }

  function focusIsLost() {
    var active = document.activeElement;
    return !active || active === document.body || !document.contains(active);
  }

  // The newest message (it says what the action did), else the page's heading.
  function messageOrHeading() {
    var messages = document.querySelectorAll("#messages .message");
    return messages[messages.length - 1] || document.querySelector("#main h1");
  }

  // Where the focus goes after a swap that `elt` asked for.
  function focusTarget(elt) {
    // A form that names where its answer leaves the focus (the Disable dialog: the row's button).
    var named = elt.closest("[data-focus-after]");
    if (named && !document.querySelector("dialog[open]")) {
      return document.querySelector(named.getAttribute("data-focus-after")) || messageOrHeading();
    }
    var open = document.querySelector("dialog[open]");
    if (open) {  // a dialog came (or stayed, with errors): into it, on the first error if any
      return open.querySelector("[aria-invalid=true]") ||
        (open.contains(document.activeElement) ? document.activeElement
          : open.querySelector("[autofocus], button, a[href], input, select"));
    }
    if (elt.closest("dialog")) return messageOrHeading();  // a dialog's action is done
    if (elt.closest(".tabs")) return document.querySelector("#main .tabs [aria-current=page]");
    var row = elt.closest("tr[id]");
    if (row) return document.querySelector("#" + row.id + " .operations button") || messageOrHeading();
    if (elt.closest(".generate-form")) {
      return document.querySelector("#temporary-result [role=alert], #temporary-result h2");
    }
    if (elt.closest(".pagination")) {
      return document.querySelector("#main .list-summary") || document.querySelector("#grant-table");
    }
    if (elt.closest("th")) return document.querySelector("#credential-table th[aria-sort] a");
    return null;  // typing in the search box goes on where it was
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    var target = elt ? focusTarget(elt) : null;
    if (!target && focusIsLost()) target = messageOrHeading();  // e.g. a list refreshed under it
    focusOn(target);
  });

  // A picker's switch answers with #region-select or #language-select: the focus is back on it
  // (browsers focus a focusable fragment target; this shows the ring and tidies the address).
  var picker = location.hash && document.getElementById(location.hash.slice(1));
  if (picker && picker.matches("select[data-submit-on-enter]")) {
    focusOn(picker);
    history.replaceState(history.state, "", location.pathname + location.search);
  }

  // A picker changes on its button or on Enter, never on an arrow key (WCAG 3.2.2).
  document.addEventListener("keydown", function (event) {
    var select = event.target;
    if (event.key !== "Enter" || !select.matches || !select.matches("select[data-submit-on-enter]")) return;
    event.preventDefault();
    select.form.requestSubmit();
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
      var original = button.textContent;
      button.textContent = label("copied", "Copied");
      button.setAttribute("data-copied", "");
      window.setTimeout(function () { button.textContent = original; }, 2000);
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
    focusOn(messageOrHeading());  // the message naming the file (sent with HX-Trigger)
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-validity]")) syncValidity(event.target.form);
    if (event.target.matches("[data-scope] input[name=scope]")) syncScope(event.target.form);
  });

  // The language switch returns to the page as it is now (tabs change the URL without a load).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("language-switch")) return;
    var next = form.querySelector("input[name=next]");
    if (next) next.value = location.pathname + location.search;
  });
})();
