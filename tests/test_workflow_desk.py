"""The desk's workflow: assignment, field changes, message edits, merging, views, SLA."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import (
    DepartmentPage,
    Message,
    Priority,
    StaffMember,
    Status,
    Ticket,
    TicketLogEntry,
    TicketView,
)
from wagtail_tickets.workflow.assignment import pick_assignee

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(department):
    """An agent of the department who may also assign and set any status (workflow.rules)."""
    user = factories.make_agent("agent", departments=[department])
    return factories.grant(user, "assign_ticket", "change_ticket_fields")


def set_strategy(department, strategy):
    DepartmentPage.objects.filter(pk=department.pk).update(assignment_strategy=strategy)
    department.assignment_strategy = strategy
    return department


@pytest.fixture
def team(department):
    return [factories.make_agent(f"member{n}", departments=[department]) for n in range(3)]


# --------------------------------------------------------------------------------------
# assign
# --------------------------------------------------------------------------------------


def test_assign_changes_logs_and_returns_false_when_unchanged(ticket, agent, team):
    assert workflow.assign(ticket, team[0], user=agent) is True
    assert Ticket.objects.get(pk=ticket.pk).assignee == team[0]
    assert workflow.assign(ticket, team[0], user=agent) is False
    workflow.assign(ticket, None, user=agent)
    assert Ticket.objects.get(pk=ticket.pk).assignee is None
    entries = list(
        TicketLogEntry.objects.filter(action="wagtail_tickets.ticket.assign").order_by("pk")
    )
    assert len(entries) == 2
    assert entries[0].data["old"] is None and entries[0].data["new"]["id"] == team[0].pk
    assert entries[1].data["old"]["id"] == team[0].pk and entries[1].data["new"] is None
    assert all(entry.user == agent for entry in entries)


def test_assign_refuses_inactive_users(ticket, team):
    team[0].is_active = False
    team[0].save()
    with pytest.raises(workflow.WorkflowError):
        workflow.assign(ticket, team[0])


# --------------------------------------------------------------------------------------
# auto_assign fairness
# --------------------------------------------------------------------------------------


def test_round_robin_goes_round_in_order(department, team):
    set_strategy(department, DepartmentPage.Assignment.ROUND_ROBIN)
    assignees = [factories.open_ticket(department, subject=f"T{n}").assignee for n in range(6)]
    assert assignees == team + team


def test_round_robin_skips_unavailable_and_inactive_staff(department, team):
    set_strategy(department, DepartmentPage.Assignment.ROUND_ROBIN)
    StaffMember.objects.filter(user=team[1]).update(available=False)
    team[2].is_active = False
    team[2].save()
    assignees = {factories.open_ticket(department, subject=f"T{n}").assignee for n in range(4)}
    assert assignees == {team[0]}


def test_round_robin_ignores_staff_of_other_departments(department, other_agent, team):
    set_strategy(department, DepartmentPage.Assignment.ROUND_ROBIN)
    assignees = {factories.open_ticket(department, subject=f"T{n}").assignee for n in range(6)}
    assert other_agent not in assignees


def test_least_open_picks_the_least_loaded(department, team):
    for n in range(3):
        workflow.assign(factories.open_ticket(department, subject=f"A{n}"), team[0])
    workflow.assign(factories.open_ticket(department, subject="B"), team[1])
    # team[2] has nothing: they get the next ones until loads even out.
    set_strategy(department, DepartmentPage.Assignment.LEAST_OPEN)
    assert factories.open_ticket(department, subject="new 1").assignee == team[2]
    assert factories.open_ticket(department, subject="new 2").assignee in (team[1], team[2])


def test_least_open_counts_only_active_tickets(department, team):
    for n in range(3):
        ticket = factories.open_ticket(department, subject=f"A{n}")
        workflow.assign(ticket, team[0])
        workflow.close(ticket)
    workflow.assign(factories.open_ticket(department, subject="B"), team[1])
    workflow.assign(factories.open_ticket(department, subject="C"), team[2])
    set_strategy(department, DepartmentPage.Assignment.LEAST_OPEN)
    assert factories.open_ticket(department, subject="new").assignee == team[0]


def test_least_open_skips_unavailable_staff(department, team):
    StaffMember.objects.filter(user=team[0]).update(available=False)
    workflow.assign(factories.open_ticket(department, subject="B"), team[1])
    set_strategy(department, DepartmentPage.Assignment.LEAST_OPEN)
    assert factories.open_ticket(department, subject="new").assignee == team[2]


def test_manual_strategy_leaves_tickets_unassigned(department, team):
    assert department.assignment_strategy == DepartmentPage.Assignment.MANUAL
    assert factories.open_ticket(department).assignee is None
    assert pick_assignee(department) is None


def test_auto_assign_without_candidates_leaves_it_unassigned(department):
    set_strategy(department, DepartmentPage.Assignment.ROUND_ROBIN)
    assert factories.open_ticket(department).assignee is None


def test_auto_assignment_is_logged_as_automatic(department, team):
    set_strategy(department, DepartmentPage.Assignment.ROUND_ROBIN)
    ticket = factories.open_ticket(department)
    entry = TicketLogEntry.objects.get(action="wagtail_tickets.ticket.assign", ticket_id=ticket.pk)
    assert entry.data["automatic"] is True


# --------------------------------------------------------------------------------------
# update_fields
# --------------------------------------------------------------------------------------


def test_update_fields_keeps_the_code_and_audits_old_and_new(ticket, agent, helpdesk):
    other = factories.make_department(helpdesk, title="Second line", prefix="SEC")
    # Agents move tickets between the departments they work in (workflow.rules).
    agent.helpdesk_profile.departments.add(other)
    high = Priority.objects.exclude(pk=ticket.priority_id).first()
    code = ticket.code
    changed = workflow.update_fields(
        ticket, user=agent, subject="  New subject  ", priority=high, department=other
    )
    assert set(changed) == {"subject", "priority", "department"}
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.code == code
    assert (fresh.subject, fresh.priority, fresh.department_id) == ("New subject", high, other.pk)
    entry = TicketLogEntry.objects.get(action="wagtail_tickets.ticket.edit")
    assert entry.user == agent
    assert entry.data["subject"] == {"old": "Printer is on fire", "new": "New subject"}
    assert entry.data["priority"]["new"]["id"] == high.pk
    assert entry.data["department"]["old"]["name"] == "Technical support"
    assert entry.data["department"]["new"]["name"] == "Second line"


def test_update_fields_without_change_logs_nothing(ticket, agent):
    assert workflow.update_fields(ticket, user=agent, subject=ticket.subject) == {}
    assert not TicketLogEntry.objects.filter(action="wagtail_tickets.ticket.edit").exists()


def test_update_fields_refuses_other_fields_and_empty_subjects(ticket, agent):
    with pytest.raises(workflow.WorkflowError):
        workflow.update_fields(ticket, user=agent, code="X-1")
    with pytest.raises(workflow.WorkflowError):
        workflow.update_fields(ticket, user=agent, subject="   ")


def test_changing_priority_recomputes_due_at(ticket, agent):
    urgent = Priority.objects.create(name="Urgent", first_response_minutes=30, sort_order=99)
    workflow.update_fields(ticket, user=agent, priority=urgent)
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.due_at == fresh.created_at + timedelta(minutes=30)


# --------------------------------------------------------------------------------------
# edit / delete messages
# --------------------------------------------------------------------------------------


def test_edit_message_keeps_the_old_text_in_the_log(ticket, agent):
    message = ticket.messages.get()
    assert workflow.edit_message(message, "Corrected", user=agent) is True
    fresh = Message.objects.get(pk=message.pk)
    assert fresh.body == "Corrected" and fresh.edited_by == agent and fresh.edited_at
    entry = TicketLogEntry.objects.get(action="wagtail_tickets.message.edit")
    assert entry.data == {
        "message_id": message.pk,
        "old_body": "It started smoking.",
        "new_body": "Corrected",
    }
    assert workflow.edit_message(fresh, "Corrected", user=agent) is False
    with pytest.raises(workflow.WorkflowError):
        workflow.edit_message(fresh, "  ", user=agent)


def test_delete_message_audits_and_recomputes_counters(ticket, agent):
    reply = workflow.post_reply(
        ticket,
        body="Answer",
        author=agent,
        by_staff=True,
        time_spent_minutes=10,
        attachments=[factories.validated("a.txt", b"a\n")],
    )
    note = workflow.post_reply(
        ticket, body="Note", author=agent, by_staff=True, is_internal=True, time_spent_minutes=5
    )
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.message_count, fresh.time_spent_minutes) == (3, 15)
    assert fresh.first_response_at == reply.created_at

    workflow.delete_message(Message.objects.get(pk=reply.pk), user=agent)
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.message_count, fresh.time_spent_minutes) == (2, 5)
    assert fresh.first_response_at is None
    # The internal note does not count as the last public message.
    assert fresh.last_message_at == ticket.messages.order_by("pk").first().created_at
    entry = TicketLogEntry.objects.get(action="wagtail_tickets.message.delete")
    assert entry.user == agent
    assert entry.data["old_body"] == "Answer" and entry.data["attachments"] == ["a.txt"]
    assert Message.objects.filter(pk=note.pk).exists()


def test_the_first_message_cannot_be_deleted(ticket, agent):
    with pytest.raises(workflow.WorkflowError):
        workflow.delete_message(ticket.messages.get(), user=agent)
    assert ticket.messages.count() == 1


# --------------------------------------------------------------------------------------
# merge
# --------------------------------------------------------------------------------------


def test_merge_moves_messages_closes_sources_with_a_pointer(department, customer, agent):
    target = factories.open_ticket(department, customer=customer, subject="Target")
    source = factories.open_ticket(department, customer=customer, subject="Source")
    workflow.post_reply(
        source, body="Source reply", author=agent, by_staff=True, time_spent_minutes=7
    )
    moved = workflow.merge(target, [source], user=agent)
    assert moved == 2
    target_fresh = Ticket.objects.get(pk=target.pk)
    source_fresh = Ticket.objects.get(pk=source.pk)
    bodies = list(target_fresh.messages.values_list("body", flat=True))
    assert "Source reply" in bodies and "It started smoking." in bodies
    assert target_fresh.message_count == 3
    assert target_fresh.time_spent_minutes == 7
    assert source_fresh.merged_into == target_fresh
    assert source_fresh.status.kind == Status.Kind.CLOSED
    pointer = source_fresh.messages.get()
    assert target.code in pointer.body
    assert source_fresh.message_count == 1
    assert TicketLogEntry.objects.filter(action="wagtail_tickets.ticket.merge").exists()
    assert TicketLogEntry.objects.filter(action="wagtail_tickets.ticket.merged_away").exists()


def test_the_pointer_left_in_a_merged_away_ticket_cannot_be_deleted(department, customer, agent):
    """The customer's old link shows only that message: it says where to go."""
    target = factories.open_ticket(department, customer=customer, subject="Target")
    source = factories.open_ticket(department, customer=customer, subject="Source")
    workflow.merge(target, [source], user=agent)
    pointer = Message.objects.get(ticket=source)
    with pytest.raises(workflow.WorkflowError):
        workflow.delete_message(pointer, user=agent)
    assert Message.objects.filter(pk=pointer.pk).exists()


