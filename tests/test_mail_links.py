"""Every link that leaves in a mail (or on the thanks page) comes from the Site record,
whatever Host header the request that caused it carried; what mails repeat."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from wagtail.models import Site

from tests import factories
from wagtail_tickets import workflow

pytestmark = pytest.mark.django_db

SITE_ROOT = "https://help.example.org"
EVIL = "evil.example"
URL_RE = re.compile(r"https?://[^\s<>\"']+")


@pytest.fixture
def public_site(helpdesk):
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = "help.example.org", 443
    site.save()
    return site


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _links(messages):
    found = [url for message in messages for url in URL_RE.findall(message.body)]
    found += [url for message in messages for url in URL_RE.findall(message.subject)]
    return found


def _assert_site_links(links):
    assert links, "the mails carry links"
    for url in links:
        assert url.startswith(SITE_ROOT + "/"), url
        assert EVIL not in url


def test_find_my_ticket_links_come_from_the_site_record(public_site, helpdesk, department):
    factories.open_ticket_with_token(department, customer_email="ann@example.com")
    factories.open_ticket_with_token(department, customer_email="ann@example.com")
    mail.outbox.clear()

    response = Client().post(f"{helpdesk.url}lookup/", {"email": "ann@example.com"}, HTTP_HOST=EVIL)

    assert response.status_code == 302
    [message] = mail.outbox
    links = _links([message])
    assert len(links) == 2
    _assert_site_links(links)
    # And they open the tickets.
    for url in links:
        path = url[len(SITE_ROOT) :]
        assert Client().get(path).status_code == 302


def test_submission_mails_and_thanks_page_link_come_from_the_site_record(
    public_site, helpdesk, department, agent, site_settings, commit
):
    browser = Client()
    with commit():
        response = browser.post(
            department.url,
            {
                "name": "Ann",
                "email": "ann@example.com",
                "subject": "Printer",
                "message": "It jams.",
            },
            HTTP_HOST=EVIL,
        )
    assert response.status_code == 302, response.content.decode()[:1000]
    confirmation = [m for m in mail.outbox if m.to == ["ann@example.com"]]
    to_staff = [m for m in mail.outbox if m.to == [agent.email]]
    assert len(confirmation) == 1 and len(to_staff) == 1
    _assert_site_links(_links(confirmation))
    assert EVIL not in to_staff[0].body

    thanks = browser.get(response["Location"], HTTP_HOST=EVIL)
    assert thanks.status_code == 200
    shown = [url for url in URL_RE.findall(thanks.content.decode()) if "/access/" in url]
    assert shown
    _assert_site_links(shown)


def test_staff_reply_and_resolve_mails_link_to_the_site_record(
    public_site, helpdesk, department, agent, commit
):
    ticket = factories.open_ticket(department, email="ann@example.com")
    mail.outbox.clear()
    client = Client()
    client.force_login(agent)
    with commit():
        response = client.post(
            reverse("helpdesk_tickets:reply", args=[ticket.pk]),
            {"message": "Try again now.", "new_status": ""},
            HTTP_HOST=EVIL,
        )
    assert response.status_code == 302
    with commit():
        workflow.close(ticket, user=agent)
    customer_mails = [m for m in mail.outbox if m.to == ["ann@example.com"]]
    assert len(customer_mails) == 2
    _assert_site_links(_links(customer_mails))


# --- what the confirmation repeats ------------------------------------------------------


def test_anonymous_confirmation_carries_code_link_and_department_only(
    helpdesk, rich_department, site_settings, commit
):
    """Anyone can type any address: the mail must not carry their words to it."""
    attacker_text = "Your account is locked, call +1 555 0100 now"
    with commit():
        response = Client().post(
            rich_department.url,
            {
                "name": "Bank security team",
                "email": "victim@example.com",
                "subject": attacker_text,
                "message": attacker_text + " (message)",
                "cf_product": "Laptop",
                "cf_serial_number": attacker_text + " (field)",
                "cf_severity": "High",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    [confirmation] = [m for m in mail.outbox if m.to == ["victim@example.com"]]
    ticket_code = re.search(r"HW-\d+", confirmation.subject).group(0)
    assert ticket_code in confirmation.body
    assert rich_department.title in confirmation.body
    assert "/access/" in confirmation.body
    for text in (confirmation.subject, confirmation.body):
        assert "call +1 555" not in text
        assert "Bank security team" not in text


def test_logged_in_customer_gets_the_details_at_their_own_address(
    helpdesk, department, customer, site_settings, commit
):
    client = Client()
    client.force_login(customer)
    with commit():
        response = client.post(
            department.url, {"subject": "Q&A page is blank", "message": "Since <Monday>."}
        )
    assert response.status_code == 302
    [confirmation] = [m for m in mail.outbox if m.to == [customer.email]]
    assert "Q&A page is blank" in confirmation.subject
    assert "Since <Monday>." in confirmation.body


def test_agent_opened_ticket_confirmation_keeps_the_details(department, agent, commit):
    with commit():
        workflow.open_ticket(
            department=department,
            subject="Phoned in: router",
            body="Customer called about the router.",
            customer_name="Ann",
            customer_email="ann@example.com",
            source="staff",
            actor=agent,
        )
    [confirmation] = [m for m in mail.outbox if m.to == ["ann@example.com"]]
    assert "Phoned in: router" in confirmation.subject
    assert "Customer called about the router." in confirmation.body


# --- plain text, not HTML -------------------------------------------------------------


def test_subjects_and_bodies_are_plain_text_not_html_escaped(department, agent, commit):
    with commit():
        ticket = factories.open_ticket(
            department, subject='Q&A <page> "quotes" it\'s', body="A & B < C"
        )
    staff = [m for m in mail.outbox if m.to == [agent.email]]
    [new_ticket] = staff
    assert new_ticket.subject.endswith('Q&A <page> "quotes" it\'s')
    assert "&amp;" not in new_ticket.subject and "&lt;" not in new_ticket.subject
    assert "A & B < C" in new_ticket.body
    mail.outbox.clear()
    with commit():
        workflow.post_reply(ticket, body="Fixed & done", author=agent, by_staff=True)
    [reply] = mail.outbox
    assert "Q&A <page>" in reply.subject and "&amp;" not in reply.subject
    assert "Fixed & done" in reply.body
    # Text mails only: no HTML alternative that would need escaping.
    for message in [new_ticket, reply]:
        assert message.content_subtype == "plain"
        assert not getattr(message, "alternatives", [])


def test_render_mail_refuses_html_templates():
    from wagtail_tickets.mail import compose

    with pytest.raises(ValueError):
        compose.render_text("wagtail_tickets/emails/x_body.html", {})
