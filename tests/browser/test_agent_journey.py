"""The agent's journey in a real Chromium: inbox, saved search, ticket screen, reply, note,
assignment, closing."""

import re

import pytest
from django.core import mail
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import screenshot
from wagtail_tickets import workflow
from wagtail_tickets.models import Message, SavedSearch, Status, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "agent-pass-123"


@pytest.fixture
def desk(live_site):
    from django.contrib.auth.models import Permission

    helpdesk = factories.make_helpdesk()
    devices = factories.make_department(helpdesk, title="Devices", prefix="DEV")
    billing = factories.make_department(helpdesk, title="Billing", prefix="BIL")
    factories.site_settings(captcha_mode="none")
    agent = factories.make_agent(
        "anna", departments=[devices], first_name="Anna", last_name="Agent", password=PASSWORD
    )
    agent.user_permissions.add(
        *Permission.objects.filter(codename__in=["assign_ticket", "change_ticket_fields"])
    )
    agent.helpdesk_profile.signature = "Anna, Devices support"
    agent.helpdesk_profile.save()
    colleague = factories.make_agent(
        "boris", departments=[devices], first_name="Boris", last_name="Colleague"
    )
    customer = factories.make_user("carol", email="carol@example.com", first_name="Carol")
    ticket = factories.open_ticket(
        devices,
        customer=customer,
        subject="Tablet will not charge",
        body="The tablet stays at 3% with the original charger.",
        attachments=[factories.validated("charger.txt", b"voltage: 0\n")],
    )
    factories.open_ticket(devices, subject="Phone screen cracked", body="Dropped it.")
    factories.open_ticket(billing, subject="Invoice question", body="Not for Anna.")
    return {"agent": agent, "colleague": colleague, "ticket": ticket}


def test_agent_works_a_ticket(desk, live_site, new_context):
    base = live_site.url
    ticket = desk["ticket"]
    mail.outbox.clear()
    page = new_context().new_page()

    page.goto(base + reverse("wagtailadmin_login"))
    page.get_by_label("Username").fill("anna")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    screenshot(page, "agent-01-dashboard")

    try:
        inbox = reverse("helpdesk_inbox:index")
    except NoReverseMatch:
        inbox = None
    if inbox:
        # Filter the inbox to new tickets of Devices.
        new = Status.objects.get(is_default=True)
        page.goto(f"{base}{inbox}?status={new.pk}&ordering=created_at")
        expect(page.get_by_text("Tablet will not charge")).to_be_visible()
        expect(page.get_by_text("Invoice question")).to_have_count(0)
        screenshot(page, "agent-02-inbox-filtered")

        page.get_by_text("Save this search").click()
        page.get_by_label("Name").fill("New in Devices")
        page.get_by_role("button", name="Save search").click()
        expect(page.get_by_role("link", name="New in Devices")).to_be_visible()
        assert SavedSearch.objects.filter(owner=desk["agent"], name="New in Devices").exists()
        screenshot(page, "agent-03-search-saved")
        page.get_by_role("link", name=ticket.code).first.click()
    else:
        # The inbox is not installed: open the ticket screen directly.
        page.goto(base + reverse("helpdesk_tickets:detail", args=[ticket.pk]))

    expect(page).to_have_url(re.compile(rf"/helpdesk_tickets/{ticket.pk}/"))
    expect(page.locator(".wt-desk__subject")).to_contain_text("Tablet will not charge")
    expect(page.get_by_text("The tablet stays at 3%")).to_be_visible()
    expect(page.get_by_role("link", name="charger.txt")).to_be_visible()
    screenshot(page, "agent-04-ticket")

    # A public reply, signed, waiting for the customer.
    page.locator("#id_message").fill("Please try another socket and tell me.")
    page.locator("#id_time_spent").fill("10")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Reply sent to the customer.")).to_be_visible()
    expect(page.locator(".wt-msg--staff")).to_contain_text("Anna, Devices support")
    reply = Message.objects.filter(ticket=ticket, is_staff_reply=True).get()
    assert not reply.is_internal
    assert Ticket.objects.get(pk=ticket.pk).status.kind == Status.Kind.WAITING
    screenshot(page, "agent-05-replied")

    # An internal note: marked, never mailed.
    page.locator("#id_message").fill("Probably the charging port; check stock.")
    # The internal-note mode (issue 16.2): the button then says what it does.
    page.locator("label[for=wt-mode-note]").click()
    page.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_text("Internal note added.")).to_be_visible()
    note = page.locator(".wt-msg--note")
    expect(note).to_contain_text("Probably the charging port")
    expect(note).to_contain_text("Internal note")
    assert Message.objects.get(ticket=ticket, is_internal=True).body.startswith("Probably")
    screenshot(page, "agent-06-note")

    # Assign to a colleague.
    page.locator("#id_fields-assignee").select_option(label="Boris Colleague <boris@example.com>")
    page.locator(".wt-desk__aside").get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Ticket {ticket.code} updated.")).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).assignee == desk["colleague"]
    expect(page.locator(".wt-facts")).to_contain_text("Boris Colleague")

    # The history tab tells what happened.
    page.get_by_role("tab", name="History").click()
    history = page.locator("#tab-history")
    expect(history).to_contain_text("Ticket assigned")
    expect(history).to_contain_text("Internal note added")
    screenshot(page, "agent-07-history")

    # Close.
    page.get_by_role("button", name="Close ticket").click()
    expect(page.get_by_text(f"Ticket {ticket.code} closed.")).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).status.kind == Status.Kind.CLOSED
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    screenshot(page, "agent-08-closed")

    # Nothing of the note reached the customer.
    to_customer = [m for m in mail.outbox if "carol@example.com" in m.to]
    assert to_customer, "the customer hears about the reply"
    assert all("charging port" not in m.body for m in to_customer)

    workflow.reopen(Ticket.objects.get(pk=ticket.pk))  # leave a tidy database behind
