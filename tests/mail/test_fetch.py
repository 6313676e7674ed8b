"""Reading a real Dovecot over IMAP and POP3, plain on loopback and over TLS."""

import io
import logging
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django.utils import timezone

from tests.mail import helpers
from tests.mail.helpers import message
from wagtail_tickets.mail import fetch, intake
from wagtail_tickets.models import InboundMail, Mailbox, Message, Ticket

pytestmark = pytest.mark.django_db


def imap_box(dovecot, department, *, security="plain", host="127.0.0.1", **fields):
    port = dovecot.ports["imaps" if security == "tls" else "imap"]
    return helpers.make_mailbox(
        department,
        name=fields.pop("name", "imap"),
        protocol="imap",
        host=host,
        port=port,
        security=security,
        username="helpdesk",
        password=fields.pop("password", dovecot.users["helpdesk"]),
        **fields,
    )


def pop3_box(dovecot, department, *, security="plain", host="127.0.0.1", **fields):
    port = dovecot.ports["pop3s" if security == "tls" else "pop3"]
    return helpers.make_mailbox(
        department,
        name=fields.pop("name", "pop3"),
        protocol="pop3",
        host=host,
        port=port,
        security=security,
        username="helpdesk",
        password=fields.pop("password", dovecot.users["helpdesk"]),
        **fields,
    )


def three_messages():
    return [message(subject=f"Problem {n}", sender=f"user{n}@example.org") for n in range(3)]


def fetch_command(*names):
    out, err = io.StringIO(), io.StringIO()
    args = [arg for name in names for arg in ("--mailbox", name)]
    call_command("helpdesk_fetch_mail", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("box", [imap_box, pop3_box], ids=["imap", "pop3"])
def test_fetch_turns_mail_into_tickets_and_deletes_it(dovecot, department, mail_site, box):
    mailbox = box(dovecot, department)
    dovecot.append(three_messages())
    out, _err = fetch_command(mailbox.name)
    assert "3 taken in" in out
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "Problem 0",
        "Problem 1",
        "Problem 2",
    ]
    assert dovecot.folder() == (0, 0)
    mailbox.refresh_from_db()
    assert mailbox.last_success_at is not None and mailbox.last_error == ""
    assert mailbox.locked_until is None


@pytest.mark.parametrize(
    ("box", "security", "host"),
    [
        (imap_box, "tls", "localhost"),
        (imap_box, "starttls", "localhost"),
        (pop3_box, "tls", "127.0.0.1"),
        (pop3_box, "starttls", "localhost"),
    ],
    ids=["imaps", "imap-starttls", "pop3s", "pop3-stls"],
)
def test_fetch_over_tls_with_a_self_signed_certificate(
    dovecot, department, mail_site, box, security, host
):
    mailbox = box(dovecot, department, security=security, host=host)
    dovecot.append([message(subject="Over TLS")])
    fetch_command(mailbox.name)
    assert Ticket.objects.get().subject == "Over TLS"


def test_an_untrusted_certificate_is_refused(dovecot, department, mail_site, settings):
    settings.WAGTAIL_TICKETS_MAIL_CA_FILE = None
    mailbox = imap_box(dovecot, department, security="tls", host="localhost")
    dovecot.append([message()])
    with pytest.raises(CommandError):
        fetch_command(mailbox.name)
    mailbox.refresh_from_db()
    assert "CERTIFICATE_VERIFY_FAILED" in mailbox.last_error
    assert Ticket.objects.count() == 0 and dovecot.folder() == (1, 1)


def test_imap_moves_fetched_mail_to_a_folder(dovecot, department, mail_site):
    mailbox = imap_box(dovecot, department, after_fetch="move", move_to_folder="Done")
    dovecot.append(three_messages())
    fetch_command(mailbox.name)
    assert Ticket.objects.count() == 3
    assert dovecot.folder() == (0, 0)
    assert dovecot.folder("Done")[0] == 3


def test_imap_marks_fetched_mail_read_and_leaves_it(dovecot, department, mail_site):
    mailbox = imap_box(dovecot, department, after_fetch="seen")
    dovecot.append(three_messages())
    fetch_command(mailbox.name)
    assert dovecot.folder() == (3, 0)
    out, _err = fetch_command(mailbox.name)
    assert "0 taken in" in out
    assert Ticket.objects.count() == 3