def test_merge_needs_another_ticket_and_refuses_twice(ticket, department, agent, customer):
    with pytest.raises(workflow.WorkflowError):
        workflow.merge(ticket, [ticket], user=agent)
    other = factories.open_ticket(department, customer=customer, subject="Other")
    workflow.merge(ticket, [other], user=agent)
    third = factories.open_ticket(department, customer=customer, subject="Third")
    with pytest.raises(workflow.WorkflowError):
        workflow.merge(third, [Ticket.objects.get(pk=other.pk)], user=agent)


# --------------------------------------------------------------------------------------
# record_view
# --------------------------------------------------------------------------------------


def test_record_view_is_throttled_per_user(ticket, agent, team):
    assert workflow.record_view(ticket, agent, ip="192.0.2.1") is True
    assert workflow.record_view(ticket, agent, ip="192.0.2.1") is False
    assert workflow.record_view(ticket, team[0]) is True
    TicketView.objects.filter(user=agent).update(viewed_at=timezone.now() - timedelta(minutes=6))
    assert workflow.record_view(ticket, agent) is True
    assert TicketView.objects.filter(user=agent).count() == 2
    assert TicketView.objects.filter(ip_address="192.0.2.1").count() == 1


# --------------------------------------------------------------------------------------
# SLA
# --------------------------------------------------------------------------------------


def test_due_at_first_response_then_resolution_then_none(department, agent):
    priority = Priority.objects.create(
        name="Gold", first_response_minutes=60, resolution_minutes=480, sort_order=50
    )
    ticket = factories.open_ticket(department, priority=priority)
    assert ticket.due_at == ticket.created_at + timedelta(minutes=60)
    workflow.post_reply(ticket, body="On it", author=agent, by_staff=True, is_internal=True)
    assert Ticket.objects.get(pk=ticket.pk).due_at == ticket.created_at + timedelta(minutes=60)
    workflow.post_reply(ticket, body="Answer", author=agent, by_staff=True)
    assert Ticket.objects.get(pk=ticket.pk).due_at == ticket.created_at + timedelta(minutes=480)
    workflow.close(ticket, user=agent)
    assert Ticket.objects.get(pk=ticket.pk).due_at is None
    workflow.reopen(ticket, user=agent)
    assert Ticket.objects.get(pk=ticket.pk).due_at == ticket.created_at + timedelta(minutes=480)
