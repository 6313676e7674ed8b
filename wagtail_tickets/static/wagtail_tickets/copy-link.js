/* "Copy link" beside the private link on the thanks page. Progressive enhancement: the
   button stays hidden without JavaScript, where the link's text can be selected. */
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyWithSelection(element) {
    // Browsers without the Clipboard API, or pages not served over HTTPS.
    selectText(element);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function setUp(box) {
    var link = document.getElementById(box.getAttribute("data-wt-copy"));
    var button = box.querySelector("button");
    var status = box.querySelector("[role=status]");
    if (!link || !button || !status) {
      return;
    }
    var text = link.textContent.trim();

    function report(ok) {
      // Emptied first, so that a second copy is announced again.
      status.textContent = "";
      window.setTimeout(function () {
        status.textContent = box.getAttribute(ok ? "data-wt-copied" : "data-wt-copy-failed");
      }, 50);
      if (!ok) {
        selectText(link);
      }
    }

    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { report(true); },
          function () { report(copyWithSelection(link)); }
        );
      } else {
        report(copyWithSelection(link));
      }
    });
    box.hidden = false;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-wt-copy]"), setUp);
})();
