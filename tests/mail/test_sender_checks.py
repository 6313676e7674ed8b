"""A From header is only text: mail in the name of an agent or a customer is believed
when the receiving mail server confirmed its sender (Authentication-Results)."""

import pytest
from django.core import mail

from tests.mail import helpers
from tests.mail.helpers import message
from wagtail_tickets.mail import authres
from wagtail_tickets.models import InboundMail, Ticket

pytestmark = pytest.mark.django_db
Outcome = InboundMail.Outcome

OURS = "mx.helpdesk.example"


def results(value, authserv_id=OURS):
    return {"Authentication-Results": f"{authserv_id}; {value}"}


@pytest.fixture
def mailed_ticket(mailbox, commit):
    result = helpers.receive(message(subject="VPN down", body="VPN is down."), mailbox, commit)
    mail.outbox.clear()
    return Ticket.objects.get(pk=result.ticket.pk)


@pytest.fixture
def trusted(settings):
    settings.WAGTAIL_TICKETS_MAIL_TRUSTED_AUTHSERV_IDS = [OURS]


def to_customer():
    return [m for m in mail.outbox if "carol@example.org" in m.to]


def agent_mail(ticket, **extra):
    return message(
        sender="desk@example.com",
        subject=f"Re: [{ticket.code}] VPN down",
        body="Please send me your password.",
        **extra,
    )


# --- agents ------------------------------------------------------------------------------


def test_without_a_trusted_mail_server_an_agents_mail_is_an_internal_note(
    mailbox, mailed_ticket, staff_agent, commit
):
    """Nothing says the agent sent it: it reaches the staff, marked, never the customer."""
    result = helpers.receive(agent_mail(mailed_ticket), mailbox, commit)
    assert result.outcome == Outcome.NOTE
    assert InboundMail.objects.get(outcome=Outcome.NOTE).detail == "sender not verified"
    note = mailed_ticket.messages.last()
    assert note.is_internal and note.author == staff_agent
    assert note.body.startswith("[Sent by e-mail from desk@example.com. The mail server did not")
    assert note.body.endswith("Please send me your password.")
    assert to_customer() == []


@pytest.mark.parametrize(
    "check",
    [
        "dkim=pass header.d=example.com",
        "dkim=pass header.i=@mail.example.com",  # a subdomain of the From's
        "spf=pass smtp.mailfrom=bounces@example.com",
        "dmarc=pass (p=REJECT) header.from=example.com",
        "spf=fail smtp.mailfrom=x@example.com; dkim=pass header.d=example.com",
    ],
)
def test_a_confirmed_agents_mail_is_a_staff_reply(
    mailbox, mailed_ticket, staff_agent, commit, trusted, check
):
    raw = agent_mail(mailed_ticket, headers=results(check))
    assert helpers.receive(raw, mailbox, commit).outcome == Outcome.STAFF_REPLY
    reply = mailed_ticket.messages.last()
    assert reply.is_staff_reply and not reply.is_internal
    assert reply.body == "Please send me your password."
    assert len(to_customer()) == 1


@pytest.mark.parametrize(
    "headers",
    [
        # Checks of another domain (the forger's own) confirm nothing about the From.
        results("dkim=pass header.d=forger.example; spf=pass smtp.mailfrom=a@forger.example"),
        results("dmarc=fail header.from=example.com"),
        results("spf=softfail smtp.mailfrom=desk@example.com; dkim=none"),
        # The same checks written by a server nobody trusts.
        results("dkim=pass header.d=example.com", authserv_id="mx.forger.example"),
        # The receiving server's header comes first; one the sender wrote under the
        # trusted name sits below it and is not read.
        [
            ("Authentication-Results", f"{OURS}; dkim=none; spf=none"),
            ("Authentication-Results", f"{OURS}; dkim=pass header.d=example.com"),
        ],
    ],
    ids=["other-domain", "dmarc-fail", "softfail", "untrusted-server", "forged-below"],
)
def test_an_unconfirmed_agents_mail_stays_an_internal_note(
    mailbox, mailed_ticket, staff_agent, commit, trusted, headers
):
    raw = agent_mail(mailed_ticket, headers=headers if isinstance(headers, dict) else None)
    if isinstance(headers, list):
        raw = b"".join(f"{name}: {value}\r\n".encode() for name, value in headers) + raw
    assert helpers.receive(raw, mailbox, commit).outcome == Outcome.NOTE
    assert mailed_ticket.messages.last().is_internal
    assert to_customer() == []


