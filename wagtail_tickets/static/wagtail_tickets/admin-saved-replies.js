/* Saved replies on the ticket screen: find one by typing, insert it at the cursor.
 *
 * Without this script the list and its "Insert" button post the form and the page comes
 * back with the text added below what was typed. With it, a search box narrows the list,
 * and "Insert" puts the chosen text (placeholders already filled in by the server) where
 * the cursor was in the reply, without leaving the page.
 */
(function () {
  'use strict';

  function setUp(box) {
    var textarea = document.getElementById(box.dataset.wtSavedRepliesTarget);
    var select = box.querySelector('select');
    var insert = box.querySelector('[data-wt-saved-replies-insert]');
    var search = box.querySelector('[data-wt-saved-replies-search]');
    var query = search && search.querySelector('input');
    var status = box.querySelector('[data-wt-saved-replies-status]');
    if (!textarea || !select || !insert) return;

    // Where the cursor was when the reply lost focus to the picker.
    var start = null;
    var end = null;
    textarea.addEventListener('blur', function () {
      start = textarea.selectionStart;
      end = textarea.selectionEnd;
    });

    if (search && query) {
      search.hidden = false;
      var options = Array.prototype.slice.call(select.options, 1);
      query.addEventListener('input', function () {
        var words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
        var shown = 0;
        var first = null;
        options.forEach(function (option) {
          var haystack = (option.textContent + ' ' + (option.dataset.text || '')).toLowerCase();
          var match = words.every(function (word) { return haystack.indexOf(word) !== -1; });
          option.hidden = !match;
          option.disabled = !match;
          if (match) {
            shown += 1;
            first = first || option;
          }
        });
        if (first && (select.selectedIndex <= 0 || select.options[select.selectedIndex].hidden)) {
          select.value = first.value;
        } else if (!first) {
          select.value = '';
        }
        status.textContent = shown ? '' : box.dataset.wtSavedRepliesNone;
      });
      query.addEventListener('keydown', function (event) {
        if (event.key === 'Enter') {
          event.preventDefault(); // inserting, not sending the reply
          insert.click();
        }
      });
    }

    insert.addEventListener('click', function (event) {
      var option = select.options[select.selectedIndex];
      if (!option || !option.value) return; // the server says "choose one"
      event.preventDefault();
      var text = option.dataset.text || '';
      var value = textarea.value;
      var from = start === null ? value.length : start;
      var to = end === null ? value.length : end;
      textarea.value = value.slice(0, from) + text + value.slice(to);
      var caret = from + text.length;
      textarea.focus();
      textarea.setSelectionRange(caret, caret);
      start = caret;
      end = caret;
      textarea.dispatchEvent(new Event('input', { bubbles: true }));
      textarea.dispatchEvent(new Event('change', { bubbles: true }));
      status.textContent = box.dataset.wtSavedRepliesInserted;
    });
  }

  function init() {
    document.querySelectorAll('[data-wt-saved-replies]').forEach(setUp);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
