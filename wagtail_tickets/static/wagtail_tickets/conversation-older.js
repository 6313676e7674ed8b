/* "Show earlier messages" in a long conversation, on the desk and the customer's page.
 *
 * The link works on its own: it loads the page again with more messages. Here it
 * fetches the next step of older messages (the same page with ?before=<oldest shown>,
 * which answers with the conversation alone), puts them above the ones shown, and
 * replaces the link by the one that came with them (none when the start is reached).
 * Focus goes to the first message that was shown before, so the reader keeps their place.
 */
(function () {
  'use strict';

  // The desk's conversation, or the customer page's.
  var THREAD = 'ol.wt-thread, ol.wt-conversation';

  function load(box, link) {
    var thread = document.querySelector(THREAD);
    var status = box.querySelector('[data-wt-older-status]');
    if (!thread) return false;
    var anchor = thread.firstElementChild;
    link.setAttribute('aria-disabled', 'true');
    fetch(box.dataset.wtOlderUrl, {
      credentials: 'same-origin',
      headers: { 'X-Requested-With': 'XMLHttpRequest' },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var older = doc.querySelector(THREAD);
        var items = older ? Array.prototype.slice.call(older.children) : [];
        var fragment = document.createDocumentFragment();
        items.forEach(function (item) { fragment.appendChild(document.importNode(item, true)); });
        thread.insertBefore(fragment, anchor);
        var next = doc.querySelector('[data-wt-older]');
        if (next) {
          var replacement = document.importNode(next, true);
          box.replaceWith(replacement);
          setUp(replacement);
          replacement.querySelector('[data-wt-older-status]').textContent = box.dataset.wtOlderDone;
        } else {
          box.remove();
        }
        if (anchor) {
          if (!anchor.hasAttribute('tabindex')) anchor.setAttribute('tabindex', '-1');
          anchor.focus({ preventScroll: false });
        }
      })
      .catch(function () {
        link.removeAttribute('aria-disabled');
        status.textContent = box.dataset.wtOlderFailed;
      });
    return true;
  }

  function setUp(box) {
    var link = box.querySelector('[data-wt-older-link]');
    if (!link || !box.dataset.wtOlderUrl) return;
    link.addEventListener('click', function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      if (link.getAttribute('aria-disabled') === 'true') {
        event.preventDefault();
        return;
      }
      if (load(box, link)) event.preventDefault();
    });
  }

  function init() {
    document.querySelectorAll('[data-wt-older]').forEach(setUp);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
