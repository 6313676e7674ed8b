"""A customer's address that bounced: the desk says so, and an agent can mail it again."""

import pytest
from django.core import mail
from django.urls import reverse

from tests import factories, html_checks
from wagtail_tickets import workflow
from wagtail_tickets.mail import loops
from wagtail_tickets.mail.parse import DeliveryReport
from wagtail_tickets.models import BouncingAddress, TicketLogEntry

pytestmark = pytest.mark.django_db


def url(name, ticket):
    return reverse(f"helpdesk_tickets:{name}", args=[ticket.pk])


@pytest.fixture
def bounced(department):
    ticket = factories.open_ticket(department, name="Ann", email="Ann@Example.com")
    loops.record_bounces(DeliveryReport(failed=[("ann@example.com", "5.1.1")]))
    loops.record_bounces(DeliveryReport(failed=[("ann@example.com", "5.1.1")]))
    mail.outbox.clear()
    return ticket


def test_the_ticket_screen_tells_the_agent_mail_does_not_reach_the_customer(client, bounced, agent):
    client.force_login(agent)
    html = client.get(url("detail", bounced)).content.decode()
    assert "mail bounces" in html
    assert "Mail to Ann@Example.com bounces: a reply is kept on the ticket but not mailed." in html
    assert "came back undeliverable (2 times, last on" in html and "status 5.1.1" in html
    assert f'action="{url("resume_mail", bounced)}"' in html
    html_checks.assert_valid_html(html)


def test_nothing_is_said_of_an_address_that_delivers(client, department, agent):
    ticket = factories.open_ticket(department, name="Bob", email="bob@example.com")
    loops.record_bounces(DeliveryReport(failed=[("someone.else@example.com", "5.1.1")]))
    client.force_login(agent)
    html = client.get(url("detail", ticket)).content.decode()
    assert "mail bounces" not in html and url("resume_mail", ticket) not in html


def test_an_agent_mails_the_address_again(
    client, bounced, agent, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    assert client.get(url("resume_mail", bounced)).status_code == 405, "a change is a POST"
    response = client.post(url("resume_mail", bounced), follow=True)
    assert "Mail goes to Ann@Example.com again." in response.content.decode()
    assert not BouncingAddress.objects.exists()
    entry = TicketLogEntry.objects.get(action="wagtail_tickets.ticket.mail_resumed")
    assert entry.user_id == agent.pk and entry.data == {"address": "ann@example.com"}
    with django_capture_on_commit_callbacks(execute=True):
        workflow.post_reply(bounced, body="Try again now.", author=agent, by_staff=True)
    assert [m.to for m in mail.outbox if "Try again now." in m.body] == [["Ann@Example.com"]]


def test_while_it_bounces_a_reply_is_not_mailed(bounced, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.post_reply(bounced, body="Hello?", author=agent, by_staff=True)
    assert not [m for m in mail.outbox if "Ann@Example.com" in m.to]


def test_an_agent_who_may_not_work_on_the_ticket_changes_nothing(client, bounced, other_agent):
    client.force_login(other_agent)
    assert client.post(url("resume_mail", bounced)).status_code == 404
    assert BouncingAddress.objects.filter(email="ann@example.com").exists()