def test_replies_fetched_by_imap_join_their_ticket(dovecot, department, mail_site):
    mailbox = imap_box(dovecot, department)
    first = message(subject="Login fails")
    dovecot.append([first])
    fetch_command(mailbox.name)
    dovecot.append([message(subject="Re: Login fails", in_reply_to=helpers.message_id_of(first))])
    fetch_command(mailbox.name)
    assert Ticket.objects.get().messages.count() == 2


# --- failures ---------------------------------------------------------------------------


class DropsConnection:
    """Makes the client lose the connection right after the n-th message committed."""

    def __init__(self, monkeypatch, client_class, after):
        self.count = 0
        original = client_class.done

        def done(client, item):
            self.count += 1
            if self.count == after:
                # The server is gone: nothing more reaches it, not even QUIT or EXPUNGE.
                client.connection.sock.close()
                raise ConnectionResetError(104, "Connection reset by peer")
            return original(client, item)

        monkeypatch.setattr(client_class, "done", done)


@pytest.mark.parametrize(
    ("box", "client_class"),
    [(imap_box, fetch.ImapClient), (pop3_box, fetch.Pop3Client)],
    ids=["imap", "pop3"],
)
def test_a_mailbox_failing_mid_fetch_loses_nothing_and_stores_nothing_twice(
    dovecot, department, mail_site, monkeypatch, box, client_class
):
    mailbox = box(dovecot, department)
    sent = [message(subject=f"Problem {n}", sender=f"user{n}@example.org") for n in range(5)]
    dovecot.append(sent)
    with monkeypatch.context() as patch:
        DropsConnection(patch, client_class, after=3)
        with pytest.raises(CommandError):
            fetch_command(mailbox.name)
    mailbox.refresh_from_db()
    assert "Connection reset by peer" in mailbox.last_error
    assert dovecot.folder()[0] > 0, "what was not confirmed stays on the server"

    fetch_command(mailbox.name)
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        f"Problem {n}" for n in range(5)
    ]
    assert Message.objects.count() == 5
    assert InboundMail.objects.count() == 5
    assert dovecot.folder() == (0, 0)


def test_a_database_failure_leaves_the_message_on_the_server(
    dovecot, department, mail_site, monkeypatch
):
    mailbox = imap_box(dovecot, department)
    dovecot.append(three_messages())
    real = intake.receive
    calls = []

    def failing(raw, box):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real(raw, box)

    monkeypatch.setattr(intake, "receive", failing)
    with pytest.raises(CommandError):
        fetch_command(mailbox.name)
    # The batch the failure fell in is rolled back whole and stays on the server.
    assert Ticket.objects.count() == 0
    assert dovecot.folder()[0] == 3
    monkeypatch.setattr(intake, "receive", real)
    fetch_command(mailbox.name)
    assert Ticket.objects.count() == 3 and dovecot.folder() == (0, 0)


def test_a_wrong_password_is_reported_without_the_password(
    dovecot, department, mail_site, caplog, capsys
):
    wrong = "Wr0ng-Secret-Value"
    mailbox = imap_box(dovecot, department, password=wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CommandError) as raised:
        fetch_command(mailbox.name)
    mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in mailbox.last_error or "Authentication" in mailbox.last_error
    captured = capsys.readouterr()
    for text in (mailbox.last_error, caplog.text, str(raised.value), captured.out, captured.err):
        assert wrong not in text
    assert wrong not in mailbox.password_encrypted


def test_a_missing_environment_password_is_reported(dovecot, department, mail_site, monkeypatch):
    mailbox = imap_box(dovecot, department, password="", password_env="WT_TEST_IMAP_PASSWORD")
    monkeypatch.delenv("WT_TEST_IMAP_PASSWORD", raising=False)
    with pytest.raises(CommandError):
        fetch_command(mailbox.name)
    mailbox.refresh_from_db()
    assert "WT_TEST_IMAP_PASSWORD" in mailbox.last_error
    monkeypatch.setenv("WT_TEST_IMAP_PASSWORD", dovecot.users["helpdesk"])
    dovecot.append([message()])
    fetch_command(mailbox.name)
    assert Ticket.objects.count() == 1


def test_plain_text_to_another_machine_is_refused_before_connecting(department, mail_site):
    mailbox = helpers.make_mailbox(
        department, name="remote", protocol="imap", host="192.0.2.10", security="plain",
        username="helpdesk",
    )  # fmt: skip
    report = fetch.fetch_mailbox(mailbox)
    assert report.errors == ["a connection without TLS is only allowed to this machine"]


# --- the lock ---------------------------------------------------------------------------


