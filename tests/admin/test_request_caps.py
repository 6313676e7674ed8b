"""No single desk request works on an unbounded number of tickets or rows."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from wagtail_tickets.admin import inbox_bulk, reports
from wagtail_tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(department):
    return factories.make_manager(
        "boss",
        codenames=["view_all_departments", "change_ticket_fields"],
        departments=[department],
    )


def test_select_all_acts_on_at_most_max_tickets(department, manager, monkeypatch):
    monkeypatch.setattr(inbox_bulk, "MAX_TICKETS", 3)
    for n in range(5):
        factories.open_ticket(department, subject=f"T{n}")
    client = Client()
    client.force_login(manager)
    url = reverse("wagtail_bulk_action", args=["wagtail_tickets", "ticket", "close"])
    confirm = client.get(url, {"id": "all"})
    assert "Only the first 3 tickets" in confirm.content.decode()
    client.post(f"{url}?id=all")
    assert Ticket.objects.filter(status__kind=Status.Kind.CLOSED).count() == 3


def test_a_report_export_stops_at_its_row_cap(department, manager, monkeypatch):
    monkeypatch.setattr(reports, "EXPORT_MAX_ROWS", 1)
    for subject in ("Printer on fire", "Printer on fire", "Login fails", "Login fails"):
        factories.resolve(factories.open_ticket(department, subject=subject))
    client = Client()
    client.force_login(manager)
    response = client.get("/admin/helpdesk/reports/frequent-requests/?export=csv&minimum=1")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2  # the heading and one group
