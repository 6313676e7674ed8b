"""Bulk actions of the inbox: per permission, visibility, merge, errors."""

from urllib.parse import urlencode

import pytest
from django.core import mail
from django.urls import reverse

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import Message, Priority, Status, Ticket

pytestmark = pytest.mark.django_db

INDEX = "/admin/helpdesk_inbox/"


def bulk_url(action, *tickets, **params):
    query = [("id", t if isinstance(t, str) else t.pk) for t in tickets]
    query += [("next", INDEX), *params.items()]
    return (
        reverse("wagtail_bulk_action", args=["wagtail_tickets", "ticket", action])
        + "?"
        + urlencode(query)
    )


@pytest.fixture
def sales(helpdesk):
    return factories.make_department(helpdesk, title="Sales", prefix="SAL")


@pytest.fixture
def tickets(department, customer):
    return [
        factories.open_ticket(department, customer=customer, subject=f"Problem {n}")
        for n in range(3)
    ]


@pytest.fixture
def foreign(sales):
    return factories.open_ticket(sales, name="Carol", email="carol@shop.test", subject="Invoice")


@pytest.fixture
def dispatcher(department):
    """An agent of the department holding both bulk permissions."""
    user = factories.make_agent("dispatcher", departments=[department], first_name="Dee")
    return factories.grant(user, "assign_ticket", "change_ticket_fields")


def reload(ticket):
    return Ticket.objects.select_related("status", "priority").get(pk=ticket.pk)


# --- access -----------------------------------------------------------------------------


def test_bulk_footer_on_the_inbox(client, tickets, dispatcher):
    client.force_login(dispatcher)
    html = client.get(INDEX).content.decode()
    assert "data-bulk-action-footer" in html
    for action in ("assign", "status", "priority", "close", "merge"):
        assert reverse("wagtail_bulk_action", args=["wagtail_tickets", "ticket", action]) in html


def test_bulk_refused_outside_the_desk(client, tickets):
    client.force_login(factories.make_admin_user("editor"))
    response = client.post(bulk_url("close", *tickets))
    assert response.status_code == 403
    assert all(not reload(t).closed_at for t in tickets)


def test_bulk_anonymous(client, tickets):
    response = client.post(bulk_url("close", *tickets))
    assert response.status_code == 302 and "login" in response["Location"]
    assert all(not reload(t).closed_at for t in tickets)


# --- assign -----------------------------------------------------------------------------


def test_assign_confirmation_then_assign(client, tickets, dispatcher, agent):
    client.force_login(dispatcher)
    url = bulk_url("assign", *tickets[:2])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert tickets[0].code in html and tickets[1].code in html and tickets[2].code not in html
    response = client.post(url, {"assignee": agent.pk})
    assert response.status_code == 302 and response["Location"] == INDEX
    assert [reload(t).assignee_id for t in tickets] == [agent.pk, agent.pk, None]
    messages = [str(m).strip() for m in response.wsgi_request._messages]
    assert "2 tickets assigned to agent." in messages


def test_assign_needs_the_permission(client, tickets, agent, department):
    colleague = factories.make_agent("colleague", departments=[department])
    client.force_login(agent)  # no assign_ticket
    url = bulk_url("assign", *tickets)
    page = client.get(url).content.decode()
    assert "have permission to do this" in page
    client.post(url, {"assignee": colleague.pk})
    assert all(reload(t).assignee_id is None for t in tickets)


def test_assign_ignores_forged_ids_of_other_departments(client, tickets, foreign, dispatcher):
    client.force_login(dispatcher)
    url = bulk_url("assign", tickets[0], foreign, "junk")
    html = client.get(url).content.decode()
    assert foreign.code not in html
    assert "not available to you" in html
    client.post(url, {"assignee": dispatcher.pk})
    assert reload(tickets[0]).assignee_id == dispatcher.pk
    assert reload(foreign).assignee_id is None


def test_unassign(client, tickets, dispatcher):
    workflow.assign(tickets[0], dispatcher, user=dispatcher)
    client.force_login(dispatcher)
    client.post(bulk_url("assign", tickets[0]), {"assignee": ""})
    assert reload(tickets[0]).assignee_id is None


def test_assign_reports_unchanged(client, tickets, dispatcher):
    workflow.assign(tickets[0], dispatcher, user=dispatcher)
    client.force_login(dispatcher)
    response = client.post(bulk_url("assign", *tickets[:2]), {"assignee": dispatcher.pk})
    messages = [str(m).strip() for m in response.wsgi_request._messages]
    assert "1 ticket assigned to Dee." in messages
    assert "1 ticket needed no change." in messages


# --- status, priority, close ------------------------------------------------------------


