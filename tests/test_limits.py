"""How much one visitor may write: tickets, replies, uploads; replayed forms; a database
that cannot answer gets a 503, not a 500."""

import hashlib
import re

import pytest
from bs4 import BeautifulSoup
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client

from tests import factories
from wagtail_tickets import captcha, workflow
from wagtail_tickets.middleware import database_unavailable
from wagtail_tickets.models import Attachment, Message, Ticket, UsedFormToken

pytestmark = pytest.mark.django_db

KB = 1024


def _basic(**extra):
    return {
        "name": "Ann Visitor",
        "email": "ann@example.com",
        "subject": "Cannot log in",
        "message": "The password is refused.",
        **extra,
    }


def _errors(response):
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    return " ".join(li.get_text(" ", strip=True) for li in soup.select("#wt-error-summary li"))


def _started(response):
    return re.search(r'name="form_started" value="([^"]+)"', response.content.decode()).group(1)


# --- the honeypot's start token is single-use -------------------------------------------


def test_a_start_token_is_refused_the_second_time(client, department, site_settings):
    factories.site_settings(captcha_mode="honeypot", min_fill_seconds=0)
    token = _started(client.get(department.url))
    first = client.post(department.url, _basic(form_started=token, subject="First"))
    assert first.status_code == 302
    replay = Client().post(department.url, _basic(form_started=token, subject="Replay"))
    assert replay.status_code == 400
    assert "already been sent" in _errors(replay)
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["First"]
    # A person whose form was refused can send it again with the fresh token it carries.
    fresh = _started(replay)
    assert fresh != token
    again = Client().post(department.url, _basic(form_started=fresh, subject="Replay"))
    assert again.status_code == 302
    assert Ticket.objects.count() == 2
    # Only hashes are kept.
    assert not UsedFormToken.objects.filter(token_hash=token).exists()
    assert UsedFormToken.objects.count() == 2


def test_a_refused_submission_does_not_use_its_token_up(client, department, site_settings):
    factories.site_settings(
        captcha_mode="honeypot", min_fill_seconds=0, anonymous_tickets_per_hour=1
    )
    factories.open_ticket(department, submitter={"ip": "127.0.0.1"})
    token = _started(client.get(department.url))
    limited = client.post(department.url, _basic(form_started=token))
    assert limited.status_code == 429
    assert not UsedFormToken.objects.exists()


def _tokens(purging, count):
    """Made-up start tokens whose hashes do (or do not) clear the expired ones."""
    found = []
    for n in range(100_000):
        value = f"token-{n}"
        if captcha.purges_expired_tokens(hashlib.sha256(value.encode()).hexdigest()) == purging:
            found.append(value)
            if len(found) == count:
                return found
    raise AssertionError("no such token")


