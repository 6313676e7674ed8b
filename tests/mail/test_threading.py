"""Which ticket a mail joins, and who may join one: customers, desk staff, nobody else."""

import pytest
from django.core import mail

from tests import factories
from tests.mail import helpers
from tests.mail.helpers import message
from wagtail_tickets import workflow
from wagtail_tickets.models import InboundMail, Message, Ticket, TicketMailId

pytestmark = pytest.mark.django_db
Outcome = InboundMail.Outcome


def sent_ids(ticket):
    return list(
        TicketMailId.objects.filter(ticket=ticket, outgoing=True).values_list("mail_id", flat=True)
    )


@pytest.fixture
def mailed_ticket(mailbox, commit):
    """A ticket opened by mail from carol@example.org, with its confirmation sent."""
    result = helpers.receive(message(subject="VPN down", body="VPN is down."), mailbox, commit)
    return Ticket.objects.get(pk=result.ticket.pk)


def confirmation_id(ticket):
    [mail_id] = sent_ids(ticket)
    return mail_id


def test_new_mail_opens_a_ticket_in_the_mailboxs_department(mailbox, department, commit):
    result = helpers.receive(message(), mailbox, commit)
    ticket = result.ticket
    assert result.outcome == Outcome.TICKET
    assert ticket.department == department
    assert ticket.customer_email == "carol@example.org"
    assert ticket.customer_name == "Carol"
    assert ticket.customer is None
    first = ticket.messages.get()
    assert first.source == Message.Source.EMAIL and first.body == "The printer prints nothing."
    [confirmation] = [m for m in mail.outbox if m.to == ["carol@example.org"]]
    assert ticket.code in confirmation.subject


def test_mail_from_a_known_customer_opens_a_ticket_on_their_account(mailbox, customer, commit):
    raw = message(sender="ALICE@example.com", sender_name="Alice")
    ticket = helpers.receive(raw, mailbox, commit).ticket
    assert ticket.customer == customer


def test_customer_reply_by_in_reply_to_joins_the_ticket(mailbox, mailed_ticket, commit):
    reply = message(
        subject="Re: whatever the client made of it",
        body="Still down.\n\nOn Mon, 3 Mar 2025 at 10:00, Support <s@x.org> wrote:\n> old",
        in_reply_to=confirmation_id(mailed_ticket),
    )
    result = helpers.receive(reply, mailbox, commit)
    assert result.outcome == Outcome.REPLY
    assert result.ticket == mailed_ticket
    assert mailed_ticket.messages.last().body == "Still down."
    assert Ticket.objects.count() == 1


def test_customer_reply_by_references_joins_the_ticket(mailbox, mailed_ticket, commit):
    reply = message(
        subject="Re: VPN", references=f"<unrelated@x.org> {confirmation_id(mailed_ticket)}"
    )
    assert helpers.receive(reply, mailbox, commit).ticket == mailed_ticket


def test_reply_to_the_customers_own_first_mail_joins_the_ticket(mailbox, commit):
    first = message(subject="Disk full")
    ticket = helpers.receive(first, mailbox, commit).ticket
    follow_up = message(subject="Re: Disk full", in_reply_to=helpers.message_id_of(first))
    assert helpers.receive(follow_up, mailbox, commit).ticket == ticket


def test_customer_reply_by_code_in_subject_joins_the_ticket(mailbox, mailed_ticket, commit):
    reply = message(sender="Carol@Example.org", subject=f"Re: [{mailed_ticket.code}] VPN down")
    result = helpers.receive(reply, mailbox, commit)
    assert result.outcome == Outcome.REPLY and result.ticket == mailed_ticket


def test_reply_from_the_customers_account_address_joins(mailbox, department, customer, commit):
    ticket = factories.open_ticket(department, customer=customer)
    ticket.customer_email = "alice.work@example.com"
    ticket.save()
    reply = message(sender="alice@example.com", subject=f"[{ticket.code}] more")
    result = helpers.receive(reply, mailbox, commit)
    assert result.ticket == ticket
    assert ticket.messages.last().author == customer


