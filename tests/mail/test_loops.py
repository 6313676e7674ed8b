"""Mail that must not be answered, bounces, unknown senders, and loops between systems."""

import pytest
from django.core import mail

from tests import factories
from tests.mail import helpers
from tests.mail.helpers import HELPDESK_ADDRESS, message
from wagtail_tickets.models import BouncingAddress, InboundMail, Ticket

pytestmark = pytest.mark.django_db
Outcome = InboundMail.Outcome


def mails_to(address):
    return [m for m in mail.outbox if address in m.to]


# --- never answered ---------------------------------------------------------------------

NEVER_ANSWER = [
    {"Auto-Submitted": "auto-replied"},
    {"Auto-Submitted": "auto-generated"},
    {"Precedence": "bulk"},
    {"Precedence": "junk"},
    {"Precedence": "list"},
    {"X-Autoreply": "yes"},
    {"X-Auto-Response-Suppress": "All"},
    {"Return-Path": "<>"},
    {"List-Id": "<announce.lists.example.org>"},
]


@pytest.mark.parametrize("headers", NEVER_ANSWER, ids=lambda h: "-".join(next(iter(h.items()))))
def test_automatic_mail_opens_a_ticket_but_is_never_answered(mailbox, commit, headers):
    result = helpers.receive(message(headers=headers), mailbox, commit)
    assert result.outcome == Outcome.TICKET
    assert mails_to("carol@example.org") == []
    assert result.message.inbound_mail.no_auto_reply


def test_auto_submitted_no_is_answered(mailbox, commit):
    helpers.receive(message(headers={"Auto-Submitted": "no"}), mailbox, commit)
    assert len(mails_to("carol@example.org")) == 1


def test_mail_from_the_helpdesks_own_address_is_dropped(mailbox, commit):
    for sender in (HELPDESK_ADDRESS.upper(), "helpdesk@example.com"):  # mailbox, From address
        result = helpers.receive(message(sender=sender), mailbox, commit)
        assert result.outcome == Outcome.OWN
    assert Ticket.objects.count() == 0 and mail.outbox == []


def test_mailer_daemon_mail_without_a_report_is_dropped(mailbox, commit):
    result = helpers.receive(message(sender="MAILER-DAEMON@mx.example.org"), mailbox, commit)
    assert result.outcome == Outcome.IGNORED
    assert Ticket.objects.count() == 0 and mail.outbox == []


def test_at_most_n_automatic_answers_per_address_and_hour(mailbox, commit, settings):
    settings.WAGTAIL_TICKETS_MAIL_AUTO_REPLIES_PER_HOUR = 3
    for n in range(5):
        helpers.receive(message(subject=f"Problem {n}"), mailbox, commit)
    assert Ticket.objects.count() == 5
    assert len(mails_to("carol@example.org")) == 3


# --- bounces ----------------------------------------------------------------------------


DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: {helpdesk}
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce.{n}@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUND"

--BOUND
Content-Type: text/plain

This is the mail system. Your message could not be delivered.

--BOUND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {failed}
Action: {action}
Status: {status}

--BOUND
Content-Type: text/rfc822-headers

Message-ID: {original}
Subject: original

