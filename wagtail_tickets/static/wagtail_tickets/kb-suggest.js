/* Knowledge-base suggestions under the ticket form's subject field.
 *
 * Progressive enhancement: without this script the form works as before and a plain
 * link leads to the knowledge-base search. Results come from the department's
 * "suggest/" route as JSON and are inserted with textContent only. The script never
 * touches what the visitor typed.
 *
 * For the deflection figures it tells the server (POST with the form's CSRF token) the
 * first time it displays suggestions on this form and each time one is opened, and it
 * sets the hidden field kb_suggestions_shown=1 so that a ticket filed afterwards counts.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("wt-suggest-config");
  var container = document.getElementById("wt-suggest");
  if (!configNode || !container || !window.fetch || !window.FormData) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var form = container.closest("form");
  var input = form && form.querySelector('input[name="subject"]');
  if (!input) {
    return;
  }
  var box = document.getElementById("wt-suggest-box");
  var list = box.querySelector(".wt-suggest__list");
  var more = box.querySelector(".wt-suggest__more");
  var moreLink = more.querySelector("a");
  var status = document.getElementById("wt-suggest-status");
  var shownField = form.querySelector('input[name="' + config.shownField + '"]');
  var csrfField = form.querySelector('input[name="csrfmiddlewaretoken"]');

  // After a failed submission the field comes back as 1: that form was counted already.
  var counted = shownField && shownField.value === "1";
  var timer = null;
  var controller = null;
  var lastQuery = "";

  input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), "wt-suggest-status"].filter(Boolean).join(" "));

  function record(fields) {
    if (!csrfField) {
      return;
    }
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrfField.value);
    Object.keys(fields).forEach(function (name) {
      data.append(name, fields[name]);
    });
    // sendBeacon survives the tab switch of a link opening; fetch is the fallback.
    if (navigator.sendBeacon && navigator.sendBeacon(config.url, data)) {
      return;
    }
    fetch(config.url, { method: "POST", body: data, credentials: "same-origin", keepalive: true }).catch(function () {});
  }

  function hide() {
    box.hidden = true;
    list.textContent = "";
    status.textContent = "";
  }

  function newTabNote() {
    var note = document.createElement("span");
    note.className = "wt-visually-hidden";
    note.textContent = " " + config.newTab;
    return note;
  }

  function show(query, data) {
    var results = (data && data.results) || [];
    if (!results.length) {
      hide();
      return;
    }
    list.textContent = "";
    results.forEach(function (item) {
      var entry = document.createElement("li");
      entry.className = "wt-suggest__item";
      var link = document.createElement("a");
      link.className = "wt-suggest__link";
      link.href = item.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.dataset.article = String(item.id);
      link.textContent = item.title;
      link.appendChild(newTabNote());
      entry.appendChild(link);
      if (item.summary) {
        var summary = document.createElement("p");
        summary.className = "wt-suggest__summary";
        summary.textContent = item.summary;
        entry.appendChild(summary);
      }
      list.appendChild(entry);
    });
    if (data.search_url) {
      moreLink.href = data.search_url;
      moreLink.textContent = config.more.replace("%(query)s", query);
      moreLink.appendChild(newTabNote());
      more.hidden = false;
    } else {
      more.hidden = true;
    }
    box.hidden = false;
    status.textContent = config.found[String(Math.min(results.length, 5))] || "";
    if (!counted) {
      counted = true;
      if (shownField) {
        shownField.value = "1";
      }
      record({ event: "shown" });
    }
  }

  function lookUp() {
    var query = input.value.trim();
    if (query === lastQuery) {
      return;
    }
    lastQuery = query;
    if (controller) {
      controller.abort();
      controller = null;
    }
    if (query.length < config.minLength) {
      hide();
      return;
    }
    controller = window.AbortController ? new AbortController() : null;
    fetch(config.url + "?q=" + encodeURIComponent(query), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        // Only the answer to what is in the field now is displayed (and counted).
        if (data && query === input.value.trim()) {
          show(query, data);
        }
      })
      .catch(function () {
        // Aborted or offline: the form works without suggestions.
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(lookUp, config.delay);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !box.hidden) {
      hide();
    }
  });

  function opened(event) {
    var link = event.target.closest("a[data-article]");
    // A middle click opens the link too; a right click only shows the menu.
    if (link && (event.type === "click" || event.button === 1)) {
      record({ event: "opened", article: link.dataset.article });
    }
  }

  list.addEventListener("click", opened);
  list.addEventListener("auxclick", opened);
})();
