/* The status and priority editors' colour hint, kept up to date while a colour is
   picked. The maths is WCAG 2.2's, as in wagtail_tickets/colours.py. */
(function () {
  "use strict";

  function luminance(hex) {
    var value = hex.replace("#", "");
    var channels = [0, 2, 4].map(function (start) {
      var srgb = parseInt(value.substr(start, 2), 16) / 255;
      return srgb <= 0.04045 ? srgb / 12.92 : Math.pow((srgb + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  }

  function contrast(first, second) {
    var a = luminance(first), b = luminance(second);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }

  function update(input, hint) {
    var colour = input.value;
    if (!/^#[0-9a-fA-F]{6}$/.test(colour)) {
      return;
    }
    var black = contrast(colour, "#000000"), white = contrast(colour, "#ffffff");
    var useBlack = black >= white;
    var ratio = Math.floor((useBlack ? black : white) * 100) / 100;
    var preview = hint.querySelector(".wt-colour-preview");
    preview.style.backgroundColor = colour;
    preview.style.color = useBlack ? "#000000" : "#ffffff";
    var meets = ratio >= parseFloat(hint.getAttribute("data-aa"));
    hint.querySelector(".wt-colour-ratio").textContent =
      hint.getAttribute(useBlack ? "data-text-black" : "data-text-white") + ", " +
      hint.getAttribute("data-contrast").replace("__RATIO__", ratio.toFixed(2)) + " — " +
      hint.getAttribute(meets ? "data-meets" : "data-fails");
  }

  function setUp() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-wt-colour-hint]"), function (hint) {
      var input = document.getElementById(hint.getAttribute("data-wt-colour-hint"));
      if (input) {
        input.addEventListener("input", function () { update(input, hint); });
        var described = input.getAttribute("aria-describedby");
        input.setAttribute("aria-describedby", described ? described + " " + hint.id : hint.id);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
