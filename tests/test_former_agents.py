"""A former agent: admin access taken away, desk profile (and old replies) left behind."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.admin.menu import is_desk_user
from wagtail_tickets.models import DepartmentPage
from wagtail_tickets.permissions import has_desk_rights, staff_can_access, visible_tickets

pytestmark = pytest.mark.django_db


def _former(username, department):
    user = factories.make_agent(username, departments=[department])
    user = factories.grant(user, "view_all_departments", "assign_ticket")
    user.user_permissions.remove(Permission.objects.get(codename="access_admin"))
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def former(department):
    return _former("former", department)


@pytest.fixture
def scene(department, former, site_settings):
    ticket, raw = factories.open_ticket_with_token(department)
    public = workflow.post_reply(
        ticket,
        body="Log attached.",
        author_name="Ann",
        attachments=[factories.validated("log.txt", b"public log\n")],
    )
    note = workflow.post_reply(
        ticket,
        body="Internal.",
        by_staff=True,
        is_internal=True,
        attachments=[factories.validated("internal.txt", b"secret\n")],
    )
    return ticket, public.attachments.get(), note.attachments.get()


def _file_url(ticket, attachment):
    helpdesk = ticket.helpdesk
    return f"{helpdesk.url}tickets/{ticket.code}/files/{attachment.pk}/"


def test_a_desk_profile_alone_gives_no_rights(scene, former, agent):
    ticket, _public, _internal = scene
    assert has_desk_rights(agent) and not has_desk_rights(former)
    assert not is_desk_user(former)
    assert not visible_tickets(former).exists()
    assert not staff_can_access(former, ticket)


def test_former_agent_downloads_nothing_through_the_customer_route(scene, former, agent):
    ticket, public, internal = scene
    client = Client()
    client.force_login(former)
    for attachment in (public, internal):
        assert client.get(_file_url(ticket, attachment)).status_code == 404
    # A current agent still gets the conversation's files there, but not a note's.
    current = Client()
    current.force_login(agent)
    response = current.get(_file_url(ticket, public))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"public log\n"
    assert current.get(_file_url(ticket, internal)).status_code == 404


def test_inactive_agent_has_no_rights(department):
    user = factories.make_agent("asleep", departments=[department], is_active=False)
    assert not has_desk_rights(user)


def test_former_agent_gets_no_mail_and_no_automatic_tickets(
    department, former, django_capture_on_commit_callbacks
):
    DepartmentPage.objects.filter(pk=department.pk).update(
        assignment_strategy=DepartmentPage.Assignment.ROUND_ROBIN
    )
    department.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.open_ticket(department)
    assert ticket.assignee_id is None
    assert not any(former.email in m.to for m in mail.outbox)

    current = factories.make_agent("current", departments=[department])
    with django_capture_on_commit_callbacks(execute=True):
        second = factories.open_ticket(department, subject="Second")
    assert second.assignee_id == current.pk
    assert not any(former.email in m.to for m in mail.outbox)


def test_mails_stop_for_an_assignee_whose_access_ends(
    department, agent, django_capture_on_commit_callbacks
):
    ticket = factories.open_ticket(department)
    workflow.assign(ticket, agent)
    agent.user_permissions.remove(Permission.objects.get(codename="access_admin"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.post_reply(ticket, body="Any news?", author_name="Alice")
    assert not any(agent.email in m.to for m in mail.outbox)


def test_permission_policies_do_not_count_former_agents(scene, former, agent):
    from wagtail_tickets.admin.config.policies import (
        saved_search_permission_policy,
        ticket_permission_policy,
    )

    ticket, _public, _internal = scene
    for policy in (ticket_permission_policy, saved_search_permission_policy):
        users = set(policy.users_with_permission("view"))
        assert agent in users and former not in users
        assert not policy.user_has_permission(former, "view")
    assert former not in set(
        ticket_permission_policy.users_with_permission_for_instance("change", ticket)
    )
