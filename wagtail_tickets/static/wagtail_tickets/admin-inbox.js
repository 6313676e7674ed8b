/* The inbox: a click anywhere on a ticket's row opens the ticket.
 *
 * The subject is the row's link, for the keyboard and for screen readers; this only
 * widens the mouse's target. Clicks on the row's own controls (checkbox, star, links)
 * and text being selected are left alone. Listens on the document, so rows that
 * Wagtail swaps in after filtering work too.
 */
(function () {
  'use strict';

  var CONTROLS = 'a, button, input, label, select, textarea, summary, form, [role="button"]';

  document.addEventListener('click', function (event) {
    if (event.defaultPrevented || event.button !== 0) return;
    var target = event.target;
    if (!(target instanceof Element)) return;
    var row = target.closest('table.wt-inbox tbody tr[data-wt-row]');
    if (!row || target.closest(CONTROLS)) return;
    if (String(window.getSelection ? window.getSelection() : '').trim()) return;
    var link = row.querySelector('a[data-wt-row-link]');
    if (!link) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey) {
      window.open(link.href, '_blank', 'noopener');
    } else {
      window.location.assign(link.href);
    }
  });
})();
