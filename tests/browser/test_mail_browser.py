"""A mailbox set up in the admin, and an agent reading the original of a mail."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import screenshot
from tests.mail import helpers
from wagtail_tickets.mail.secrets import decrypt
from wagtail_tickets.models import Mailbox

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "admin-pass-123"
MAILBOX_PASSWORD = "imap-Secret-771"


def log_in(page, base, username):
    page.goto(base + reverse("wagtailadmin_login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def test_manager_sets_up_a_mailbox_and_agent_reads_an_original(live_site, new_context):
    helpdesk = factories.make_helpdesk()
    devices = factories.make_department(helpdesk, title="Devices", prefix="DEV")
    factories.site_settings(captcha_mode="none")
    factories.make_manager("postmaster", codenames=["manage_mailboxes"], password=PASSWORD)
    agent = factories.make_agent("anna", departments=[devices], password=PASSWORD)
    base = live_site.url

    page = new_context().new_page()
    log_in(page, base, "postmaster")
    page.goto(base + reverse("helpdesk_mailboxes:add"))
    page.locator("#id_name").fill("support")
    page.locator("#id_address").fill("support@devices.example")
    page.locator("#id_department").select_option(label="Devices")
    page.locator("#id_host").fill("imap.devices.example")
    page.locator("#id_username").fill("support")
    page.locator("#id_password").fill(MAILBOX_PASSWORD)
    screenshot(page, "mail-01-add-mailbox")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("support@devices.example")).to_be_visible()
    screenshot(page, "mail-02-mailboxes")
    mailbox = Mailbox.objects.get()
    assert decrypt(mailbox.password_encrypted) == MAILBOX_PASSWORD

    page.goto(base + reverse("helpdesk_mailboxes:edit", args=[mailbox.pk]))
    expect(page.get_by_role("button", name="Test connection")).to_be_visible()
    assert MAILBOX_PASSWORD not in page.content()
    assert page.locator("#id_password").input_value() == ""
    expect(page.get_by_text("Kept as internal notes: no mail server is trusted")).to_be_visible()
    screenshot(page, "mail-03-edit-mailbox")

    raw = helpers.message(
        sender="carol@example.org",
        subject="Tablet will not charge",
        body="It stays at 3%.\n\nOn Mon, 3 Mar 2025, Support <s@x.org> wrote:\n> Hello",
    )
    ticket = helpers.receive(raw, mailbox).ticket
    agent_page = new_context().new_page()
    log_in(agent_page, base, agent.username)
    agent_page.goto(base + reverse("helpdesk_tickets:detail", args=[ticket.pk]))
    agent_page.get_by_role("link", name="Original e-mail").click()
    expect(agent_page.get_by_text("> Hello")).to_be_visible()
    screenshot(agent_page, "mail-04-original")
