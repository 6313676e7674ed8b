"""The visitor's journey through the Django test client."""

import re

import pytest
from django.core import mail

from tests import factories
from wagtail_tickets.models import Message, Ticket


def _form_data(**extra):
    data = {
        "name": "Ann Visitor",
        "email": "ann@example.com",
        "subject": "Screen flickers",
        "message": "The screen flickers after the update.",
        "cf_product": "Phone",
        "cf_serial_number": "SN-1",
        "cf_severity": "High",
        "cf_accessories": ["Case", "Cable"],
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_anonymous_journey(
    client, helpdesk, rich_department, site_settings, django_capture_on_commit_callbacks
):
    client_class = type(client)
    data = _form_data()
    data["attachments"] = [factories.upload("log.txt", b"error 42\n")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(rich_department.url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    ticket = Ticket.objects.get()
    assert ticket.code == "HW-000001"
    assert ticket.customer is None
    assert [f["value"] for f in ticket.custom_fields if f["name"] == "accessories"] == [
        ["Case", "Cable"]
    ]
    thanks = client.get(response["Location"])
    html = thanks.content.decode()
    assert "HW-000001" in html
    link = re.search(r'id="wt-private-link" href="([^"]+)"', html).group(1)
    assert "/support/access/" in link
    # The confirmation mail carries the code and a link of its own (signed, so the raw
    # token never passes through the task queue) that opens the same ticket.
    confirmation = [m for m in mail.outbox if m.to == ["ann@example.com"]][0]
    assert "HW-000001" in confirmation.subject
    mail_link = re.search(r"(http://\S+/support/access/\S+/)", confirmation.body).group(1)
    mail_client = client_class()
    opened = mail_client.get(mail_link, follow=True)
    assert opened.status_code == 200
    assert "The screen flickers after the update." in opened.content.decode()
    # A fresh browser opens the private link and sees the conversation.
    client.cookies.clear()
    page = client.get(link, follow=True)
    assert page.status_code == 200
    assert "The screen flickers after the update." in page.content.decode()
    ticket_url = page.redirect_chain[-1][0]
    # Reply, close, reopen.
    client.post(ticket_url, {"action": "reply", "message": "Still flickering."})
    client.post(ticket_url, {"action": "close"})
    ticket.refresh_from_db()
    assert ticket.status.kind == "closed"
    client.post(ticket_url, {"action": "reopen"})
    ticket.refresh_from_db()
    assert ticket.status.kind == "open"
    assert ticket.message_count == 2
    assert Message.objects.filter(ticket=ticket).count() == 2