def test_a_locked_mailbox_is_skipped(dovecot, department, mail_site):
    mailbox = imap_box(dovecot, department)
    dovecot.append([message()])
    token = fetch.acquire_lock(mailbox)
    assert token and fetch.acquire_lock(mailbox) is None
    out, _err = fetch_command(mailbox.name)
    assert "another run is reading it" in out
    assert Ticket.objects.count() == 0
    fetch.release_lock(mailbox, token)
    fetch_command(mailbox.name)
    assert Ticket.objects.count() == 1


def test_a_stale_lock_expires(dovecot, department, mail_site):
    mailbox = imap_box(dovecot, department)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1), lock_token="dead-run"
    )
    dovecot.append([message()])
    fetch_command(mailbox.name)
    assert Ticket.objects.count() == 1


def test_inactive_mailboxes_are_not_read_by_default(dovecot, department, mail_site):
    imap_box(dovecot, department, active=False)
    dovecot.append([message()])
    fetch_command()
    assert Ticket.objects.count() == 0


# --- the pipe ---------------------------------------------------------------------------


class Stdin:
    def __init__(self, data):
        self.buffer = io.BytesIO(data)


def pipe(monkeypatch, raw, mailbox_name="support"):
    monkeypatch.setattr(sys, "stdin", Stdin(raw))
    try:
        call_command("helpdesk_mail_pipe", "--mailbox", mailbox_name)
    except SystemExit as exit_:
        return exit_.code
    return 0


def test_pipe_takes_a_message_in(mailbox, monkeypatch):
    assert pipe(monkeypatch, message(subject="Piped")) == 0
    assert Ticket.objects.get().subject == "Piped"
    assert pipe(monkeypatch, message(subject="Piped")) == 0


def test_pipe_asks_the_mail_server_to_retry_when_the_database_is_down(mailbox, monkeypatch):
    def down(raw, box):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(intake, "receive", down)
    assert pipe(monkeypatch, message()) == 75


def test_pipe_retries_for_an_unknown_mailbox(mailbox, monkeypatch):
    assert pipe(monkeypatch, message(), mailbox_name="nope") == 75


def test_pipe_retries_when_the_department_is_unpublished(mailbox, department, monkeypatch):
    department.unpublish()
    assert pipe(monkeypatch, message()) == 75
    assert Ticket.objects.count() == 0


def test_pipe_refuses_a_message_too_large(mailbox, monkeypatch, settings):
    settings.WAGTAIL_TICKETS_MAIL_MAX_BYTES = 1000
    assert pipe(monkeypatch, message(body="x" * 2000)) == 65
    assert Ticket.objects.count() == 0


def test_pipe_drops_a_bounce_with_success(mailbox, monkeypatch):
    raw = message(sender="mailer-daemon@mx.example.org", subject="Undelivered")
    assert pipe(monkeypatch, raw) == 0
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize("box", [imap_box, pop3_box], ids=["imap", "pop3"])
def test_a_message_too_large_is_left_on_the_server_unread(
    dovecot, department, mail_site, settings, monkeypatch, box
):
    settings.WAGTAIL_TICKETS_MAIL_MAX_BYTES = 5000
    mailbox = box(dovecot, department)
    dovecot.append([message(subject="Small"), message(subject="Big", body="x" * 8000)])
    client_class = fetch.ImapClient if box is imap_box else fetch.Pop3Client
    fetched = []
    real_fetch = client_class.fetch
    monkeypatch.setattr(
        client_class, "fetch", lambda client, item: fetched.append(item) or real_fetch(client, item)
    )
    with pytest.raises(CommandError):
        fetch_command(mailbox.name)
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["Small"]
    assert len(fetched) == 1
    assert dovecot.folder()[0] == 1
    mailbox.refresh_from_db()
    assert "left on the server" in mailbox.last_error


def test_a_message_that_cannot_be_placed_waits_without_holding_up_replies(
    dovecot, department, mail_site
):
    mailbox = imap_box(dovecot, department)
    first = message(subject="Login fails")
    dovecot.append([first])
    fetch_command(mailbox.name)
    department.unpublish()
    reply = message(subject="Re: Login fails", in_reply_to=helpers.message_id_of(first))
    dovecot.append([message(sender="new@example.org", subject="New problem"), reply])
    with pytest.raises(CommandError):
        fetch_command(mailbox.name)
    assert Ticket.objects.get().messages.count() == 2
    assert dovecot.folder()[0] == 1
    mailbox.refresh_from_db()
    assert "is not published" in mailbox.last_error
