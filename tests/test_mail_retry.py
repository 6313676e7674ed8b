"""Mail the server refused for now is sent again later, and never twice."""

import re
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client
from django.utils import timezone
from django_tasks import task_backends

from tests import factories
from wagtail_tickets import digests, mail_retry, tasks, workflow
from wagtail_tickets.models import AccessLink, Ticket

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


class Refusing(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


class RefusingAfterOne(LocmemBackend):
    """Takes the first message, then the server goes away."""

    def send_messages(self, messages):
        if len(mail.outbox) >= 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class Rejecting(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPDataError(554, b"Message rejected")


@pytest.fixture
def queue(settings):
    settings.TASKS = DUMMY
    backend = task_backends["default"]
    backend.clear()
    yield backend
    backend.clear()


@pytest.fixture
def staffed_ticket(department, agent, settings):
    settings.TASKS = DUMMY
    ticket = factories.open_ticket(department, name="Ann", email="ann@example.com")
    task_backends["default"].clear()
    mail.outbox.clear()
    return ticket


def opened(ticket):
    return {
        "event": "ticket_opened",
        "ticket_id": ticket.pk,
        "message_id": ticket.messages.first().pk,
    }


def retries(queue):
    # Changing settings.TASKS makes a new backend: read the one in use now.
    return [
        r
        for r in task_backends["default"].results
        if r.task.name in ("send_notification", "mail_customer_replies")
    ]


def test_a_refused_connection_is_retried_later(queue, staffed_ticket, settings):
    settings.EMAIL_BACKEND = "tests.test_mail_retry.Refusing"
    before = timezone.now()
    outcome = tasks.send_notification.call(**opened(staffed_ticket))
    assert outcome == {"retried": 1, "error": "ConnectionRefusedError"}
    [retry] = retries(queue)
    assert retry.kwargs["attempt"] == 1
    assert retry.kwargs["sent"] == []
    assert retry.task.run_after >= before + timedelta(seconds=mail_retry.RETRY_DELAYS[0])


def test_a_retry_skips_the_mails_already_handed_over(queue, staffed_ticket, settings):
    settings.EMAIL_BACKEND = "tests.test_mail_retry.RefusingAfterOne"
    tasks.send_notification.call(**opened(staffed_ticket))
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    [retry] = retries(queue)
    assert retry.kwargs["sent"] == ["ticket_opened_customer:ann@example.com"]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tasks.send_notification.call(**retry.kwargs)
    recipients = [m.to for m in mail.outbox]
    assert recipients.count(["ann@example.com"]) == 1, "the customer is not mailed twice"
    assert ["agent@example.com"] in recipients, "the staff's mail went out on the retry"


def test_the_delays_grow_and_the_last_attempt_gives_up(queue, staffed_ticket, settings):
    settings.EMAIL_BACKEND = "tests.test_mail_retry.Refusing"
    assert list(mail_retry.RETRY_DELAYS) == sorted(mail_retry.RETRY_DELAYS)
    last = len(mail_retry.RETRY_DELAYS)
    with pytest.raises(ConnectionRefusedError):
        tasks.send_notification.call(**opened(staffed_ticket), attempt=last)
    assert not retries(queue)


def test_a_permanent_refusal_is_not_retried(queue, staffed_ticket, settings):
    settings.EMAIL_BACKEND = "tests.test_mail_retry.Rejecting"
    with pytest.raises(smtplib.SMTPDataError):
        tasks.send_notification.call(**opened(staffed_ticket))
    assert not retries(queue)


def test_without_a_worker_the_error_is_raised_as_before(department, agent, settings):
    # The in-process backend cannot run a task later; background.enqueue logs the error.
    ticket = factories.open_ticket(department, name="Ann", email="ann@example.com")
    settings.EMAIL_BACKEND = "tests.test_mail_retry.Refusing"
    with pytest.raises(ConnectionRefusedError):
        tasks.send_notification.call(**opened(ticket))


def test_the_staff_mail_about_a_customer_reply_is_retried(queue, staffed_ticket, settings):
    settings.WAGTAIL_TICKETS_REPLY_DIGEST_SECONDS = 300
    reply = workflow.post_reply(
        staffed_ticket,
        body="Still broken, see the log",
        author_name="Ann",
        author_email="ann@example.com",
    )
    task_backends["default"].clear()
    settings.EMAIL_BACKEND = "tests.test_mail_retry.Refusing"
    assert digests.customer_replied(staffed_ticket.pk, reply.pk) == 0
    [retry] = retries(queue)
    assert retry.task.name == "mail_customer_replies"
    assert retry.kwargs["message_ids"][-1] == reply.pk

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    tasks.mail_customer_replies.call(**retry.kwargs)
    [sent] = mail.outbox
    assert sent.to == ["agent@example.com"]
    assert "Still broken, see the log" in sent.body


def test_the_merge_mails_are_retried_without_repeating_the_one_that_went(
    queue, department, agent, settings
):
    """The merge task mails each customer address once; the server going away after
    the first mail leaves the second to a retry, which skips the first."""
    settings.TASKS = DUMMY
    customer = factories.make_user("ann", email="ann@example.com")
    target = factories.open_ticket(department, customer=customer)
    sources = [factories.open_ticket(department, customer=customer) for _n in range(2)]
    # One customer who wrote from two addresses over time: a mail to each.
    Ticket.objects.filter(pk=sources[1].pk).update(customer_email="ann.old@example.com")
    workflow.merge(target, sources, user=None)
    task_backends["default"].clear()
    mail.outbox.clear()
    settings.EMAIL_BACKEND = "tests.test_mail_retry.RefusingAfterOne"
    arguments = {"target_id": target.pk, "source_ids": [s.pk for s in sources]}
    outcome = tasks.send_merge_notifications.call(**arguments)
    assert outcome == {"retried": 1, "error": "SMTPServerDisconnected"}
    [retry] = [
        r for r in task_backends["default"].results if r.task.name == "send_merge_notifications"
    ]
    assert retry.kwargs["attempt"] == 1 and len(retry.kwargs["sent"]) == 1
    first = mail.outbox[0].to

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tasks.send_merge_notifications.call(**retry.kwargs)
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["ann.old@example.com", "ann@example.com"], (first, recipients)


def test_find_my_ticket_links_are_issued_again_when_the_mail_goes_at_last(
    queue, helpdesk, department, settings
):
    """A lookup ("e-mail me my link") while the mail server is down: no link exists
    until one is handed over, and the retry mails links that open the ticket."""
    ticket = factories.open_ticket(department, name="Ann", email="ann@example.com")
    mail.outbox.clear()
    settings.EMAIL_BACKEND = "tests.test_mail_retry.Refusing"
    arguments = {"email": "ann@example.com", "helpdesk_id": helpdesk.pk, "language": "en"}
    outcome = tasks.send_access_links.call(**arguments)
    assert outcome == {"retried": 1, "error": "ConnectionRefusedError"}
    assert not AccessLink.objects.exists()
    [retry] = [r for r in task_backends["default"].results if r.task.name == "send_access_links"]
    assert retry.kwargs == {**arguments, "attempt": 1, "sent": []}

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tasks.send_access_links.call(**retry.kwargs)
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    [link] = re.findall(r"https?://[^\s<>\"]+/access/[A-Za-z0-9_:-]+/", message.body)
    opened = Client().get(link, follow=True)
    assert opened.status_code == 200
    assert ticket.code in opened.content.decode()
    assert AccessLink.objects.filter(ticket=ticket).count() == 1


def test_the_answer_to_an_unknown_sender_waits_for_the_mail_server(queue, department, settings):
    settings.EMAIL_BACKEND = "tests.test_mail_retry.Refusing"
    arguments = {
        "address": "stranger@example.net",
        "department_id": department.pk,
        "subject": "Help",
        "in_reply_to": "<abc@example.net>",
        "language": "en",
    }
    outcome = tasks.send_mail_invitation.call(**arguments)
    assert outcome == {"retried": 1, "error": "ConnectionRefusedError"}
    [retry] = [r for r in task_backends["default"].results if r.task.name == "send_mail_invitation"]
    assert retry.kwargs["attempt"] == 1

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tasks.send_mail_invitation.call(**retry.kwargs)
    [message] = mail.outbox
    assert message.to == ["stranger@example.net"]
    assert message.extra_headers["In-Reply-To"] == "<abc@example.net>"


def _token_in_run(key, seed):
    with mail_retry.journal(lambda keys: None, seed=seed):
        return mail_retry.run(tasks.send_notification, {}, lambda: mail_retry.message_token(key))


def test_a_workers_task_names_a_mail_the_same_in_every_run():
    """What lets a task run again after a kill send the mail in flight as the same message."""
    first = _token_in_run("ticket_opened_customer:ann@example.com", "task-1")
    assert re.fullmatch(r"[0-9a-f]{24}", first)
    assert _token_in_run("ticket_opened_customer:ann@example.com", "task-1") == first
    # Another mail, or the same mail of another task, has a Message-ID of its own.
    assert _token_in_run("ticket_opened_staff:bob@example.com", "task-1") != first
    assert _token_in_run("ticket_opened_customer:ann@example.com", "task-2") != first


def test_mail_outside_a_workers_task_gets_a_random_message_id():
    key = "ticket_opened_customer:ann@example.com"
    assert mail_retry.message_token(key) != mail_retry.message_token(key)
    # A task that is not one of run's (no key per mail) under the worker: random too.
    with mail_retry.journal(lambda keys: None, seed="task-1"):
        assert mail_retry.message_token(key) != mail_retry.message_token(key)
