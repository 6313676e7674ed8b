"""The workflow: codes, denormalised facts, status moves, audit log, signals, tokens."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests import factories
from wagtail_tickets import conf, signals, workflow
from wagtail_tickets.models import (
    AccessLink,
    DepartmentCounter,
    Message,
    Priority,
    Status,
    Ticket,
    TicketLogEntry,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(department):
    """An agent of the department who may also assign and set any status (workflow.rules)."""
    user = factories.make_agent("agent", departments=[department])
    return factories.grant(user, "assign_ticket", "change_ticket_fields")


T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def status(kind):
    found = Status.first_of_kind(kind)
    assert found is not None, f"no seeded status of kind {kind}"
    return found


def fresh(ticket):
    return Ticket.objects.select_related("status", "priority").get(pk=ticket.pk)


def reply(ticket, user, body="A reply.", **kwargs):
    return workflow.post_reply(ticket, body=body, author=user, **kwargs)


def staff_reply(ticket, agent, body="We are looking into it.", **kwargs):
    return workflow.post_reply(ticket, body=body, author=agent, by_staff=True, **kwargs)


def note(ticket, agent, body="Internal: probably the fuser.", **kwargs):
    return workflow.post_reply(
        ticket, body=body, author=agent, by_staff=True, is_internal=True, **kwargs
    )


def sla_priority(first=60, resolution=600, name="SLA test"):
    return Priority.objects.create(
        name=name, sort_order=99, first_response_minutes=first, resolution_minutes=resolution
    )


# --- codes -----------------------------------------------------------------------------


def test_code_is_prefix_and_six_digit_sequence(department):
    first = factories.open_ticket(department)
    second = factories.open_ticket(department)
    assert re.fullmatch(r"TECH-\d{6}", first.code)
    assert first.code == "TECH-000001"
    assert second.code == "TECH-000002"
    assert fresh(second).code == "TECH-000002"


def test_code_is_never_reused_after_deleting_the_newest_ticket(department):
    factories.open_ticket(department)
    newest = factories.open_ticket(department)
    assert newest.code == "TECH-000002"
    newest.delete()
    assert factories.open_ticket(department).code == "TECH-000003"
    Ticket.objects.all().delete()
    assert factories.open_ticket(department).code == "TECH-000004"


def test_departments_with_different_prefixes_have_independent_sequences(helpdesk, department):
    sales = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    codes = [
        factories.open_ticket(department).code,
        factories.open_ticket(sales).code,
        factories.open_ticket(sales).code,
        factories.open_ticket(department).code,
        factories.open_ticket(sales).code,
    ]
    assert codes == ["TECH-000001", "SAL-000001", "SAL-000002", "TECH-000002", "SAL-000003"]
    counters = dict(DepartmentCounter.objects.values_list("prefix", "last_number"))
    assert counters == {"TECH": 2, "SAL": 3}


def test_departments_sharing_a_prefix_share_one_sequence(helpdesk, department):
    twin = factories.make_department(helpdesk, title="Tech two", prefix="TECH")
    codes = [factories.open_ticket(d).code for d in (department, twin, department)]
    assert codes == ["TECH-000001", "TECH-000002", "TECH-000003"]


def test_publishing_an_old_page_revision_does_not_rewind_the_sequence(department):
    factories.open_ticket(department)
    factories.open_ticket(department)
    oldest = department.revisions.order_by("created_at", "pk").first()
    oldest.publish()
    assert factories.open_ticket(department).code == "TECH-000003"


# --- denormalised facts ------------------------------------------------------------------


def test_a_new_ticket_has_its_facts(department, customer):
    priority = sla_priority(first=90, resolution=900)
    ticket = factories.open_ticket(department, customer=customer, priority=priority, at=T0)
    ticket = fresh(ticket)
    assert ticket.created_at == T0
    assert ticket.message_count == 1
    assert ticket.messages.count() == 1
    assert ticket.last_message_at == T0
    assert ticket.last_customer_message_at == T0
    assert ticket.first_response_at is None
    assert ticket.resolved_at is None and ticket.closed_at is None
    assert ticket.time_spent_minutes == 0
    assert ticket.status == Status.default()
    assert ticket.due_at == at(90)
    assert ticket.customer == customer
    assert ticket.submitted_logged_in is True


def test_first_response_only_on_the_first_public_staff_reply(department, customer, agent):
    ticket = factories.open_ticket(department, customer=customer, at=T0)

    note(ticket, agent, time_spent_minutes=5, at=at(10))
    saved = fresh(ticket)
    assert saved.first_response_at is None
    assert saved.message_count == 2
    assert saved.last_message_at == T0, "an internal note is not a reply the customer sees"
    assert saved.time_spent_minutes == 5

    reply(ticket, customer, at=at(20))
    saved = fresh(ticket)
    assert saved.first_response_at is None
    assert saved.last_customer_message_at == at(20)
    assert saved.last_message_at == at(20)

    staff_reply(ticket, agent, time_spent_minutes=15, at=at(30))
    saved = fresh(ticket)
    assert saved.first_response_at == at(30)
    assert saved.last_message_at == at(30)
    assert saved.last_customer_message_at == at(20)
    assert saved.time_spent_minutes == 20

    staff_reply(ticket, agent, body="One more thing.", time_spent_minutes=7, at=at(40))
    saved = fresh(ticket)
    assert saved.first_response_at == at(30), "later replies keep the first response time"
    assert saved.time_spent_minutes == 27
    assert saved.message_count == 5 == Message.objects.filter(ticket=ticket).count()
    # The caller's instance is brought up to date as well.
    assert ticket.message_count == 5
    assert ticket.time_spent_minutes == 27
    assert ticket.first_response_at == at(30)


def test_resolved_and_closed_timestamps_are_set_and_cleared_on_reopen(department, agent):
    ticket = factories.open_ticket(department, at=T0)

    assert workflow.change_status(ticket, status("resolved"), user=agent, at=at(100)) is True
    saved = fresh(ticket)
    assert saved.resolved_at == at(100)
    assert saved.closed_at is None

    assert workflow.close(ticket, user=agent, at=at(200)) is True
    saved = fresh(ticket)
    assert saved.closed_at == at(200)
    assert saved.resolved_at == at(100), "closing keeps the time it was resolved"

    assert workflow.reopen(ticket, user=agent, at=at(300)) is True
    saved = fresh(ticket)
    assert saved.status.kind == Status.Kind.OPEN
    assert saved.resolved_at is None
    assert saved.closed_at is None


def test_closing_an_unresolved_ticket_sets_closed_and_resolved(department):
    ticket = factories.open_ticket(department, at=T0)
    workflow.close(ticket, at=at(50))
    saved = fresh(ticket)
    assert saved.closed_at == at(50)
    assert saved.resolved_at == at(50)
    assert saved.due_at is None


def test_due_at_follows_first_response_then_resolution_target(department, agent):
    priority = sla_priority(first=60, resolution=600)
    ticket = factories.open_ticket(department, priority=priority, at=T0)
    assert fresh(ticket).due_at == at(60)

    note(ticket, agent, at=at(5))
    assert fresh(ticket).due_at == at(60), "a note is not a first response"

    staff_reply(ticket, agent, at=at(30))
    assert fresh(ticket).due_at == at(600)

    workflow.change_status(ticket, status("resolved"), at=at(100))
    assert fresh(ticket).due_at is None

    workflow.reopen(ticket, at=at(150))
    assert fresh(ticket).due_at == at(600)

    workflow.close(ticket, at=at(200))
    assert fresh(ticket).due_at is None


def test_due_at_uses_the_department_default_priority(department):
    department.default_priority = sla_priority(first=None, resolution=120, name="Slow lane")
    department.save()
    ticket = factories.open_ticket(department, at=T0)
    saved = fresh(ticket)
    assert saved.priority == department.default_priority
    assert saved.due_at == at(120)


def test_due_at_is_empty_without_targets(department):
    priority = sla_priority(first=None, resolution=None, name="No SLA")
    ticket = factories.open_ticket(department, priority=priority, at=T0)
    assert fresh(ticket).due_at is None


# --- replies and status moves ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["resolved", "closed"])
def test_customer_reply_reopens_an_archived_ticket(department, customer, kind):
    ticket = factories.open_ticket(department, customer=customer, at=T0)
    workflow.change_status(ticket, status(kind), at=at(10))
    assert fresh(ticket).status.is_archived

    reply(ticket, customer, body="It is broken again.", at=at(20))
    saved = fresh(ticket)
    assert saved.status.kind == Status.Kind.OPEN
    assert saved.resolved_at is None and saved.closed_at is None
    assert saved.due_at is not None
    assert ticket.status.kind == Status.Kind.OPEN


def test_customer_reply_moves_waiting_to_open(department, customer, agent):
    ticket = factories.open_ticket(department, customer=customer)
    staff_reply(ticket, agent)
    assert fresh(ticket).status.kind == Status.Kind.WAITING
    reply(ticket, customer, body="Here are the logs.")
    assert fresh(ticket).status.kind == Status.Kind.OPEN


def test_customer_reply_to_a_new_ticket_keeps_it_new(department, customer):
    ticket = factories.open_ticket(department, customer=customer)
    reply(ticket, customer, body="Forgot to say: it beeps.")
    assert fresh(ticket).status.kind == Status.Kind.NEW


def test_anonymous_customer_reply_is_recorded_with_the_customer_name(anon_ticket):
    message = workflow.post_reply(
        anon_ticket, body="Any news?", author_name="Ann Onymous", author_email="ann@example.com"
    )
    message.refresh_from_db()
    assert message.author is None
    assert message.display_author == "Ann Onymous"
    assert message.is_staff_reply is False and message.is_internal is False
    assert fresh(anon_ticket).message_count == 2


def test_public_staff_reply_moves_to_waiting_for_customer(ticket, agent):
    message = staff_reply(ticket, agent)
    assert fresh(ticket).status.kind == Status.Kind.WAITING
    message.refresh_from_db()
    assert message.is_staff_reply and not message.is_internal
    assert message.author == agent
    assert message.source == Message.Source.STAFF


def test_staff_reply_can_set_a_status(ticket, agent):
    staff_reply(ticket, agent, body="Fixed in 2.1.", new_status=status("resolved"))
    saved = fresh(ticket)
    assert saved.status.kind == Status.Kind.RESOLVED
    assert saved.resolved_at is not None


@pytest.mark.parametrize("kind", ["resolved", "closed"])
def test_staff_reply_to_an_archived_ticket_keeps_its_status(ticket, agent, kind):
    workflow.change_status(ticket, status(kind))
    staff_reply(ticket, agent, body="For the record: fixed in 2.1.")
    saved = fresh(ticket)
    assert saved.status.kind == kind
    assert saved.due_at is None


def test_internal_note_keeps_the_status(ticket, agent):
    before = fresh(ticket).status
    message = note(ticket, agent)
    assert fresh(ticket).status == before
    message.refresh_from_db()
    assert message.is_internal is True


def test_internal_note_by_non_staff_is_refused(ticket, customer):
    with pytest.raises(workflow.WorkflowError):
        workflow.post_reply(ticket, body="Secret?", author=customer, is_internal=True)
    saved = fresh(ticket)
    assert saved.message_count == 1
    assert not Message.objects.filter(ticket=ticket, is_internal=True).exists()
    actions = TicketLogEntry.objects.for_instance(ticket).values_list("action", flat=True)
    assert "wagtail_tickets.note.create" not in actions


def test_close_a_closed_ticket_is_an_error(ticket):
    workflow.close(ticket)
    with pytest.raises(workflow.WorkflowError):
        workflow.close(ticket)
    with pytest.raises(workflow.WorkflowError):
        workflow.close(fresh(ticket))


def test_close_and_reopen_check_the_saved_state_not_a_stale_copy(ticket):
    stale = Ticket.objects.get(pk=ticket.pk)
    workflow.close(ticket)
    with pytest.raises(workflow.WorkflowError):
        workflow.close(stale)
    workflow.reopen(ticket)
    stale = Ticket.objects.get(pk=ticket.pk)
    workflow.close(ticket)
    workflow.reopen(ticket)
    # ``stale`` still says closed, but the ticket is open again.
    with pytest.raises(workflow.WorkflowError):
        workflow.reopen(stale)
    assert fresh(ticket).status.kind == Status.Kind.OPEN


@pytest.mark.parametrize("kind", ["new", "open", "waiting"])
def test_reopen_an_active_ticket_is_an_error(ticket, kind):
    if fresh(ticket).status.kind != kind:
        workflow.change_status(ticket, status(kind))
    with pytest.raises(workflow.WorkflowError):
        workflow.reopen(fresh(ticket))
    assert fresh(ticket).status.kind == kind


def test_change_status_returns_false_when_unchanged(ticket, agent):
    entries_before = TicketLogEntry.objects.for_instance(ticket).count()
    assert workflow.change_status(ticket, fresh(ticket).status, user=agent) is False
    assert TicketLogEntry.objects.for_instance(ticket).count() == entries_before
    assert workflow.change_status(ticket, status("open"), user=agent) is True
    assert workflow.change_status(ticket, status("open"), user=agent) is False
    assert fresh(ticket).status.kind == Status.Kind.OPEN


# --- audit log ---------------------------------------------------------------------------


class Log:
    """New audit entries of one ticket since the last look."""

    def __init__(self, ticket):
        self.ticket = ticket
        self.last_pk = 0

    def new(self):
        entries = list(TicketLogEntry.objects.for_instance(self.ticket).order_by("pk"))
        new = [e for e in entries if e.pk > self.last_pk]
        if entries:
            self.last_pk = entries[-1].pk
        return new

    def new_actions(self):
        return {(e.action, e.user_id) for e in self.new()}


def test_every_action_writes_the_audit_log_with_its_user(department, customer, agent):
    ticket = factories.open_ticket(department, customer=customer, at=T0)
    log = Log(ticket)
    created = log.new()
    assert [(e.action, e.user_id) for e in created] == [
        ("wagtail_tickets.ticket.create", customer.pk)
    ]
    assert created[0].timestamp == T0
    assert created[0].data["code"] == ticket.code

    reply(ticket, customer, at=at(1))
    assert log.new_actions() == {("wagtail_tickets.message.create", customer.pk)}

    note(ticket, agent, at=at(2))
    assert log.new_actions() == {("wagtail_tickets.note.create", agent.pk)}

    staff_reply(ticket, agent, at=at(3))
    entries = log.new()
    assert {(e.action, e.user_id) for e in entries} == {
        ("wagtail_tickets.message.create", agent.pk),
        ("wagtail_tickets.ticket.status", agent.pk),
    }
    moved = [e for e in entries if e.action == "wagtail_tickets.ticket.status"][0]
    assert moved.data["old"]["name"] == "New"
    assert moved.data["new"]["name"] == "Waiting for customer"
    assert moved.timestamp == at(3)

    workflow.change_status(ticket, status("resolved"), user=agent, at=at(4))
    assert log.new_actions() == {("wagtail_tickets.ticket.resolve", agent.pk)}

    workflow.reopen(ticket, user=customer, at=at(5))
    assert log.new_actions() == {("wagtail_tickets.ticket.reopen", customer.pk)}

    workflow.close(ticket, user=agent, at=at(6))
    assert log.new_actions() == {("wagtail_tickets.ticket.close", agent.pk)}

    # A customer's reply to a closed ticket reopens it, and the log says so.
    reply(ticket, customer, at=at(7))
    assert log.new_actions() == {
        ("wagtail_tickets.message.create", customer.pk),
        ("wagtail_tickets.ticket.reopen", customer.pk),
    }


def test_anonymous_ticket_is_logged_without_a_user(anon_ticket):
    entries = list(TicketLogEntry.objects.for_instance(anon_ticket))
    assert [(e.action, e.user_id) for e in entries] == [("wagtail_tickets.ticket.create", None)]


def test_log_entries_are_labelled(ticket, agent):
    """The actions are registered, so the history tab shows words, not action ids."""
    workflow.close(ticket, user=agent)
    labels = {e.action: e.message for e in TicketLogEntry.objects.for_instance(ticket)}
    for action, label in labels.items():
        assert label and label != action, action


# --- signals -------------------------------------------------------------------------------


@pytest.fixture
def received():
    """Every workflow signal as (name, kwargs), in the order sent."""
    got = []
    receivers = {}
    for name in ("ticket_opened", "reply_posted", "status_changed"):

        def receiver(sender, _name=name, **kwargs):
            kwargs.pop("signal", None)
            got.append((_name, {"sender": sender, **kwargs}))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver, weak=False)
    yield got
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def test_ticket_opened_is_sent_after_commit_with_its_kwargs(
    department, customer, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket, raw_token = factories.open_ticket_with_token(
            department,
            customer=customer,
            customer_name="Alice",
            customer_email=customer.email,
        )
        assert received == [], "nothing may be sent before the transaction commits"
    assert [name for name, _kwargs in received] == ["ticket_opened"]
    kwargs = received[0][1]
    assert kwargs["sender"] is Ticket
    assert kwargs["ticket"].pk == ticket.pk
    assert kwargs["message"] == Message.objects.get(ticket=ticket)
    assert kwargs["raw_token"] == raw_token
    assert fresh(ticket).check_access_token(kwargs["raw_token"])


def test_reply_and_status_signals_after_commit(
    ticket, agent, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = staff_reply(ticket, agent)
        assert received == []
    assert [name for name, _kwargs in received] == ["reply_posted", "status_changed"]
    reply_kwargs = received[0][1]
    assert reply_kwargs["ticket"].pk == ticket.pk
    assert reply_kwargs["message"] == message
    status_kwargs = received[1][1]
    assert status_kwargs["ticket"].pk == ticket.pk
    assert status_kwargs["old_status"].kind == Status.Kind.NEW
    assert status_kwargs["new_status"].kind == Status.Kind.WAITING
    assert status_kwargs["user"] == agent

    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.close(ticket, user=agent)
        assert received == []
    assert [name for name, _kwargs in received] == ["status_changed"]
    kwargs = received[0][1]
    assert kwargs["old_status"].kind == Status.Kind.WAITING
    assert kwargs["new_status"].kind == Status.Kind.CLOSED
    assert kwargs["user"] == agent

    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(workflow.WorkflowError):
            workflow.close(ticket, user=agent)
        assert workflow.change_status(ticket, status("closed"), user=agent) is False
    assert received == [], "nothing happened, so nothing is announced"


def test_no_signal_while_the_transaction_is_open(department, received):
    ticket = factories.open_ticket(department)
    workflow.close(ticket)
    # The test's transaction never commits, so nobody has been told anything.
    assert received == []


def test_no_signal_when_the_transaction_rolls_back(
    department, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                factories.open_ticket(department)
                raise RuntimeError("the caller failed after opening the ticket")
    assert received == []
    assert not Ticket.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_signals_wait_for_a_real_commit(received):
    helpdesk = factories.make_helpdesk()
    department = factories.make_department(helpdesk, title="Technical support", prefix="TECH")
    with transaction.atomic():
        ticket = factories.open_ticket(department)
        workflow.close(ticket)
        assert received == []
    assert [name for name, _kwargs in received] == ["ticket_opened", "status_changed"]
    assert received[0][1]["ticket"].pk == ticket.pk


# --- private link token --------------------------------------------------------------------


def test_only_the_hash_of_the_access_token_is_stored(department):
    ticket, raw_token = factories.open_ticket_with_token(department)
    assert len(raw_token) >= 22, "at least 128 bits"
    ticket = fresh(ticket)
    assert ticket.access_token_hash == hashlib.sha256(raw_token.encode()).hexdigest()
    for field in Ticket._meta.concrete_fields:
        assert raw_token not in str(field.value_from_object(ticket)), field.name
    for message in Message.objects.filter(ticket=ticket):
        for field in Message._meta.concrete_fields:
            assert raw_token not in str(field.value_from_object(message)), field.name
    for entry in TicketLogEntry.objects.for_instance(ticket):
        assert raw_token not in str(entry.data)
    assert ticket.check_access_token(raw_token)
    assert not ticket.check_access_token(ticket.access_token_hash)
    assert not ticket.check_access_token(raw_token[:-1])
    assert not ticket.check_access_token("")
    assert not ticket.check_access_token(None)


def test_every_ticket_gets_its_own_token(department):
    tokens = {factories.open_ticket_with_token(department)[1] for _ in range(5)}
    assert len(tokens) == 5


def test_issuing_another_link_keeps_the_earlier_ones(department):
    ticket, first_token = factories.open_ticket_with_token(department)
    second_token = workflow.issue_access_token(ticket)
    third_token = workflow.issue_access_token(ticket)
    assert len({first_token, second_token, third_token}) == 3
    saved = fresh(ticket)
    assert saved.access_token_hash == hashlib.sha256(first_token.encode()).hexdigest()
    for token in (first_token, second_token, third_token):
        assert saved.check_access_token(token)
    link = AccessLink.objects.get(token_hash=hashlib.sha256(second_token.encode()).hexdigest())
    assert link.ticket_id == ticket.pk
    # Only hashes are kept, and each mailed link has its own expiry.
    assert not AccessLink.objects.filter(token_hash=second_token).exists()
    assert (link.expires_at - link.created_at).days == conf.get("LOOKUP_LINK_DAYS")
    actions = TicketLogEntry.objects.for_instance(ticket).values_list("action", flat=True)
    assert "wagtail_tickets.ticket.link_issued" in actions


def test_a_mailed_link_stops_working_when_it_expires(department, settings):
    settings.WAGTAIL_TICKETS_LOOKUP_LINK_DAYS = 3
    ticket, first_token = factories.open_ticket_with_token(department)
    token = workflow.issue_access_token(ticket)
    link = AccessLink.objects.get()
    assert (link.expires_at - link.created_at).days == 3
    AccessLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not fresh(ticket).check_access_token(token)
    assert fresh(ticket).check_access_token(first_token), "the filed link does not expire"


def test_revoking_a_tickets_links_stops_every_one_of_them(department):
    ticket, first_token = factories.open_ticket_with_token(department)
    mailed = workflow.issue_access_token(ticket)
    other, other_token = factories.open_ticket_with_token(department)
    workflow.revoke_access_links(ticket)
    saved = fresh(ticket)
    assert not saved.check_access_token(first_token)
    assert not saved.check_access_token(mailed)
    assert not AccessLink.objects.filter(ticket=ticket).exists()
    assert fresh(other).check_access_token(other_token), "other tickets keep theirs"
    actions = TicketLogEntry.objects.for_instance(ticket).values_list("action", flat=True)
    assert "wagtail_tickets.ticket.links_revoked" in actions