def test_used_tokens_are_forgotten_once_they_expire(
    department, site_settings, django_assert_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    expired = timezone.now() - timedelta(1)
    UsedFormToken.objects.create(token_hash="a" * 64, expires_at=expired)
    # Most submissions only record their token (one statement): no DELETE each time.
    keeping = _tokens(False, 3)
    for value in keeping:
        with django_assert_num_queries(1):
            captcha.consume_start_token(value)
    assert UsedFormToken.objects.filter(expires_at__lt=timezone.now()).count() == 1
    # About one in PURGE_ONE_IN clears every expired hash; the live ones stay.
    captcha.consume_start_token(_tokens(True, 1)[0])
    assert not UsedFormToken.objects.filter(expires_at__lt=timezone.now()).exists()
    assert UsedFormToken.objects.count() == 4
    # The share is what PURGE_ONE_IN says, so the table stays bounded.
    share = sum(
        captcha.purges_expired_tokens(hashlib.sha256(f"t{n}".encode()).hexdigest())
        for n in range(64_000)
    )
    assert 800 < share < 1200


# --- tickets per logged-in customer -----------------------------------------------------


def test_logged_in_customers_have_an_hourly_limit_too(client, department, customer, site_settings):
    factories.site_settings(captcha_mode="none", tickets_per_user_per_hour=2)
    client.force_login(customer)
    for n in range(2):
        assert client.post(department.url, {"subject": f"T{n}", "message": "x"}).status_code == 302
    refused = client.post(department.url, {"subject": "T3", "message": "x"})
    assert refused.status_code == 429
    assert "too many tickets" in _errors(refused)
    assert Ticket.objects.filter(customer=customer).count() == 2
    # Changing address does not help a logged-in customer: the account is counted.
    refused = client.post(department.url, {"subject": "T4", "message": "x"}, REMOTE_ADDR="10.1.1.1")
    assert refused.status_code == 429


# --- replies and uploads per ticket ------------------------------------------------------


def _link_holder(helpdesk, raw_token):
    client = Client()
    client.get(f"{helpdesk.url}access/{raw_token}/")
    return client


def _reply(client, url, text, files=()):
    data = {"action": "reply", "message": text}
    if files:
        data["attachments"] = list(files)
    return client.post(url, data)


@pytest.mark.parametrize("who", ["link_holder", "customer"])
def test_replies_are_limited_per_minute(who, helpdesk, department, customer, settings):
    settings.WAGTAIL_TICKETS_CUSTOMER_REPLIES_PER_MINUTE = 3
    ticket, raw = factories.open_ticket_with_token(department, customer=customer)
    url = f"{helpdesk.url}tickets/{ticket.code}/"
    if who == "customer":
        client = Client()
        client.force_login(customer)
    else:
        client = _link_holder(helpdesk, raw)
    for n in range(2):  # the first message counts as one
        assert _reply(client, url, f"Reply {n}").status_code == 302
    refused = _reply(client, url, "One too many")
    assert refused.status_code == 429
    assert "wait a minute" in _errors(refused)
    assert "One too many" in refused.content.decode(), "the text is kept in the form"
    assert not Message.objects.filter(body="One too many").exists()


def test_the_default_limits_apply_on_a_site_that_sets_nothing(department, settings):
    del settings.WAGTAIL_TICKETS_CUSTOMER_REPLIES_PER_MINUTE
    del settings.WAGTAIL_TICKETS_CUSTOMER_REPLIES_PER_HOUR
    ticket, _raw = factories.open_ticket_with_token(department)
    for n in range(4):  # five in a minute, the first message included
        workflow.post_reply(ticket, body=f"Reply {n}", author_name="Ann")
    with pytest.raises(workflow.WorkflowError, match="very fast"):
        workflow.post_reply(ticket, body="Sixth", author_name="Ann")


def test_replies_are_limited_per_hour_and_staff_are_not(helpdesk, department, agent, settings):
    settings.WAGTAIL_TICKETS_CUSTOMER_REPLIES_PER_MINUTE = 0
    settings.WAGTAIL_TICKETS_CUSTOMER_REPLIES_PER_HOUR = 3
    ticket, raw = factories.open_ticket_with_token(department)
    for n in range(2):
        workflow.post_reply(ticket, body=f"Customer {n}", author_name="Ann")
    with pytest.raises(workflow.WorkflowError, match="in the last hour"):
        workflow.post_reply(ticket, body="Fourth", author_name="Ann")
    for n in range(6):
        workflow.post_reply(ticket, body=f"Staff {n}", author=agent, by_staff=True)
    assert ticket.messages.filter(is_staff_reply=True).count() == 6


def test_uploads_are_limited_per_hour_and_per_ticket(helpdesk, department, settings):
    settings.WAGTAIL_TICKETS_CUSTOMER_REPLIES_PER_MINUTE = 0
    settings.WAGTAIL_TICKETS_CUSTOMER_UPLOAD_MB_PER_HOUR = 1
    settings.WAGTAIL_TICKETS_TICKET_UPLOAD_MB = 2
    ticket, raw = factories.open_ticket_with_token(department)
    client = _link_holder(helpdesk, raw)
    url = f"{helpdesk.url}tickets/{ticket.code}/"
    half = b"x" * (700 * KB) + b"\n"  # two in an hour pass 1 MB, three pass 2 MB
    assert _reply(client, url, "One", [factories.upload("a.txt", half)]).status_code == 302
    assert Attachment.objects.count() == 1
    refused = _reply(client, url, "Two", [factories.upload("b.txt", half)])
    assert refused.status_code == 429
    assert "in an hour" in _errors(refused)
    assert Attachment.objects.count() == 1
    # An hour later the hourly allowance is back, but the ticket's total is not.
    Attachment.objects.update(created_at=ticket.created_at.replace(year=2000))
    assert _reply(client, url, "Two", [factories.upload("b.txt", half)]).status_code == 302
    Attachment.objects.update(created_at=ticket.created_at.replace(year=2000))
    refused = _reply(client, url, "Three", [factories.upload("c.txt", half)])
    assert refused.status_code == 429
    assert "the most one ticket can hold" in _errors(refused)
    assert Attachment.objects.count() == 2


# --- the database cannot answer ---------------------------------------------------------


def test_a_locked_database_answers_503_with_retry_after(
    client, department, site_settings, monkeypatch
):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(workflow, "open_ticket", locked)
    response = client.post(department.url, _basic())
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "try again" in response.content.decode()


def test_errors_after_the_view_are_caught_too(helpdesk, monkeypatch):
    """A session that cannot be saved (in SessionMiddleware, below ours)."""
    ticket, raw = factories.open_ticket_with_token(
        factories.make_department(helpdesk, title="Desk", prefix="DSK")
    )

    def locked(self, *args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(SessionStore, "save", locked)
    client = Client(raise_request_exception=False)
    response = client.get(f"{helpdesk.url}access/{raw}/")
    assert response.status_code == 503
    assert response["Retry-After"]


def test_other_database_errors_stay_500(client, department, site_settings, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("no such column: wagtail_tickets_ticket.nope")

    monkeypatch.setattr(workflow, "open_ticket", broken)
    client.raise_request_exception = False
    assert client.post(department.url, _basic()).status_code == 500


def test_which_errors_mean_try_again():
    class PgError(Exception):
        __module__ = "psycopg"

        def __init__(self, sqlstate):
            super().__init__("boom")
            self.sqlstate = sqlstate

    def wrapped(cause):
        error = OperationalError(str(cause))
        error.__cause__ = cause
        return error

    assert database_unavailable(OperationalError("database is locked"))
    assert database_unavailable(wrapped(PgError("57P01")))  # admin shutdown
    assert database_unavailable(wrapped(PgError("08006")))  # connection failure
    assert database_unavailable(wrapped(PgError(None)))  # could not connect
    assert not database_unavailable(wrapped(PgError("42P01")))  # undefined table
    assert not database_unavailable(OperationalError("no such table: x"))
    assert not database_unavailable(ValueError("database is locked"))
