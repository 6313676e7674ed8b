"""PDF transcripts of a ticket: the customer's copy and the staff copy."""

import shutil
import subprocess
import sys

import pytest
from django.urls import reverse

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.pdf import ticket_transcript

pytestmark = pytest.mark.django_db

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)


def pdf_text(content, tmp_path):
    path = tmp_path / "transcript.pdf"
    path.write_bytes(content)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


@pytest.fixture
def conversation(ticket, agent, site_settings):
    ticket.custom_fields = [{"label": "Serial number", "value": "SN-4711", "type": "singleline"}]
    ticket.save(update_fields=["custom_fields"])
    workflow.post_reply(ticket, body="Have you tried turning it off?", author=agent, by_staff=True)
    workflow.post_reply(
        ticket, body="Customer sounds upset", author=agent, by_staff=True, is_internal=True
    )
    workflow.post_reply(
        ticket,
        body="Yes, Ёжик says it still smokes.",
        author=ticket.customer,
        attachments=[factories.validated("smoke.txt", b"smoke\n")],
    )
    return ticket


@needs_pdftotext
def test_customer_copy_has_the_conversation_but_no_notes(client, conversation, agent, tmp_path):
    client.force_login(agent)
    response = client.get(reverse("helpdesk_tickets:pdf", args=[conversation.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{conversation.code}.pdf"'
    text = pdf_text(response.content, tmp_path)
    for expected in (
        conversation.code,
        "Printer is on fire",
        "It started smoking.",
        "Have you tried turning it off?",
        "Ёжик",
        "smoke.txt",
        "SN-4711",
        "Technical support",
        "alice@example.com",
    ):
        assert expected in text, expected
    assert "Customer sounds upset" not in text
    assert "Internal note" not in text


@needs_pdftotext
def test_staff_copy_marks_internal_notes(client, conversation, agent, tmp_path):
    client.force_login(agent)
    response = client.get(reverse("helpdesk_tickets:pdf", args=[conversation.pk]) + "?notes=1")
    text = pdf_text(response.content, tmp_path)
    assert "Customer sounds upset" in text
    assert "INTERNAL NOTE" in text.upper()
    assert "Staff copy" in text


def test_transcript_is_refused_to_other_departments(client, conversation, other_agent):
    client.force_login(other_agent)
    assert client.get(reverse("helpdesk_tickets:pdf", args=[conversation.pk])).status_code == 404


def test_transcript_renders_in_russian(conversation):
    content = ticket_transcript(conversation, language="ru")
    assert content.startswith(b"%PDF-")


class _Refuse:
    """An import hook that fails ``import weasyprint`` with the given error."""

    def __init__(self, error):
        self.error = error

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "weasyprint":
            raise self.error
        return None


@pytest.mark.parametrize(
    "error",
    [
        ImportError("No module named 'weasyprint'"),
        # What WeasyPrint raises on import when libpango is missing.
        OSError("cannot load library 'libpango-1.0-0': No such file or directory"),
    ],
    ids=["not installed", "no pango"],
)
def test_without_weasyprint_the_transcript_says_what_is_missing(
    client, conversation, agent, monkeypatch, error
):
    for name in [name for name in sys.modules if name.split(".")[0] == "weasyprint"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_Refuse(error), *sys.meta_path])
    client.force_login(agent)
    response = client.get(reverse("helpdesk_tickets:pdf", args=[conversation.pk]))
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "cannot make PDF files" in page
    assert "libpango-1.0-0 libpangoft2-1.0-0" in page
    assert reverse("helpdesk_tickets:detail", args=[conversation.pk]) in page
    # The ticket screen itself still works.
    detail = client.get(reverse("helpdesk_tickets:detail", args=[conversation.pk]))
    assert detail.status_code == 200
