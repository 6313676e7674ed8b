"""``<time datetime>`` values that HTML allows, from one filter used by every template."""

import datetime
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from tests.html_checks import DATETIME_RE
from wagtail_tickets.html_dates import html_datetime

TEMPLATES = Path(__file__).resolve().parents[2] / "wagtail_tickets" / "templates"
MOMENT = datetime.datetime(2026, 5, 11, 6, 44, 3, 123456, tzinfo=datetime.UTC)


def test_whole_seconds_and_an_offset(settings):
    settings.TIME_ZONE = "Europe/Moscow"
    with timezone.override(ZoneInfo("Europe/Moscow")):
        value = html_datetime(MOMENT)
    assert value == "2026-05-11T09:44:03+03:00"
    assert DATETIME_RE.match(value)
    # Django's "c" format, which the templates used, keeps six digits of microseconds.
    from django.utils.dateformat import format as date_format

    assert ".123456" in date_format(MOMENT, "c")
    assert not DATETIME_RE.match(date_format(MOMENT, "c"))


def test_utc_naive_dates_and_nothing():
    with timezone.override(datetime.UTC):
        assert html_datetime(MOMENT) == "2026-05-11T06:44:03+00:00"
    assert html_datetime(datetime.datetime(2026, 5, 11, 6, 44, 3, 999999)) == "2026-05-11T06:44:03"
    assert html_datetime(datetime.date(2026, 5, 11)) == "2026-05-11"
    for nothing in (None, "", "2026-05-11", 0):
        assert html_datetime(nothing) == ""


def test_the_filter_in_a_template():
    template = Template(
        '{% load wagtail_tickets_tags %}<time datetime="{{ when|html_datetime }}"></time>'
    )
    with timezone.override(datetime.UTC):
        html = template.render(Context({"when": MOMENT}))
    assert html == '<time datetime="2026-05-11T06:44:03+00:00"></time>'


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_writes_datetime_with_microseconds(path):
    """Every ``<time datetime>`` goes through the filter (or a date-only format)."""
    source = path.read_text()
    for match in re.finditer(r'datetime="([^"]*)"', source):
        value = match.group(1)
        assert "|date:'c'" not in value and '|date:"c"' not in value, path
        assert "isoformat" not in value, path


@pytest.mark.django_db
def test_desk_screens_write_valid_datetimes(client, department, customer, agent, superuser):
    """The desk shares the filter: its ticket screen, inbox and dashboard panel."""
    from django.urls import reverse

    from tests import factories
    from tests.html_checks import assert_valid_datetimes
    from wagtail_tickets import workflow

    ticket = factories.open_ticket(department, customer=customer)
    workflow.post_reply(ticket, body="On it.", author=agent, by_staff=True)
    client.force_login(superuser)
    for url in (
        reverse("helpdesk_tickets:detail", args=[ticket.pk]),
        reverse("helpdesk_inbox:index"),
        reverse("wagtailadmin_home"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        values = assert_valid_datetimes(response.content.decode())
        assert values, url
