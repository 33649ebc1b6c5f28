// Progressive enhancement for the dashboard (K8): every link and form works without this file.
// Here: modal dialogs (native <dialog>: focus stays inside, Escape closes), copy to clipboard,
// and "Done" replacing the history entry so Back cannot return to the shown-once key (K6).
(function () {
  "use strict";

  function openModal(dialog) {
    if (!dialog) return;
    if (dialog.open) dialog.close();
    dialog.showModal();
    var first = dialog.querySelector("input:not([type=hidden]):not([readonly]), button, [href]");
    if (first) first.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("dialog[data-modal]").forEach(openModal);

    document.querySelectorAll("[data-dialog-open]").forEach(function (trigger) {
      trigger.addEventListener("click", function (event) {
        var dialog = document.getElementById(trigger.getAttribute("data-dialog-open"));
        if (!dialog || typeof dialog.showModal !== "function") return;
        event.preventDefault();
        openModal(dialog);
      });
    });

    document.querySelectorAll("dialog [data-dialog-close]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        button.closest("dialog").close();
      });
    });

    var revokeDialog = document.getElementById("revoke-dialog");
    document.querySelectorAll("[data-revoke]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (!revokeDialog || typeof revokeDialog.showModal !== "function") return;
        event.preventDefault();
        revokeDialog.querySelector("[data-slot=name]").textContent = link.dataset.keyName;
        revokeDialog.querySelector("[data-slot=prefix]").textContent = link.dataset.keyPrefix;
        revokeDialog.querySelector("form").setAttribute("action", link.dataset.revokeUrl);
        revokeDialog.showModal();
        revokeDialog.querySelector("[data-dialog-close]").focus();
      });
    });

    // Generic confirmation: a link with data-confirm-dialog="<dialog id>" opens that dialog,
    // copies its data-slot-* values into the dialog's [data-slot] elements and points the dialog's
    // form at data-confirm-url.  Without JavaScript the link leads to a confirmation page instead.
    document.querySelectorAll("[data-confirm-dialog]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var dialog = document.getElementById(link.getAttribute("data-confirm-dialog"));
        if (!dialog || typeof dialog.showModal !== "function") return;
        event.preventDefault();
        dialog.querySelectorAll("[data-slot]").forEach(function (slot) {
          slot.textContent = link.getAttribute("data-slot-" + slot.getAttribute("data-slot")) || "";
        });
        dialog.querySelector("form").setAttribute("action", link.getAttribute("data-confirm-url") || link.href);
        dialog.showModal();
        dialog.querySelector("[data-dialog-close]").focus();
      });
    });

    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.getAttribute("data-copy"));
        var status = button.closest("dialog").querySelector(".copy-status");
        function copied(ok) {
          button.textContent = ok ? "Copied" : "Copy";
          if (status) status.textContent = ok ? "Copied to clipboard." : "Select the key and copy it manually.";
        }
        input.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(function () { copied(true); }, function () {
            copied(document.execCommand && document.execCommand("copy"));
          });
        } else {
          copied(document.execCommand && document.execCommand("copy"));
        }
      });
    });

    document.querySelectorAll("[data-done]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var dialog = link.closest("dialog");
        var value = dialog && dialog.querySelector("#new-key-value");
        if (value) value.value = "";
        window.location.replace(link.href);
      });
    });
  });
})();