def test_change_status_needs_the_fields_permission(client, tickets, agent, dispatcher):
    """Any status is a field change (workflow.rules); closing stays every agent's."""
    waiting = Status.first_of_kind(Status.Kind.WAITING)
    before = [reload(t).status_id for t in tickets]
    client.force_login(agent)
    client.post(bulk_url("status", *tickets[:2]), {"status": waiting.pk})
    assert [reload(t).status_id for t in tickets] == before
    client.force_login(dispatcher)
    client.post(bulk_url("status", *tickets[:2]), {"status": waiting.pk})
    assert [reload(t).status_id for t in tickets[:2]] == [waiting.pk, waiting.pk]
    assert reload(tickets[2]).status_id != waiting.pk


def test_change_priority_needs_the_permission(client, tickets, agent, dispatcher):
    high = Priority.objects.order_by("sort_order").last()
    client.force_login(agent)
    client.post(bulk_url("priority", *tickets), {"priority": high.pk})
    assert all(reload(t).priority_id != high.pk for t in tickets)
    client.force_login(dispatcher)
    response = client.post(bulk_url("priority", *tickets), {"priority": high.pk})
    assert all(reload(t).priority_id == high.pk for t in tickets)
    assert any("3 tickets set to" in str(m) for m in response.wsgi_request._messages)


def test_close_writes_through_the_workflow(client, tickets, agent):
    client.force_login(agent)
    workflow.close(tickets[0], user=agent)
    response = client.post(bulk_url("close", *tickets))
    closed = [reload(t) for t in tickets]
    assert all(t.status.kind == Status.Kind.CLOSED and t.closed_at for t in closed)
    messages = [str(m).strip() for m in response.wsgi_request._messages]
    assert "2 tickets closed." in messages and "1 ticket needed no change." in messages
    from wagtail_tickets.models import TicketLogEntry

    assert TicketLogEntry.objects.filter(action="wagtail_tickets.ticket.close").count() == 3


def test_select_all_in_listing_uses_the_filters(client, tickets, foreign, agent, superuser):
    workflow.close(tickets[0], user=agent)
    client.force_login(superuser)
    url = bulk_url("status", "all", state="open")
    waiting = Status.first_of_kind(Status.Kind.WAITING)
    client.post(url, {"status": waiting.pk})
    assert reload(tickets[0]).status.kind == Status.Kind.CLOSED
    assert reload(tickets[1]).status_id == waiting.pk
    assert reload(foreign).status_id == waiting.pk  # the superuser sees every department


def test_select_all_stays_within_visible_tickets(client, tickets, foreign, agent):
    client.force_login(agent)
    client.post(bulk_url("close", "all"))
    assert all(reload(t).closed_at for t in tickets)
    assert not reload(foreign).closed_at


# --- merge ------------------------------------------------------------------------------


def test_merge(client, tickets, dispatcher, django_capture_on_commit_callbacks):
    target, *sources = tickets
    factories.add_replies(sources[0], 2, staff=dispatcher)
    moved = Message.objects.filter(ticket__in=sources).count()
    client.force_login(dispatcher)
    url = bulk_url("merge", *tickets)
    page = client.get(url).content.decode()
    assert "Merge into" in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"target": target.pk})
    assert response.status_code == 302
    target = reload(target)
    assert target.messages.count() == 1 + moved
    for source in sources:
        source = reload(source)
        assert source.merged_into_id == target.pk
        assert source.status.kind == Status.Kind.CLOSED
        pointer = source.messages.get()
        assert target.code in pointer.body
    # the customer is told where the conversation went
    assert any(target.code in m.body for m in mail.outbox)
    messages = [str(m).strip() for m in response.wsgi_request._messages]
    assert any(f"2 tickets merged into {target.code}" in m for m in messages)


def test_merge_needs_two_tickets(client, tickets, dispatcher):
    client.force_login(dispatcher)
    url = bulk_url("merge", tickets[0])
    assert "at least two" in client.get(url).content.decode()
    response = client.post(url, {"target": tickets[0].pk})
    assert response.status_code == 200
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_merge_target_must_be_selected(client, tickets, foreign, dispatcher):
    client.force_login(dispatcher)
    response = client.post(bulk_url("merge", *tickets[:2]), {"target": foreign.pk})
    assert response.status_code == 200  # the form refuses the choice
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_merge_needs_the_permission(client, tickets, agent):
    client.force_login(agent)
    client.post(bulk_url("merge", *tickets), {"target": tickets[0].pk})
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_merge_error_is_reported(client, tickets, dispatcher):
    workflow.merge(tickets[0], [tickets[1]], user=dispatcher)
    client.force_login(dispatcher)
    response = client.post(bulk_url("merge", *tickets), {"target": tickets[2].pk})
    messages = [str(m).strip() for m in response.wsgi_request._messages]
    assert any("already merged" in m for m in messages)
    assert reload(tickets[0]).merged_into_id is None
