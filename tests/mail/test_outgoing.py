"""Headers of outgoing mail: stored Message-IDs, threading, Reply-To, Auto-Submitted.

One test sends through a real SMTP server on loopback (aiosmtpd) and answers the mail
it received, as a customer's mail client would.
"""

import socket
from email import message_from_bytes, policy

import pytest
from django.core import mail

from tests import factories
from tests.mail import helpers
from tests.mail.helpers import HELPDESK_ADDRESS, message
from wagtail_tickets import workflow
from wagtail_tickets.models import Status, TicketMailId

pytestmark = pytest.mark.django_db


def header(sent, name):
    return sent.extra_headers.get(name)


def outgoing_ids(ticket):
    return list(
        TicketMailId.objects.filter(ticket=ticket, outgoing=True)
        .order_by("pk")
        .values_list("mail_id", flat=True)
    )


def test_answer_to_a_mail_threads_under_it_and_is_marked_auto_replied(mailbox, commit):
    raw = message(subject="Broken screen")
    ticket = helpers.receive(raw, mailbox, commit).ticket
    [confirmation] = [m for m in mail.outbox if m.to == ["carol@example.org"]]
    incoming = helpers.message_id_of(raw)
    assert header(confirmation, "In-Reply-To") == incoming
    assert header(confirmation, "References") == incoming
    assert header(confirmation, "Auto-Submitted") == "auto-replied"
    assert confirmation.reply_to == [HELPDESK_ADDRESS]
    assert f"[{ticket.code}]" in confirmation.subject
    assert outgoing_ids(ticket)[0] == header(confirmation, "Message-ID")


def test_every_mail_of_a_ticket_has_its_own_stored_message_id(
    mailbox, department, agent, customer, commit
):
    with commit():
        ticket = factories.open_ticket(department, customer=customer)
    with commit():
        workflow.post_reply(ticket, body="Try this.", author=agent, by_staff=True)
    with commit():
        workflow.post_reply(ticket, body="Did not help.", author=customer)
    with commit():
        # Resolving takes "change ticket fields" (workflow/rules.py).
        workflow.change_status(
            ticket,
            Status.first_of_kind("resolved"),
            user=factories.grant(agent, "change_ticket_fields"),
        )
    sent = [m for m in mail.outbox if ticket.code in m.subject]
    ids = [header(m, "Message-ID") for m in sent]
    assert len(sent) >= 4 and len(set(ids)) == len(ids)
    assert sorted(outgoing_ids(ticket)) == sorted(ids)
    domain = "@example.com>"  # DEFAULT_FROM_EMAIL's domain
    assert all(mail_id.endswith(domain) for mail_id in ids)
    # Each mail answers the one before it in the thread.
    for earlier, later in zip(sent, sent[1:], strict=False):
        assert header(later, "In-Reply-To") == header(earlier, "Message-ID")
        assert header(earlier, "Message-ID") in header(later, "References").split()


def test_notices_are_marked_auto_generated_and_personal_mail_is_not(
    mailbox, department, agent, customer, commit
):
    with commit():
        ticket = factories.open_ticket(department, customer=customer)
    with commit():
        workflow.post_reply(ticket, body="Here you go.", author=agent, by_staff=True)
    with commit():
        # Resolving takes "change ticket fields" (workflow/rules.py).
        workflow.change_status(
            ticket,
            Status.first_of_kind("resolved"),
            user=factories.grant(agent, "change_ticket_fields"),
        )
    by_subject = {m.subject: m for m in mail.outbox}
    kinds = {
        subject.split("]")[1].split(":")[0].strip(): header(m, "Auto-Submitted")
        for subject, m in by_subject.items()
    }
    assert kinds == {
        "We have received your ticket": "auto-generated",
        "New ticket": None,
        "New reply": None,
        "Resolved": "auto-generated",
    }


def test_staff_mail_asks_for_replies_to_the_mailbox(mailbox, department, agent, commit):
    with commit():
        factories.open_ticket(department, email="ann@example.com")
    [to_staff] = [m for m in mail.outbox if m.to == [agent.email]]
    assert to_staff.reply_to == [HELPDESK_ADDRESS]


def test_without_a_mailbox_staff_mail_still_replies_to_the_customer(department, agent, commit):
    with commit():
        factories.open_ticket(department, email="ann@example.com")
    [to_staff] = [m for m in mail.outbox if m.to == [agent.email]]
    assert to_staff.reply_to == ["ann@example.com"]
    assert header(to_staff, "Message-ID")


def test_an_inactive_mailbox_gives_no_reply_to(mailbox, department, agent, commit):
    mailbox.active = False
    mailbox.save()
    with commit():
        factories.open_ticket(department, email="ann@example.com")
    [to_customer] = [m for m in mail.outbox if m.to == ["ann@example.com"]]
    assert to_customer.reply_to == []


# --- through a real SMTP server ---------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self):
            self.received = []

        async def handle_DATA(self, server, session, envelope):
            self.received.append((envelope.rcpt_tos, envelope.original_content))
            return "250 OK"

    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    yield handler
    controller.stop()


def test_through_smtp_the_customers_answer_finds_its_ticket(mailbox, smtp_server, commit):
    ticket = helpers.receive(message(subject="Cannot print"), mailbox, commit).ticket
    [(recipients, data)] = [r for r in smtp_server.received if r[0] == ["carol@example.org"]]
    sent = message_from_bytes(data, policy=policy.default)
    assert sent["Message-ID"] == outgoing_ids(ticket)[0]
    assert sent["Reply-To"] == HELPDESK_ADDRESS
    assert sent["Auto-Submitted"] == "auto-replied"
    assert ticket.code in sent["Subject"]

    # The customer presses "Reply": the answer goes to Reply-To, quoting the mail.
    answer = message(
        to=sent["Reply-To"],
        subject="Re: " + str(sent["Subject"]).replace(f"[{ticket.code}] ", ""),
        body="It prints now, thanks.\n\n" + f"On Tue, Support <{HELPDESK_ADDRESS}> wrote:\n> hi",
        in_reply_to=sent["Message-ID"],
        references=f"{sent['References']} {sent['Message-ID']}",
    )
    result = helpers.receive(answer, mailbox, commit)
    assert result.ticket == ticket
    assert ticket.messages.last().body == "It prints now, thanks."
