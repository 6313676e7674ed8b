/* A tab whose content is fetched when it is first shown (the ticket screen's
 * "Customer's tickets").
 *
 * The placeholder ([data-wt-lazy]) carries the URL that answers with the tab's content
 * alone, and a link that loads the whole screen with it, for when this script cannot.
 * When the tab's panel is shown (opened by the agent, or selected by the address's
 * #tab-…), the content is fetched once and takes the placeholder's place; on failure
 * the placeholder says so and a later showing tries again.
 */
(function () {
  'use strict';

  function load(box) {
    if (box.dataset.wtLazyState) return;
    var status = box.querySelector('[data-wt-lazy-status]');
    box.dataset.wtLazyState = 'loading';
    box.setAttribute('aria-busy', 'true');
    status.textContent = box.dataset.wtLazyLoading;
    fetch(box.dataset.wtLazyUrl, {
      credentials: 'same-origin',
      headers: { 'X-Requested-With': 'XMLHttpRequest' },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fragment = document.createDocumentFragment();
        Array.prototype.slice.call(doc.body.childNodes).forEach(function (node) {
          fragment.appendChild(document.importNode(node, true));
        });
        box.replaceWith(fragment);
      })
      .catch(function () {
        delete box.dataset.wtLazyState;
        box.removeAttribute('aria-busy');
        status.textContent = box.dataset.wtLazyFailed;
      });
  }

  function loadShown() {
    document.querySelectorAll('[data-wt-lazy]').forEach(function (box) {
      var panel = box.closest('[role="tabpanel"]');
      if (!panel || !panel.hidden) load(box);
    });
  }

  function init() {
    loadShown();
    // Wagtail's tabs announce a change after they show the panel.
    ['w-tabs:changed', 'w-tabs:ready'].forEach(function (name) {
      document.addEventListener(name, function () { setTimeout(loadShown); });
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
