"""Next / previous within the inbox's filter."""

from urllib.parse import urlencode

from django.db.models import F, Q, Window
from django.db.models.functions import Lag, Lead, RowNumber
from django.http import QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.generic import View
from wagtail.admin import messages

from ...permissions import visible_tickets
from .common import TicketMixin, url

DEFAULT_ORDERING = "-last_message_at"
FALLBACK_SORTS = {"last_message_at": ["last_message_at"], "created_at": ["created_at"]}


def _inbox():
    """The inbox's own filtering and sorts, when the inbox is installed."""
    try:
        from .. import inbox
    except ImportError:  # pragma: no cover - the inbox ships with the package
        return None
    if not all(hasattr(inbox, name) for name in ("inbox_queryset", "SORTS")):
        return None
    return inbox


def _order_by(ordering, sorts):
    descending = ordering.startswith("-")
    fields = sorts.get(ordering.lstrip("-"))
    if fields is None:
        return _order_by(DEFAULT_ORDERING, sorts)
    expressions = []
    for field in [*fields, "pk"] if "pk" not in fields else fields:
        if field == "due_at":
            expression = (
                F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
            )
        else:
            expression = F(field).desc() if descending else F(field).asc()
        expressions.append(expression)
    return expressions


def inbox_queryset(request, query):
    """The inbox's tickets for its query string, filtered (and searched) as it does."""
    inbox = _inbox()
    if inbox is not None:
        return inbox.inbox_queryset(request, query)
    return visible_tickets(request.user)


def neighbours(request, ticket, from_query):
    """(previous pk, next pk, position, total) of ``ticket`` in the inbox list; one query."""
    if from_query is None:
        return None
    query = QueryDict(from_query)
    inbox = _inbox()
    sorts = inbox.SORTS if inbox is not None else FALLBACK_SORTS
    order = _order_by(query.get("ordering") or DEFAULT_ORDERING, sorts)
    queryset = inbox_queryset(request, query).order_by()
    ranked = queryset.annotate(
        previous_pk=Window(Lag("pk"), order_by=order),
        next_pk=Window(Lead("pk"), order_by=order),
        position=Window(RowNumber(), order_by=order),
    )
    # The position=0 branch is never true, but it makes the whole condition refer to the
    # window, so it is applied after numbering instead of before it.
    row = (
        ranked.filter(Q(pk=ticket.pk) | Q(position=0))
        .values_list("previous_pk", "next_pk", "position")
        .first()
    )
    if row is None:
        return None
    return {"previous": row[0], "next": row[1], "position": row[2]}


class NavigateView(TicketMixin, View):
    """Go to the previous or next ticket of the inbox list the agent came from."""

    http_method_names = ["get"]
    direction = "next"

    def get(self, request, *args, **kwargs):
        from_query = request.GET.get("from")
        found = neighbours(request, self.ticket, from_query) if from_query is not None else None
        target = found and found[self.direction]
        if not target:
            if self.direction == "next":
                messages.info(request, gettext("This is the last ticket in the list."))
            else:
                messages.info(request, gettext("This is the first ticket in the list."))
            return redirect(self.ticket_url())
        return redirect(url("detail", target) + "?" + urlencode({"from": from_query}))
