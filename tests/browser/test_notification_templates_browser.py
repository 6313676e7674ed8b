"""An editor rewrites a notification in the admin, previews it, tests it, and a
customer's next mail says it."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import screenshot
from wagtail_tickets import workflow

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "admin-pass-123"


def test_editor_rewrites_previews_tests_and_the_customer_gets_it(
    live_site, new_context, django_capture_on_commit_callbacks
):
    helpdesk = factories.make_helpdesk()
    department = factories.make_department(helpdesk, title="Devices", prefix="DEV")
    factories.site_settings(captcha_mode="none")
    editor = factories.make_manager(
        "writer",
        codenames=["manage_notification_templates"],
        departments=[department],
        password=PASSWORD,
        email="writer@example.com",
    )
    ticket = factories.open_ticket(department, email="kim@example.com", subject="Q&A screen")
    mail.outbox.clear()  # the ticket's own notifications
    base = live_site.url

    page = new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(base + reverse("wagtailadmin_login"))
    page.get_by_label("Username").fill("writer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    page.goto(base + reverse("helpdesk_notification_templates:index"))
    edit = "Edit “New reply from staff (to the customer)” in English"
    page.get_by_role("link", name=edit).click()
    expect(page.locator("#id_text_body")).to_have_value(re.compile(r"\{\{ message_text \}\}"))
    page.locator("#id_subject").fill("Answer on {{ ticket_code }}: {{ ticket_subject }}")
    page.locator("#id_html_body").fill(
        '<p>Dear {{ customer_name }},</p><p style="color:#0f766e">{{ message_text }}</p>'
    )
    page.locator("#id_preview_ticket").fill(ticket.code)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-wt-preview-subject]")).to_have_text(
        f"Answer on {ticket.code}: Q&A screen"
    )
    frame = page.frame_locator("iframe[data-wt-preview-html]")
    expect(frame.locator("p").first).to_have_text("Dear Alice,")
    screenshot(page, "notification-templates-01-preview")

    page.get_by_role("button", name="Send me a test").click()
    expect(page.get_by_text("A test mail was sent to writer@example.com.")).to_be_visible()
    assert [m.to for m in mail.outbox] == [["writer@example.com"]]

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("saved; mails use it from now on")).to_be_visible()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.post_reply(ticket, body="Fixed it.", author=editor, by_staff=True)
    [sent] = [m for m in mail.outbox if m.to == ["kim@example.com"]]
    assert sent.subject == f"Answer on {ticket.code}: Q&A screen"
    assert "Fixed it." in sent.alternatives[0][0]

    page.get_by_role("link", name="Reset to default").click()
    page.get_by_role("button", name="Yes, reset to default").click()
    expect(page.get_by_text("is back to the shipped default")).to_be_visible()
    screenshot(page, "notification-templates-02-reset")
