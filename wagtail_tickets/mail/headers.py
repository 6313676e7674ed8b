"""What every outgoing mail of a ticket carries, so mail clients thread it and loops stop.

- its own Message-ID, stored with the ticket, so that replies find their ticket;
- In-Reply-To and References to the ticket's thread (mails received and sent);
- the department's mailbox address as Reply-To, so answers come back to the helpdesk;
- the ticket code in the subject;
- ``Auto-Submitted: auto-replied`` on an answer to the customer's own mail (then at most
  WAGTAIL_TICKETS_MAIL_AUTO_REPLIES_PER_HOUR of them per address, and never to mail that
  asked for none), ``auto-generated`` on other automatic notices, nothing on mail that
  carries a person's words.

Addresses known to bounce get nothing until they write again.
"""

import secrets
from email.utils import parseaddr

from django.conf import settings
from django.core.mail.message import DNS_NAME

from .. import conf, mail_retry
from ..models import InboundMail, Mailbox, Message, TicketMailId
from . import loops

#: Notices that answer the customer's mail when the ticket came by mail.
ANSWERING_TEMPLATES = frozenset({"ticket_opened_customer"})
#: Notices that carry what a person wrote; they are not marked as automatic.
PERSONAL_TEMPLATES = frozenset({"staff_replied", "customer_replied", "ticket_opened_staff"})
_MAX_REFERENCES = 10


def message_id_domain(from_email=None):
    domain = conf.get("MAIL_MESSAGE_ID_DOMAIN")
    if not domain:
        address = parseaddr(from_email or conf.get("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL)[1]
        domain = address.rpartition("@")[2] if "@" in address else ""
    return domain or str(DNS_NAME)


def new_message_id(ticket=None, from_email=None, token=None):
    code = f".{ticket.code.lower()}" if ticket is not None else ""
    return f"<{token or secrets.token_hex(12)}{code}@{message_id_domain(from_email)}>"


# One event sends several mails of one ticket (the customer's, the staff's): what they
# share is read once and kept on the ticket object.
_CACHE = "_wagtail_tickets_mail_thread"


def _thread(ticket):
    cached = getattr(ticket, _CACHE, None)
    if cached is None:
        address = None
        if ticket.department_id is not None:
            address = (
                Mailbox.objects.filter(department_id=ticket.department_id, active=True)
                .order_by("name")
                .values_list("address", flat=True)
                .first()
            )
        ids = list(
            TicketMailId.objects.filter(ticket=ticket)
            .order_by("pk")
            .values_list("mail_id", flat=True)
        )
        cached = {"reply_address": address, "ids": ids}
        setattr(ticket, _CACHE, cached)
    return cached


def reply_address(ticket):
    """The address of the ticket's department's mailbox, or None."""
    return _thread(ticket)["reply_address"]


def thread_headers(ticket, message=None):
    ids = _thread(ticket)["ids"]
    parent = message.email_message_id if message is not None and message.email_message_id else None
    if parent is None and ids:
        parent = ids[-1]
    headers = {}
    if parent:
        references = list(dict.fromkeys([*ids[:1], *ids[-(_MAX_REFERENCES - 1) :]]))
        if parent in references:
            references.remove(parent)
        references.append(parent)
        headers["In-Reply-To"] = parent
        headers["References"] = " ".join(references)
    return headers


def _answers_mail(template, message):
    return (
        template in ANSWERING_TEMPLATES
        and message is not None
        and message.source == Message.Source.EMAIL
    )


def send(email_message, template, context, key=None):
    """Add the headers to a notification and send it; returns the number sent.

    ``key`` is the mail's key for mail_retry: its Message-ID comes from
    ``mail_retry.message_token`` and it is marked sent with the Message-ID's record."""
    ticket = context.get("ticket")
    message = context.get("message")
    bounced = loops.bouncing(email_message.to)
    if bounced:
        email_message.to = [a for a in email_message.to if a.lower() not in bounced]
    if not email_message.to:
        return 0
    headers = {}
    if _answers_mail(template, message):
        never = InboundMail.objects.filter(message=message, no_auto_reply=True).exists()
        if never or not all(loops.take_auto_reply(address) for address in email_message.to):
            return 0
        headers["Auto-Submitted"] = "auto-replied"
    elif template not in PERSONAL_TEMPLATES:
        headers["Auto-Submitted"] = "auto-generated"
    mail_id = None
    if ticket is not None:
        token = mail_retry.message_token(key)
        mail_id = new_message_id(ticket, email_message.from_email, token=token)
        headers["Message-ID"] = mail_id
        headers.update(thread_headers(ticket, message))
        mailbox_address = reply_address(ticket)
        if mailbox_address:
            email_message.reply_to = [mailbox_address]
        if ticket.code not in email_message.subject:
            email_message.subject = f"[{ticket.code}] {email_message.subject}"
    else:
        # Not a ticket's (links, accounts): named by the sender's domain as well, and the
        # same in a run of the task after a kill, as a ticket's are.
        token = mail_retry.message_token(key)
        headers["Message-ID"] = new_message_id(None, email_message.from_email, token=token)
    email_message.extra_headers.update(headers)
    sent = email_message.send()
    if sent:
        with mail_retry.recording():
            if mail_id:
                TicketMailId.objects.create(ticket=ticket, mail_id=mail_id, outgoing=True)
            if key is not None:
                mail_retry.mark_sent(key)
        if mail_id:
            _thread(ticket)["ids"].append(mail_id)
    return sent