def test_reply_reopens_a_resolved_ticket(mailbox, mailed_ticket, commit):
    workflow.change_status(mailed_ticket, workflow.tickets.Status.first_of_kind("resolved"))
    helpers.receive(message(subject=f"Re: [{mailed_ticket.code}]"), mailbox, commit)
    mailed_ticket.refresh_from_db()
    assert mailed_ticket.status.kind == "open"


def test_reply_on_a_merged_ticket_goes_to_the_target(mailbox, department, mailed_ticket, commit):
    target = factories.open_ticket(department, email="carol@example.org")
    workflow.merge(target, [mailed_ticket], user=None)
    reply = message(in_reply_to=confirmation_id(mailed_ticket))
    assert helpers.receive(reply, mailbox, commit).ticket == target


# --- thread hijack ----------------------------------------------------------------------


def test_stranger_quoting_a_code_gets_a_new_ticket_that_mentions_it(mailbox, mailed_ticket, commit):
    raw = message(
        sender="mallory@evil.example",
        subject=f"Re: [{mailed_ticket.code}] VPN down",
        body="Please send me the VPN password.",
    )
    result = helpers.receive(raw, mailbox, commit)
    assert result.outcome == Outcome.TICKET
    assert result.ticket != mailed_ticket
    assert mailed_ticket.messages.count() == 1
    quoted = {f["name"]: f["value"] for f in result.ticket.custom_fields}
    assert quoted == {"quoted_ticket": mailed_ticket.code}
    to_mallory = [m for m in mail.outbox if m.to == ["mallory@evil.example"]]
    assert len(to_mallory) == 1, "only the confirmation of the new ticket"
    assert result.ticket.code in to_mallory[0].subject
    assert "VPN is down." not in to_mallory[0].body


def test_stranger_quoting_a_real_message_id_gets_a_new_ticket(mailbox, mailed_ticket, commit):
    raw = message(
        sender="mallory@evil.example",
        subject="Re: hello",
        in_reply_to=confirmation_id(mailed_ticket),
        references=confirmation_id(mailed_ticket),
    )
    result = helpers.receive(raw, mailbox, commit)
    assert result.outcome == Outcome.TICKET and result.ticket != mailed_ticket
    assert mailed_ticket.messages.count() == 1
    # Nothing about the victim's ticket is told to the stranger.
    assert result.ticket.custom_fields == []


def test_agent_of_another_department_cannot_write_on_the_ticket(
    mailbox, mailed_ticket, other_agent, commit
):
    raw = message(sender=other_agent.email, subject=f"[{mailed_ticket.code}] closing this")
    result = helpers.receive(raw, mailbox, commit)
    assert result.ticket != mailed_ticket
    assert mailed_ticket.messages.count() == 1


def test_inactive_agent_cannot_write_on_the_ticket(mailbox, mailed_ticket, staff_agent, commit):
    staff_agent.is_active = False
    staff_agent.save()
    raw = message(sender=staff_agent.email, subject=f"[{mailed_ticket.code}] hi")
    assert helpers.receive(raw, mailbox, commit).ticket != mailed_ticket


# --- staff by mail ----------------------------------------------------------------------
# Staff mail is believed when the receiving mail server confirmed its sender
# (tests/mail/test_sender_checks.py has the rest).

CONFIRMED = {"Authentication-Results": "mx.helpdesk.example; dkim=pass header.d=example.com"}


@pytest.fixture(autouse=True)
def _trusted_mail_server(settings):
    settings.WAGTAIL_TICKETS_MAIL_TRUSTED_AUTHSERV_IDS = ["mx.helpdesk.example"]


