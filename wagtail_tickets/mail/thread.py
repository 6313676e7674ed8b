"""Which ticket a message belongs to, and whether its sender may write there.

A message joins a ticket named by its In-Reply-To/References (the Message-IDs of the
ticket's mails, received and sent), else by a ticket code in its subject, but only when
the sender is the ticket's customer or a desk user who may work on the ticket. Knowing a
code or a Message-ID is not enough: anyone else starts a new ticket.
"""

import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from ..models import Ticket, TicketMailId
from ..permissions import staff_can_access

CODE_RE = re.compile(r"\b([A-Z][A-Z0-9]{1,9}-\d{1,12})\b")
_MERGE_DEPTH = 10


@dataclass
class Match:
    ticket: Ticket | None = None
    #: "customer" or "staff" when the sender may write on ``ticket``
    role: str = ""
    user: object = None
    #: codes of existing tickets the subject quoted that the sender may not write on
    quoted_codes: list = field(default_factory=list)


def _follow_merges(ticket):
    for _ in range(_MERGE_DEPTH):
        if ticket.merged_into_id is None:
            return ticket
        ticket = Ticket.objects.select_related("customer").get(pk=ticket.merged_into_id)
    return ticket


def is_customer(ticket, address):
    address = address.lower()
    if ticket.customer_email and ticket.customer_email.lower() == address:
        return True
    customer = ticket.customer
    return bool(customer and customer.is_active and (customer.email or "").lower() == address)


def users_with_address(address):
    return list(
        get_user_model().objects.filter(email__iexact=address, is_active=True).order_by("pk")
    )


def _role(ticket, address, users):
    if is_customer(ticket, address):
        customer = ticket.customer
        user = customer if customer and (customer.email or "").lower() == address.lower() else None
        return "customer", user
    for user in users:
        if staff_can_access(user, ticket):
            return "staff", user
    return "", None


def candidates(parsed):
    """Tickets the message points at, most specific first: Message-IDs, then codes."""
    found = []
    ids = parsed.thread_ids
    if ids:
        rows = dict(
            TicketMailId.objects.filter(mail_id__in=ids)
            .order_by("-pk")
            .values_list("mail_id", "ticket_id")
        )
        ticket_ids = [rows[mail_id] for mail_id in ids if mail_id in rows]
        tickets = Ticket.objects.select_related("customer").in_bulk(ticket_ids)
        found.extend(tickets[pk] for pk in dict.fromkeys(ticket_ids) if pk in tickets)
    codes = list(dict.fromkeys(CODE_RE.findall(parsed.subject.upper())))[:5]
    coded = []
    if codes:
        tickets = Ticket.objects.select_related("customer").filter(code__in=codes)
        by_code = {ticket.code: ticket for ticket in tickets}
        coded = [by_code[code] for code in codes if code in by_code]
    return found, coded


def find(parsed):
    """The ticket ``parsed`` may join (with the sender's role), or the codes it quoted."""
    by_id, by_code = candidates(parsed)
    if not by_id and not by_code:
        return Match()
    users = users_with_address(parsed.from_address)
    for ticket in [*by_id, *by_code]:
        ticket = _follow_merges(ticket)
        role, user = _role(ticket, parsed.from_address, users)
        if role:
            return Match(ticket=ticket, role=role, user=user)
    return Match(quoted_codes=[ticket.code for ticket in by_code])
