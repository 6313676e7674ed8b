"""Paid support in a real Chromium: a customer with no incidents is told so on the form,
a manager grants a pack in the admin, the customer files a ticket and sees the incident
used on "My account"."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import screenshot
from wagtail_tickets.ledger_check import check_ledger
from wagtail_tickets.models import IncidentPack, LedgerEntry, SupportAccount, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CUSTOMER_PASSWORD = "customer-pass-123"
MANAGER_PASSWORD = "manager-pass-123"


@pytest.fixture
def paid(live_site):
    helpdesk = factories.make_helpdesk()
    premium = factories.make_department(
        helpdesk, title="Premium support", prefix="PRE", support_mode="prepaid"
    )
    factories.site_settings(captcha_mode="none", purchase_url="https://shop.example.com/packs")
    customer = factories.make_user(
        "carol", email="carol@example.com", first_name="Carol", password=CUSTOMER_PASSWORD
    )
    factories.make_manager(
        "mike", codenames=["manage_billing", "view_supportaccount"], password=MANAGER_PASSWORD
    )
    pack = IncidentPack.objects.create(name="Three incidents", incidents=3)
    return helpdesk, premium, customer, pack


def log_in(page, base, username, password):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_customer_buys_nothing_manager_grants_customer_files(paid, live_site, new_context):
    helpdesk, premium, customer, pack = paid
    base = live_site.url

    # 1. The customer has nothing: the form says so before anything is typed.
    customer_page = new_context().new_page()
    log_in(customer_page, base, "carol", CUSTOMER_PASSWORD)
    customer_page.goto(base + premium.url)
    notice = customer_page.locator("#wt-quote")
    expect(notice).to_contain_text("You have no incidents left for this department.")
    expect(notice.get_by_role("link", name="Buy incidents")).to_have_attribute(
        "href", "https://shop.example.com/packs"
    )
    customer_page.get_by_label("Subject").fill("Database keeps restarting")
    customer_page.get_by_label("Message").fill("Every hour, since the upgrade.")
    customer_page.get_by_role("button", name="Send ticket").click()
    expect(customer_page.locator("#wt-error-summary")).to_contain_text("no incidents left")
    expect(customer_page.get_by_label("Subject")).to_have_value("Database keeps restarting")
    screenshot(customer_page, "billing-01-nothing-left")
    assert not Ticket.objects.exists()

    # 2. A manager opens the customer's account in the admin and grants the pack.
    admin = new_context().new_page()
    admin.goto(base + reverse("wagtailadmin_login"))
    admin.get_by_label("Username").fill("mike")
    admin.get_by_label("Password").fill(MANAGER_PASSWORD)
    admin.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    admin.goto(base + reverse("helpdesk_billing_accounts:add"))
    admin.get_by_label("Customer").fill("carol@example.com")
    admin.get_by_role("button", name=re.compile("Create|Save", re.I)).click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Support account")
    admin.get_by_label("Pack").select_option(label="Three incidents")
    admin.get_by_role("button", name="Grant").click()
    expect(admin.get_by_text("“Three incidents” granted: 3 incidents.")).to_be_visible()
    screenshot(admin, "billing-02-manager-granted")
    assert SupportAccount.objects.get(customer=customer).incidents_left == 3

    # 3. The customer files the ticket; "My account" shows the incident used.
    customer_page.goto(base + premium.url)
    expect(customer_page.locator("#wt-quote")).to_contain_text(
        "This request uses 1 of your 3 incidents."
    )
    customer_page.get_by_label("Subject").fill("Database keeps restarting")
    customer_page.get_by_label("Message").fill("Every hour, since the upgrade.")
    customer_page.get_by_role("button", name="Send ticket").click()
    expect(customer_page.locator("#wt-ticket-code")).to_have_text("PRE-000001")
    customer_page.goto(base + helpdesk.url + "account/")
    expect(customer_page.locator(".wt-account-facts")).to_contain_text("2")
    statement = customer_page.locator(".wt-statement")
    expect(statement).to_contain_text("Incident used")
    expect(statement).to_contain_text("PRE-000001")
    expect(customer_page.locator(".wt-grants")).to_contain_text("2 of 3")
    screenshot(customer_page, "billing-03-my-account")
    assert LedgerEntry.objects.filter(kind="use").count() == 1
    assert not check_ledger()