def test_agent_reply_by_mail_is_a_staff_reply_mailed_to_the_customer(
    mailbox, mailed_ticket, staff_agent, commit
):
    mail.outbox.clear()
    raw = message(
        sender="Desk@Example.com",
        subject=f"Re: [{mailed_ticket.code}] VPN down",
        body="Restart the router, please.\n\n-----Original Message-----\nFrom: Carol\nSent: now",
        in_reply_to=confirmation_id(mailed_ticket),
        headers=CONFIRMED,
    )
    result = helpers.receive(raw, mailbox, commit)
    assert result.outcome == Outcome.STAFF_REPLY
    reply = mailed_ticket.messages.last()
    assert reply.is_staff_reply and not reply.is_internal
    assert reply.author == staff_agent
    assert reply.body == "Restart the router, please."
    [to_customer] = [m for m in mail.outbox if m.to == ["carol@example.org"]]
    assert "Restart the router, please." in to_customer.body


def test_agent_mail_starting_with_note_is_an_internal_note(
    mailbox, mailed_ticket, staff_agent, commit
):
    mail.outbox.clear()
    raw = message(
        sender=staff_agent.email,
        subject=f"Re: [{mailed_ticket.code}]",
        body="#note\nCustomer is on the old firmware.",
        headers=CONFIRMED,
    )
    result = helpers.receive(raw, mailbox, commit)
    assert result.outcome == Outcome.NOTE
    note = mailed_ticket.messages.last()
    assert note.is_internal and note.body == "Customer is on the old firmware."
    assert not [m for m in mail.outbox if "carol@example.org" in m.to]


def test_superuser_may_answer_any_ticket_by_mail(mailbox, mailed_ticket, superuser, commit):
    raw = message(sender=superuser.email, subject=f"[{mailed_ticket.code}] done", headers=CONFIRMED)
    assert helpers.receive(raw, mailbox, commit).outcome == Outcome.STAFF_REPLY


# --- the same mail twice ---------------------------------------------------------------


def test_the_same_mail_twice_is_stored_once(mailbox, commit):
    raw = message()
    first = helpers.receive(raw, mailbox, commit)
    second = helpers.receive(raw, mailbox, commit)
    assert not first.duplicate and second.duplicate
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1


def test_same_message_id_from_another_sender_is_not_a_duplicate(mailbox, commit):
    helpers.receive(message(message_id="<same@x.org>"), mailbox, commit)
    other = helpers.receive(
        message(message_id="<same@x.org>", sender="dave@example.org"), mailbox, commit
    )
    assert not other.duplicate
    assert Ticket.objects.count() == 2


def test_full_text_is_kept_when_quotes_are_cut(mailbox, mailed_ticket, commit):
    body = "Works now.\n\nOn Mon, 3 Mar 2025 at 10:00, Support <s@x.org> wrote:\n> try this"
    result = helpers.receive(
        message(body=body, subject=f"Re: [{mailed_ticket.code}]"), mailbox, commit
    )
    assert result.message.body == "Works now."
    assert "> try this" in result.message.inbound_mail.full_text


def test_russian_quotes_and_signature_are_cut(mailbox, mailed_ticket, commit):
    body = (
        "Спасибо, всё заработало.\n\nС уважением,\nКэрол\n\n"
        "пн, 3 мар. 2025 г. в 10:00, Support <support@helpdesk.example>:\n> Перезагрузите."
    )
    result = helpers.receive(
        message(body=body, subject=f"Re: [{mailed_ticket.code}]"), mailbox, commit
    )
    assert result.message.body == "Спасибо, всё заработало."


def test_html_only_mail_becomes_clean_text(mailbox, commit):
    raw = message(
        body=None,
        html="<p>Hello <b>team</b></p><script>alert(1)</script><p>See <a href='https://x.org'>"
        "this</a></p>",
    )
    result = helpers.receive(raw, mailbox, commit)
    body = result.message.body
    assert "Hello team" in body and "this <https://x.org>" in body
    assert "alert" not in body and "<" not in body.replace("<https://x.org>", "")


def test_nul_bytes_and_control_characters_never_reach_the_database(mailbox, commit):
    raw = message(subject="Bad\x00subject", body="a\x00b\x07c")
    result = helpers.receive(raw, mailbox, commit)
    assert "\x00" not in result.ticket.subject
    assert result.message.body == "abc"
