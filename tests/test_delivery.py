"""Delivery of notifications: after the response, grouped per burst, one task per merge."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.test.client import ClientHandler
from django.utils import timezone

from tests import factories
from wagtail_tickets import background, digests, tasks, workflow
from wagtail_tickets.models import ReplyDigest, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def staffed(department, agent):
    """The agent is told about the department's new tickets and replies."""
    return department


def staff_mails():
    return [m for m in mail.outbox if "agent@example.com" in m.to]


def reply(ticket, commit, body):
    with commit():
        return workflow.post_reply(
            ticket, body=body, author_name="Alice", author_email="alice@example.com"
        )


# --- after the response ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_mail_is_sent_after_the_response_not_inside_it(monkeypatch, site_settings, department):
    """With the default in-process backend the visitor's response is complete before any
    mail is rendered; the mail still goes out before the request's process moves on."""
    seen = []
    original = ClientHandler.get_response

    def get_response(self, request):
        response = original(self, request)
        seen.append(len(mail.outbox))  # the response is ready, close() not yet called
        return response

    monkeypatch.setattr(ClientHandler, "get_response", get_response)
    mail.outbox.clear()
    response = Client().post(
        department.url,
        {
            "name": "Ann",
            "email": "ann@example.com",
            "subject": "After the response",
            "message": "Hello",
        },
    )
    assert response.status_code == 302
    assert seen == [0], "no mail was sent while the response was being made"
    assert [m for m in mail.outbox if m.to == ["ann@example.com"]], "sent right after it"


def test_outside_a_request_tasks_run_at_once(department, commit):
    mail.outbox.clear()
    with commit():
        factories.open_ticket(department, name="Ann", email="ann@example.com")
    assert [m for m in mail.outbox if m.to == ["ann@example.com"]]


def test_a_failing_task_is_logged_never_raised(caplog):
    class Boom:
        name = "boom"

        def get_backend(self):
            from django_tasks import task_backends

            return task_backends["default"]

        def enqueue(self, **kwargs):
            raise RuntimeError("queue down")

    background._on_request_started()
    background.enqueue(Boom(), x=1)
    background._on_request_finished()  # no exception
    assert "queue down" in caplog.text


def test_worker_backends_are_enqueued_at_once(settings, ticket):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    default_task_backend.clear()
    background._on_request_started()
    try:
        background.enqueue(tasks.send_notification, event="assigned", ticket_id=ticket.pk)
        assert len(default_task_backend.results) == 1, "not held back for a real queue"
    finally:
        background._on_request_finished()


# --- customer reply bursts ------------------------------------------------------------


def test_a_burst_of_replies_gives_one_mail_then_one_digest(staffed, ticket, commit):
    mail.outbox.clear()
    reply(ticket, commit, "First: the printer is on fire")
    assert len(staff_mails()) == 1, "the first reply is mailed at once"
    for n in range(2, 6):
        reply(ticket, commit, f"Reply number {n}")
    assert len(staff_mails()) == 1, "later replies in the window wait for the digest"
    digest = ReplyDigest.objects.get(ticket=ticket)
    assert digest.due_at == digest.window_ends_at

    # The window closes.
    ReplyDigest.objects.filter(ticket=ticket).update(
        due_at=timezone.now() - timedelta(seconds=1),
        window_ends_at=timezone.now() - timedelta(seconds=1),
    )
    assert digests.send_due() == 1
    mails = staff_mails()
    assert len(mails) == 2
    grouped = mails[1]
    assert "4 customer replies" in grouped.subject
    for n in range(2, 6):
        assert f"Reply number {n}" in grouped.body
    assert grouped.body.index("Reply number 2") < grouped.body.index("Reply number 5")
    assert "First: the printer" not in grouped.body, "already mailed"
    assert digests.send_due() == 0, "sent once"


def test_a_reply_after_the_window_is_mailed_at_once(staffed, ticket, commit):
    mail.outbox.clear()
    reply(ticket, commit, "One")
    ReplyDigest.objects.filter(ticket=ticket).update(
        window_ends_at=timezone.now() - timedelta(seconds=1)
    )
    reply(ticket, commit, "Two")
    assert len(staff_mails()) == 2
    assert "Customer replied" in staff_mails()[1].subject


