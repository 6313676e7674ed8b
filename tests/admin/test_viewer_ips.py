""" "Who viewed" shows colleagues' IP addresses to managers only ("view all departments")."""

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from wagtail_tickets.models import TicketView

pytestmark = pytest.mark.django_db

COLLEAGUE_IP = "198.51.100.77"


@pytest.fixture
def viewed(department):
    ticket = factories.open_ticket(department)
    colleague = factories.make_agent("colleague", departments=[department])
    TicketView.objects.create(ticket=ticket, user=colleague, ip_address=COLLEAGUE_IP)
    return ticket


def _page(user, ticket):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("role", "sees_ips"),
    [("agent", False), ("dispatcher", False), ("manager", True), ("superuser", True)],
)
def test_viewer_ips_per_role(role, sees_ips, viewed, department, superuser):
    users = {
        "agent": lambda: factories.make_agent("plain", departments=[department]),
        "dispatcher": lambda: factories.grant(
            factories.make_agent("dispatcher", departments=[department]),
            "assign_ticket",
            "change_ticket_fields",
            "edit_message",
            "delete_message",
        ),
        "manager": lambda: factories.make_manager("boss", codenames=["view_all_departments"]),
        "superuser": lambda: superuser,
    }
    html = _page(users[role](), viewed)
    assert "colleague" in html, "everyone sees who viewed"
    assert (COLLEAGUE_IP in html) is sees_ips
    assert ('<th scope="col">IP address</th>' in html) is sees_ips