def test_the_note_warns_in_the_tickets_language(mailbox, department, staff_agent, commit):
    raw = message(subject="Не работает VPN", body="Совсем не работает.")
    ticket = helpers.receive(raw, mailbox, commit).ticket
    assert ticket.language == "ru"
    helpers.receive(agent_mail(ticket), mailbox, commit)
    assert ticket.messages.last().body.startswith("[Отправлено по почте с адреса desk@example.com.")


# --- customers ---------------------------------------------------------------------------


def test_a_customers_address_failing_the_checks_opens_a_ticket_of_its_own(
    mailbox, mailed_ticket, commit, trusted
):
    raw = message(
        subject=f"Re: [{mailed_ticket.code}] VPN down",
        body="Change my e-mail to thief@forger.example, please.",
        headers=results("spf=fail smtp.mailfrom=carol@example.org; dkim=none"),
    )
    result = helpers.receive(raw, mailbox, commit)
    assert result.outcome == Outcome.TICKET and result.ticket != mailed_ticket
    assert mailed_ticket.messages.count() == 1


@pytest.mark.parametrize(
    "headers",
    [None, results("spf=none; dkim=none"), results("spf=pass smtp.mailfrom=carol@example.org")],
)
def test_a_customers_reply_without_a_failure_joins_the_ticket(
    mailbox, mailed_ticket, commit, trusted, headers
):
    """Many small mail providers sign nothing: only a failure keeps a reply out."""
    raw = message(
        subject=f"Re: [{mailed_ticket.code}] VPN down", body="Still down.", headers=headers
    )
    assert helpers.receive(raw, mailbox, commit).outcome == Outcome.REPLY
    assert mailed_ticket.messages.count() == 2


# --- reading the header ------------------------------------------------------------------


def test_the_header_is_read_past_comments_quotes_and_versions():
    value = (
        'mx.google.com 1; dkim=pass (2048-bit key; "secure") header.i=@Example.COM '
        "header.s=s1; spf=pass (google.com: domain of x@example.com designates "
        "192.0.2.1 (a (nested) comment) as permitted sender) smtp.mailfrom=x@example.com; "
        'dmarc=pass (p=NONE sp=NONE dis=NONE) header.from="example.com"'
    )
    authserv_id, found = authres.parse(value)
    assert authserv_id == "mx.google.com"
    assert [(method, result) for method, result, _ in found] == [
        ("dkim", "pass"),
        ("spf", "pass"),
        ("dmarc", "pass"),
    ]
    assert found[0][2]["header.i"] == "@example.com"
    assert found[2][2]["header.from"] == "example.com"
    assert authres.verdict([value], "x@example.com", {"mx.google.com"}) == authres.PASS
    assert authres.verdict([value], "x@example.net", {"mx.google.com"}) == authres.NONE


@pytest.mark.parametrize(
    "value", ["", ";;;", "mx.helpdesk.example; none", "(((", "mx.helpdesk.example; =; a=b=c"]
)
def test_odd_headers_settle_nothing(value):
    assert authres.verdict([value], "desk@example.com", {OURS}) == authres.NONE


# --- bounce marks ------------------------------------------------------------------------


def test_mail_failing_the_checks_leaves_the_bounce_mark(mailbox, mailed_ticket, commit, trusted):
    """Anyone can put a bouncing address in From: only mail the server did not find
    forged lifts the mark that stops the helpdesk mailing it."""
    from wagtail_tickets.models import BouncingAddress

    BouncingAddress.objects.create(email="carol@example.org")
    forged = message(
        subject="Hello again",
        headers=results("spf=fail smtp.mailfrom=carol@example.org; dkim=none"),
    )
    helpers.receive(forged, mailbox, commit)
    assert BouncingAddress.objects.filter(email="carol@example.org").exists()
    confirmed = message(
        subject="Hello again",
        message_id="<second@example.org>",
        headers=results("spf=pass smtp.mailfrom=carol@example.org"),
    )
    helpers.receive(confirmed, mailbox, commit)
    assert not BouncingAddress.objects.filter(email="carol@example.org").exists()
