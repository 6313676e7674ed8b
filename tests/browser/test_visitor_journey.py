"""The visitor's journey in a real Chromium: file a ticket, follow it by its private link."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import screenshot
from wagtail_tickets.models import Message, Ticket

pytestmark = [
    pytest.mark.browser,
    # serialized_rollback: the flush after a transactional test would otherwise wipe
    # the statuses, priorities and root page that migrations create.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

JOURNEY_FIELDS = [
    {"label": "Product", "field_type": "dropdown", "choices": "Laptop\nPhone\nTablet"},
    {"label": "I have restarted the device", "field_type": "checkbox"},
    {"label": "Serial number", "field_type": "singleline"},
]
SUBJECT = "Screen flickers after the update"
MESSAGE = "Since yesterday's update the screen flickers every few seconds."
ATTACHMENT = b"flicker log: 12:00 flicker\n12:01 flicker\n"


@pytest.fixture
def desk(live_site):
    helpdesk = factories.make_helpdesk()
    factories.make_department(helpdesk, title="Billing", prefix="BIL")
    devices = factories.make_department(
        helpdesk, title="Devices", prefix="DEV", fields=JOURNEY_FIELDS
    )
    # The real spam protection: honeypot plus a signed minimum fill time.
    factories.site_settings(captcha_mode="honeypot", min_fill_seconds=1)
    return helpdesk, devices


def test_visitor_files_and_follows_a_ticket(desk, live_site, new_context, tmp_path):
    helpdesk, devices = desk
    base = live_site.url
    log_file = tmp_path / "flicker.txt"
    log_file.write_bytes(ATTACHMENT)
    mail.outbox.clear()

    page = new_context().new_page()
    page.goto(base + helpdesk.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Support")
    screenshot(page, "visitor-01-support-centre")

    page.locator(".wt-department__title a", has_text="Devices").click()
    expect(page).to_have_url(base + devices.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Devices")

    # First attempt with a mistyped e-mail address.
    page.get_by_label("Your name").fill("Ann Visitor")
    page.get_by_label("E-mail").fill("ann@example")
    page.get_by_label("Subject").fill(SUBJECT)
    page.get_by_label("Message").fill(MESSAGE)
    page.get_by_label("Product").select_option("Phone")
    page.get_by_label("I have restarted the device").check()
    page.get_by_label("Serial number").fill("SN-4711")
    page.get_by_label("Attachments").set_input_files(str(log_file))
    screenshot(page, "visitor-02-department-form")
    page.wait_for_timeout(1200)  # longer than min_fill_seconds
    page.get_by_role("button", name="Send ticket").click()

    summary = page.locator("#wt-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("E-mail")
    expect(page.get_by_label("Subject")).to_have_value(SUBJECT)
    expect(page.get_by_label("Message")).to_have_value(MESSAGE)
    expect(page.get_by_label("Product")).to_have_value("Phone")
    expect(page.get_by_label("I have restarted the device")).to_be_checked()
    expect(page.get_by_label("Serial number")).to_have_value("SN-4711")
    expect(page.get_by_text("choose your attachments again")).to_be_visible()
    screenshot(page, "visitor-03-error-summary")
    assert Ticket.objects.count() == 0

    page.get_by_label("E-mail").fill("ann@example.com")
    page.get_by_label("Attachments").set_input_files(str(log_file))
    page.get_by_role("button", name="Send ticket").click()

    code_box = page.locator("#wt-ticket-code")
    expect(code_box).to_have_text(re.compile(r"^DEV-\d{6}$"))
    code = code_box.inner_text()
    link = page.locator("#wt-private-link").get_attribute("href")
    # The link points at the live site (its Site record), not at some other host.
    assert re.fullmatch(re.escape(base) + r"/support/access/[A-Za-z0-9_-]+/", link), link
    expect(page.locator("#wt-private-link")).to_have_text(link)
    screenshot(page, "visitor-04-confirmation")

    ticket = Ticket.objects.get(code=code)
    assert ticket.subject == SUBJECT and ticket.customer is None
    assert [(f["label"], f["value"]) for f in ticket.custom_fields] == [
        ("Product", "Phone"),
        ("I have restarted the device", True),
        ("Serial number", "SN-4711"),
    ]
    # The confirmation mail carries the code and a signed link of its own (the raw token
    # never goes through the task queue); it opens the same ticket in a fresh browser.
    confirmation = [m for m in mail.outbox if m.to == ["ann@example.com"]]
    assert len(confirmation) == 1
    assert code in confirmation[0].subject
    mail_link = re.search(re.escape(base) + r"/support/access/\S+/", confirmation[0].body)
    assert mail_link and link not in confirmation[0].body
    from_mail = new_context().new_page()
    from_mail.goto(mail_link.group(0))
    expect(from_mail.locator("#wt-ticket-code")).to_have_text(code)

    # Another browser (no cookies from the visit) opens the private link.
    visitor = new_context().new_page()
    visitor.goto(link)
    expect(visitor).to_have_url(base + f"{helpdesk.url}tickets/{code}/")
    expect(visitor.locator("#wt-ticket-code")).to_have_text(code)
    expect(visitor.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(visitor.locator(".wt-conversation")).to_contain_text(MESSAGE)
    expect(visitor.locator(".wt-details")).to_contain_text("SN-4711")
    expect(visitor.locator("#wt-ticket-status")).to_have_text("New")
    file_link = visitor.get_by_role("link", name="flicker.txt")
    expect(file_link).to_be_visible()
    screenshot(visitor, "visitor-05-conversation")
    with visitor.expect_download() as download_info:
        file_link.click()
    download = download_info.value
    assert download.suggested_filename == "flicker.txt"
    with open(download.path(), "rb") as handle:
        assert handle.read() == ATTACHMENT

    visitor.get_by_label("Your reply").fill("It also happens on battery power.")
    visitor.get_by_role("button", name="Send reply").click()
    expect(visitor.locator(".wt-messages")).to_contain_text("Your reply has been sent.")
    expect(visitor.locator(".wt-msg").last).to_contain_text("It also happens on battery power.")
    screenshot(visitor, "visitor-06-replied")

    visitor.get_by_role("button", name="Close ticket").click()
    expect(visitor.locator("#wt-ticket-status")).to_have_text("Closed")
    expect(visitor.get_by_role("button", name="Reopen ticket")).to_be_visible()
    screenshot(visitor, "visitor-07-closed")

    visitor.get_by_role("button", name="Reopen ticket").click()
    # The status "Open" is "In progress" to customers (Status.customer_name).
    expect(visitor.locator("#wt-ticket-status")).to_have_text("In progress")
    expect(visitor.get_by_role("button", name="Close ticket")).to_be_visible()
    screenshot(visitor, "visitor-08-reopened")

    ticket.refresh_from_db()
    assert ticket.status.kind == "open"
    assert list(Message.objects.filter(ticket=ticket).values_list("body", flat=True)) == [
        MESSAGE,
        "It also happens on battery power.",
    ]


def test_russian_browser_gets_a_russian_page(desk, live_site, new_context):
    _helpdesk, devices = desk
    url = live_site.url + devices.url

    russian = new_context(locale="ru-RU").new_page()
    response = russian.goto(url)
    assert response.status == 200
    expect(russian.locator("html")).to_have_attribute("lang", "ru")
    screenshot(russian, "locale-ru-department")

    english = new_context(locale="en-GB").new_page()
    english.goto(url)
    expect(english.locator("html")).to_have_attribute("lang", "en")