--BOUND--
"""


def delivery_report(failed, original_id, action="failed", status="5.1.1", n=1):
    text = DSN.format(
        helpdesk=HELPDESK_ADDRESS,
        failed=failed,
        original=original_id,
        action=action,
        status=status,
        n=n,
    )
    return text.replace("\n", "\r\n").encode()


def test_a_delivery_report_marks_the_address_and_creates_no_ticket(mailbox, commit):
    helpers.receive(message(), mailbox, commit)
    [confirmation] = mails_to("carol@example.org")
    mail.outbox.clear()
    report = delivery_report("carol@example.org", confirmation.extra_headers["Message-ID"])
    result = helpers.receive(report, mailbox, commit)
    assert result.outcome == Outcome.BOUNCE
    assert Ticket.objects.count() == 1
    assert BouncingAddress.objects.get().email == "carol@example.org"
    assert mail.outbox == []


def test_a_delayed_delivery_report_marks_nothing(mailbox, commit):
    report = delivery_report("carol@example.org", "<x@y>", action="delayed", status="4.4.1")
    assert helpers.receive(report, mailbox, commit).outcome == Outcome.BOUNCE
    assert not BouncingAddress.objects.exists()


def test_bouncing_address_gets_no_mail_until_it_writes_again(mailbox, department, commit):
    BouncingAddress.objects.create(email="carol@example.org")
    with commit():
        factories.open_ticket(department, email="carol@example.org")
    assert mails_to("carol@example.org") == []
    helpers.receive(message(subject="I am back"), mailbox, commit)
    assert not BouncingAddress.objects.exists()
    assert len(mails_to("carol@example.org")) == 1


# --- unknown senders --------------------------------------------------------------------


def test_unknown_sender_is_refused_and_answered_once(invite_mailbox, department, commit):
    for n in range(3):
        result = helpers.receive(message(subject=f"Help {n}"), invite_mailbox, commit)
        assert result.outcome == Outcome.INVITED
    assert Ticket.objects.count() == 0
    [answer] = mails_to("carol@example.org")
    assert department.full_url in answer.body
    assert answer.extra_headers["Auto-Submitted"] == "auto-replied"
    assert answer.subject == "Re: Help 0"


def test_known_customer_is_accepted_where_unknown_ones_are_refused(
    invite_mailbox, customer, commit
):
    result = helpers.receive(message(sender=customer.email), invite_mailbox, commit)
    assert result.outcome == Outcome.TICKET and result.ticket.customer == customer


@pytest.mark.parametrize(
    "change", [{"submitters": "logged_in"}, {"support_mode": "prepaid"}], ids=["login", "paid"]
)
def test_login_only_or_paid_department_refuses_unknown_senders_whatever_the_mailbox_says(
    mailbox, department, commit, change
):
    for field, value in change.items():
        setattr(department, field, value)
    department.save_revision().publish()
    mailbox.refresh_from_db()
    assert mailbox.unknown_senders == "accept"
    for n in range(2):
        result = helpers.receive(message(subject=f"Question {n}"), mailbox, commit)
        assert result.outcome == Outcome.INVITED
    assert Ticket.objects.count() == 0
    [answer] = mails_to("carol@example.org")
    assert "log in" in answer.body


def test_unknown_automatic_sender_is_not_even_answered_once(invite_mailbox, commit):
    helpers.receive(message(headers={"Auto-Submitted": "auto-replied"}), invite_mailbox, commit)
    assert Ticket.objects.count() == 0 and mail.outbox == []


# --- two systems answering each other ---------------------------------------------------

OTHER = "robot@other-helpdesk.example"


def other_helpdesk_answers(received, n, *, marks=True, threads=True):
    """Another helpdesk's automatic answer to the mail it ``received``."""
    subject = f"Re: {received.subject}" if threads else f"We got your message #{n}"
    headers = {}
    if marks:
        headers["Auto-Submitted"] = "auto-replied"
    return message(
        sender=OTHER,
        sender_name="Other helpdesk",
        subject=subject,
        body="Thank you, we have received your message.",
        in_reply_to=received.extra_headers.get("Message-ID") if threads else None,
        headers=headers,
    )


def run_loop(mailbox, commit, first, rounds=20, **behaviour):
    """Deliver mail back and forth; returns how many mails the helpdesk sent to the other."""
    inbox = [first]
    sent = 0
    for n in range(rounds):
        if not inbox:
            break
        mail.outbox.clear()
        helpers.receive(inbox.pop(), mailbox, commit)
        answers = mails_to(OTHER)
        sent += len(answers)
        inbox.extend(other_helpdesk_answers(a, n, **behaviour) for a in answers)
    return sent


def test_two_helpdesks_answering_each_other_stop_after_the_first_reply(mailbox, commit):
    # The other helpdesk marks its answers (RFC 3834) but does not thread them: only
    # Auto-Submitted can stop the loop.
    first = message(sender=OTHER, subject="Order 42", body="Where is my order?")
    assert run_loop(mailbox, commit, first, threads=False) == 1
    assert Ticket.objects.count() == 2


def test_a_responder_that_marks_nothing_threads_into_the_ticket_and_stops(mailbox, commit):
    first = message(sender=OTHER, subject="Order 42")
    assert run_loop(mailbox, commit, first, marks=False) == 1
    ticket = Ticket.objects.get()
    assert ticket.messages.count() == 2


def test_a_responder_that_marks_and_threads_nothing_is_stopped_by_the_hourly_limit(
    mailbox, commit, settings
):
    settings.WAGTAIL_TICKETS_MAIL_AUTO_REPLIES_PER_HOUR = 3
    first = message(sender=OTHER, subject="Order 42")
    assert run_loop(mailbox, commit, first, marks=False, threads=False) == 3
