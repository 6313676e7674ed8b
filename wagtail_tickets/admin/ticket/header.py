"""The ticket screen's title, breadcrumbs and header buttons."""

from urllib.parse import urlencode

from django.utils.functional import cached_property
from django.utils.translation import gettext
from wagtail.admin.widgets.button import Button, HeaderButton

from .common import inbox_url, url


class TicketHeaderMixin:
    """Page furniture of a ticket's screen; the ticket is ``self.ticket``."""

    @cached_property
    def from_query(self):
        """The inbox's query string the agent came with (may be ""), or None."""
        return self.request.GET.get("from", self.request.POST.get("from"))

    def get_page_title(self):
        return self.ticket.code

    def get_page_subtitle(self):
        return self.ticket.subject

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        inbox = inbox_url()
        if inbox:
            target = inbox + ("?" + self.from_query if self.from_query else "")
            items.append({"url": target, "label": gettext("Inbox")})
        items.append({"url": "", "label": self.ticket.code, "sublabel": self.ticket.subject})
        return items

    def _nav_button(self, label, name, icon, rel, priority):
        return HeaderButton(
            label,
            url=url(name, self.ticket.pk) + "?" + urlencode({"from": self.from_query}),
            icon_name=icon,
            icon_only=True,
            attrs={"rel": rel},
            priority=priority,
        )

    @cached_property
    def header_buttons(self):
        buttons = []
        if self.from_query is not None:
            # The neighbours are worked out when followed, so showing the ticket never
            # re-runs the inbox's filters.
            buttons += [
                self._nav_button(gettext("Previous ticket"), "previous", "arrow-left", "prev", 10),
                self._nav_button(gettext("Next ticket"), "next", "arrow-right", "next", 20),
            ]
        buttons.append(
            HeaderButton(
                gettext("PDF transcript"),
                url=url("pdf", self.ticket.pk),
                icon_name="download",
                priority=30,
            )
        )
        # Imported here: the knowledge views build on this package's mixins.
        from ..knowledge import create_article_button

        article_button = create_article_button(self.request.user, self.ticket)
        if article_button is not None:
            buttons.append(article_button)
        return buttons

    def get_header_more_buttons(self):
        return [
            Button(
                gettext("Staff copy (PDF, with internal notes)"),
                url=url("pdf", self.ticket.pk) + "?notes=1",
                icon_name="download",
                priority=10,
            ),
            Button(
                gettext("Full history"),
                url=url("history", self.ticket.pk),
                icon_name="history",
                priority=20,
            ),
            Button(
                gettext("New ticket"),
                url=url("create"),
                icon_name="plus",
                priority=30,
            ),
        ]
