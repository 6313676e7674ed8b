"""One rule for status changes and assignment, whatever the route (workflow.rules).

Every route that can change a ticket's status or assignee is tried by every role: the
fields form, the reply form's "status after sending", the bulk actions, the close
button. What a role may do is the same on every route.
"""

from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db

ROLES = ["plain", "fields", "assigner", "other_department", "manager", "former"]
# What each role may do to a ticket of the Technical support department.
MAY_SET_STATUS = {"fields", "manager"}
MAY_CLOSE = {"plain", "fields", "assigner", "manager"}
MAY_ASSIGN = {"assigner", "manager"}


def _url(name, *args):
    return reverse(f"helpdesk_tickets:{name}", args=args)


def _bulk_url(action, *tickets):
    query = [("id", t.pk) for t in tickets] + [("next", "/admin/")]
    return (
        reverse("wagtail_bulk_action", args=["wagtail_tickets", "ticket", action])
        + "?"
        + urlencode(query)
    )


@pytest.fixture
def sales(helpdesk):
    return factories.make_department(helpdesk, title="Sales", prefix="SAL")


@pytest.fixture
def people(department, sales):
    tech = [department]
    former = factories.grant(
        factories.make_agent("former", departments=tech),
        "assign_ticket",
        "change_ticket_fields",
    )
    former.user_permissions.remove(Permission.objects.get(codename="access_admin"))
    return {
        "plain": factories.make_agent("plain", departments=tech),
        "fields": factories.grant(
            factories.make_agent("fieldsy", departments=tech), "change_ticket_fields"
        ),
        "assigner": factories.grant(
            factories.make_agent("assigner", departments=tech), "assign_ticket"
        ),
        "other_department": factories.grant(
            factories.make_agent("seller", departments=[sales]),
            "assign_ticket",
            "change_ticket_fields",
        ),
        "manager": factories.make_manager(
            "boss", codenames=["view_all_departments", "assign_ticket", "change_ticket_fields"]
        ),
        "former": type(former).objects.get(pk=former.pk),
        "colleague": factories.make_agent("colleague", departments=tech),
    }


@pytest.fixture
def ticket(department):
    return factories.open_ticket(department, email="ann@example.com")


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _fresh(ticket):
    return Ticket.objects.select_related("status").get(pk=ticket.pk)


def _fields_data(ticket, **changes):
    data = {
        "fields-subject": ticket.subject,
        "fields-status": ticket.status_id,
        "fields-priority": ticket.priority_id,
        "fields-department": ticket.department_id,
        "fields-assignee": ticket.assignee_id or "",
    }
    data.update({f"fields-{key}": value for key, value in changes.items()})
    return data


def _set_status(route, client, ticket, status):
    if route == "fields_form":
        client.post(_url("update", ticket.pk), _fields_data(ticket, status=status.pk))
    elif route == "reply_form":
        client.post(_url("reply", ticket.pk), {"message": "Done.", "new_status": status.pk})
    elif route == "bulk":
        client.post(_bulk_url("status", ticket), {"status": status.pk})
    else:
        raise AssertionError(route)


def _assign(route, client, ticket, assignee):
    if route == "fields_form":
        client.post(_url("update", ticket.pk), _fields_data(ticket, assignee=assignee.pk))
    elif route == "bulk":
        client.post(_bulk_url("assign", ticket), {"assignee": assignee.pk})
    else:
        raise AssertionError(route)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ["fields_form", "reply_form", "bulk"])
def test_setting_a_status(route, role, people, ticket):
    resolved = Status.first_of_kind(Status.Kind.RESOLVED)
    _set_status(route, _client(people[role]), ticket, resolved)
    changed = _fresh(ticket).status_id == resolved.pk
    assert changed == (role in MAY_SET_STATUS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ["button", "bulk"])
def test_closing(route, role, people, ticket):
    client = _client(people[role])
    if route == "button":
        client.post(_url("close", ticket.pk))
    else:
        client.post(_bulk_url("close", ticket))
    closed = _fresh(ticket).status.kind == Status.Kind.CLOSED
    assert closed == (role in MAY_CLOSE)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ["fields_form", "bulk"])
def test_assigning_a_colleague(route, role, people, ticket):
    _assign(route, _client(people[role]), ticket, people["colleague"])
    assigned = _fresh(ticket).assignee_id == people["colleague"].pk
    assert assigned == (role in MAY_ASSIGN)


def _inactive(people):
    user = factories.make_agent("gone", departments=[Ticket.objects.get().department])
    user.is_active = False
    user.save()
    return user


@pytest.mark.parametrize("assignee", ["other_department", "former", "inactive"])
@pytest.mark.parametrize("route", ["fields_form", "bulk"])
def test_nobody_assigns_to_someone_who_cannot_work_the_ticket(route, assignee, people, ticket):
    target = _inactive(people) if assignee == "inactive" else people[assignee]
    _assign(route, _client(people["manager"]), ticket, target)
    assert _fresh(ticket).assignee_id is None


@pytest.mark.parametrize("assignee", ["other_department", "former"])
def test_the_workflow_refuses_such_assignees_from_any_caller(assignee, people, ticket):
    with pytest.raises(workflow.WorkflowError):
        workflow.assign(ticket, people[assignee])
    with pytest.raises(workflow.WorkflowError):
        workflow.assign(ticket, people[assignee], user=people["manager"])
    assert _fresh(ticket).assignee_id is None


def test_assign_forms_offer_only_current_desk_users(people, ticket):
    client = _client(people["manager"])
    screen = client.get(_url("detail", ticket.pk)).content.decode()
    bulk = client.get(_bulk_url("assign", ticket)).content.decode()
    for html in (screen, bulk):
        assert "colleague" in html
        assert "former" not in html


def test_workflow_status_rules(people, ticket):
    resolved = Status.first_of_kind(Status.Kind.RESOLVED)
    with pytest.raises(workflow.WorkflowError):
        workflow.change_status(ticket, resolved, user=people["plain"])
    with pytest.raises(workflow.WorkflowError):
        workflow.post_reply(
            ticket, body="x", author=people["plain"], by_staff=True, new_status=resolved
        )
    with pytest.raises(workflow.WorkflowError):
        workflow.close(ticket, user=people["other_department"])
    assert _fresh(ticket).status.kind == Status.Kind.NEW
    workflow.close(ticket, user=people["plain"])
    workflow.reopen(ticket, user=people["plain"])
    assert workflow.change_status(ticket, resolved, user=people["fields"])
    # The system (no user) and the customer's own close/reopen are not staff routes.
    workflow.close(ticket)
    assert _fresh(ticket).status.kind == Status.Kind.CLOSED


def test_fields_move_only_to_the_agents_departments(people, ticket, sales):
    with pytest.raises(workflow.WorkflowError):
        workflow.update_fields(ticket, user=people["fields"], department=sales)
    with pytest.raises(workflow.WorkflowError):
        workflow.update_fields(ticket, user=people["plain"], subject="Renamed")
    assert workflow.update_fields(ticket, user=people["manager"], department=sales)
