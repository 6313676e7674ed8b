"""The inbox's pages, at a cost that does not follow the number of tickets.

- A view (the default queue, a filter, a saved search) can hold tens of thousands of
  open tickets. Wagtail's paginator counts every one of them on every page view (5 ms
  of SQLite's time at 100,000 tickets, and growing with them). ``CappedPaginator`` counts
  at most ``COUNT_CAP`` rows, as the menu and the dashboard do, and says "999+"; the
  first ``COUNT_CAP`` tickets of the view, in its order, can be paged through, and the
  rest are reached by sorting the other way or narrowing the view.
- A keyword can match thousands of tickets of a long history. Wagtail's paginator would
  run a COUNT that finds them all, then the page query that finds them all again to
  sort them. ``MatchesPaginator``'s page query carries ``COUNT(*) OVER ()`` and reads
  only the keys; the page's rows are then loaded by key with everything the table shows.
"""

from django.db.models import Count, Window
from django.utils.functional import cached_property
from django.utils.translation import gettext
from wagtail.admin.paginator import WagtailPaginator

from ..inputs import parse_id
from . import counts


class CappedPaginator(WagtailPaginator):
    cap = counts.COUNT_CAP

    @cached_property
    def count(self):
        return counts.capped_count(self.object_list, self.cap)

    @property
    def capped(self):
        """Whether the view holds more tickets than were counted."""
        return self.count >= self.cap

    @cached_property
    def items_count_label(self):
        if not self.capped:
            return super().items_count_label
        return gettext("%(count)s %(tickets)s") % {
            "count": counts.display_count(self.count, self.cap),
            "tickets": self.verbose_name_plural,
        }


MAX_PAGE = 1_000_000


class MatchesPaginator(WagtailPaginator):
    def __init__(self, object_list, per_page, *, requested, load_rows, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.requested = requested
        self.load_rows = load_rows
        self._keys = {}

    def _page_keys(self, number):
        """(the keys of page ``number`` in order, the total of matches or None)."""
        if number not in self._keys:
            offset = (number - 1) * self.per_page
            rows = list(
                self.object_list.annotate(wt_total=Window(Count("pk"))).values_list(
                    "pk", "wt_total"
                )[offset : offset + self.per_page]
            )
            self._keys[number] = ([pk for pk, _total in rows], rows[0][1] if rows else None)
        return self._keys[number]

    def _requested_number(self):
        # Any page number past the last gives the last page; one past MAX_PAGE would make
        # an offset the database cannot take.
        return min(parse_id(self.requested) or 1, MAX_PAGE)

    @property
    def count(self):
        if "_count" not in self.__dict__:
            _keys, total = self._page_keys(self._requested_number())
            # No rows: no matches at all, or a page beyond the last; only then a COUNT.
            self._count = self.object_list.count() if total is None else total
        return self._count

    def page(self, number):
        number = self.validate_number(number)
        keys, _total = self._page_keys(number)
        return self._get_page(self.load_rows(keys), number, self)