def test_window_zero_mails_every_reply(settings, staffed, ticket, commit):
    settings.WAGTAIL_TICKETS_REPLY_DIGEST_SECONDS = 0
    mail.outbox.clear()
    for n in range(3):
        reply(ticket, commit, f"Reply {n}")
    assert len(staff_mails()) == 3


def test_a_worker_backend_schedules_the_digest_for_the_window_end(
    settings, staffed, ticket, commit
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    default_task_backend.clear()
    mail.outbox.clear()
    # The queue holds the tasks; run each as a worker would.
    reply(ticket, commit, "One")
    reply(ticket, commit, "Two")
    reply(ticket, commit, "Three")
    for result in list(default_task_backend.results):
        if result.task.name.endswith("notify_customer_reply"):
            result.task.call(*result.args, **result.kwargs)
    assert len(staff_mails()) == 1
    scheduled = [
        r for r in default_task_backend.results if r.task.name.endswith("send_reply_digest")
    ]
    assert len(scheduled) == 1, "one digest task for the window, however many replies"
    window_end = ReplyDigest.objects.get(ticket=ticket).window_ends_at
    assert scheduled[0].task.run_after == window_end
    scheduled[0].task.call(*scheduled[0].args, **scheduled[0].kwargs)
    mails = staff_mails()
    assert len(mails) == 2 and "2 customer replies" in mails[1].subject
    assert "Two" in mails[1].body and "Three" in mails[1].body


def test_the_next_write_sends_due_digests_with_the_immediate_backend(staffed, ticket, commit):
    mail.outbox.clear()
    reply(ticket, commit, "One")
    reply(ticket, commit, "Two")
    ReplyDigest.objects.filter(ticket=ticket).update(due_at=timezone.now() - timedelta(seconds=1))
    # Any helpdesk write: its work runs after its response, then the due digests.
    background._on_request_started()
    background.enqueue(tasks.index_ticket, ticket_id=ticket.pk)
    background._on_request_finished()
    assert len(staff_mails()) == 2 and "Two" in staff_mails()[1].body


def test_send_digests_command(staffed, ticket, commit):
    mail.outbox.clear()
    reply(ticket, commit, "One")
    reply(ticket, commit, "Two")
    call_command("helpdesk_send_digests", stdout=open("/dev/null", "w"))
    assert len(staff_mails()) == 1, "not due yet"
    ReplyDigest.objects.filter(ticket=ticket).update(due_at=timezone.now() - timedelta(seconds=1))
    call_command("helpdesk_send_digests", stdout=open("/dev/null", "w"))
    assert len(staff_mails()) == 2


def test_staff_replies_and_notes_do_not_touch_the_digest(staffed, ticket, agent, commit):
    mail.outbox.clear()
    with commit():
        workflow.post_reply(ticket, body="Answer", author=agent, by_staff=True)
        workflow.post_reply(ticket, body="Note", author=agent, by_staff=True, is_internal=True)
    assert not ReplyDigest.objects.exists()
    assert not staff_mails()


# --- merge ----------------------------------------------------------------------------


def test_merge_tells_each_customer_once_in_one_task(
    department, customer, agent, commit, monkeypatch
):
    target = factories.open_ticket(department, customer=customer, subject="Target")
    sources = [
        factories.open_ticket(department, customer=customer, subject=f"Source {n}")
        for n in range(4)
    ]
    enqueued = []
    original = background.enqueue

    def counting(task, **kwargs):
        enqueued.append(task.name)
        return original(task, **kwargs)

    monkeypatch.setattr(background, "enqueue", counting)
    mail.outbox.clear()
    # Merging takes "change ticket fields" (workflow/rules.py).
    merger = factories.grant(agent, "change_ticket_fields")
    with commit():
        workflow.merge(target, sources, user=merger)
    assert enqueued == [tasks.send_merge_notifications.name]
    to_customer = [m for m in mail.outbox if customer.email in m.to]
    assert len(to_customer) == 1
    body = to_customer[0].body
    assert target.code in to_customer[0].subject
    for source in sources:
        assert source.code in body
    assert "/access/" in body, "a link to the ticket the conversation continues in"
    for source in sources:
        source.refresh_from_db()
        assert source.status.kind == Status.Kind.CLOSED
