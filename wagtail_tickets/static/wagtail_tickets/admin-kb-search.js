/* The reply form's knowledge-base search: find a published article and insert
   "Title: URL" where the cursor is in the reply. Results are built with textContent
   only; nothing from the server is ever parsed as HTML. */
(function () {
  "use strict";

  var DELAY_MS = 250;
  var MIN_LENGTH = 2;

  function setup(box) {
    var input = box.querySelector('input[type="search"]');
    var list = box.querySelector("[data-wt-kb-search-results]");
    var status = box.querySelector("[data-wt-kb-search-status]");
    var target = document.getElementById(box.dataset.wtKbSearchTarget || "");
    if (!input || !list || !status || !target || !window.fetch) {
      return;
    }
    box.hidden = false;

    var timer = null;
    var controller = null;
    // Until the agent has been in the reply, "the cursor" means its end.
    var touched = false;
    ["focus", "click", "keyup", "select"].forEach(function (name) {
      target.addEventListener(name, function () {
        touched = true;
      });
    });

    function say(text) {
      status.textContent = text || "";
    }

    function clear() {
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
    }

    function insert(text) {
      var start = touched ? target.selectionStart : target.value.length;
      var end = touched ? target.selectionEnd : target.value.length;
      target.focus();
      target.setRangeText(text, start, end, "end");
      target.dispatchEvent(new Event("input", { bubbles: true }));
      touched = true;
      say(box.dataset.wtKbSearchInserted);
    }

    function show(results) {
      clear();
      if (!results.length) {
        say(box.dataset.wtKbSearchEmpty);
        return;
      }
      say("");
      results.forEach(function (result) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button button-small button-secondary";
        button.textContent = result.title;
        var address = document.createElement("span");
        address.className = "wt-kb-search__url";
        address.textContent = result.url;
        button.addEventListener("click", function () {
          insert(result.title + ": " + result.url);
        });
        item.appendChild(button);
        item.appendChild(address);
        list.appendChild(item);
      });
    }

    function search() {
      var query = input.value.trim();
      if (controller) {
        controller.abort();
        controller = null;
      }
      if (query.length < MIN_LENGTH) {
        clear();
        say("");
        return;
      }
      controller = new AbortController();
      say(box.dataset.wtKbSearchSearching);
      var url = box.dataset.wtKbSearchUrl + "?q=" + encodeURIComponent(query);
      fetch(url, {
        // Marked as a script's request, so a refusal is a 403 rather than a redirect.
        headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
        credentials: "same-origin",
        signal: controller.signal,
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (data) {
          show(Array.isArray(data.results) ? data.results : []);
        })
        .catch(function (error) {
          if (error.name !== "AbortError") {
            clear();
            say(box.dataset.wtKbSearchFailed);
          }
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        // The box sits inside the reply form: Enter searches, it never sends the reply.
        event.preventDefault();
        window.clearTimeout(timer);
        search();
      } else if (event.key === "Escape") {
        input.value = "";
        clear();
        say("");
      }
    });
  }

  function start() {
    document.querySelectorAll("[data-wt-kb-search]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
