"""The inbox in Chromium: filter, star, save a search; screenshots for people to look at."""

import pytest

from tests import factories

# The browser fixtures live in tests/browser/conftest.py; this test sits with the inbox's.
from tests.browser.conftest import browser, live_site, new_context, screenshot  # noqa: F401
from wagtail_tickets import workflow
from wagtail_tickets.models import Priority

pytestmark = [
    pytest.mark.browser,
    # serialized_rollback keeps the migrations' data (statuses, the default site) for the
    # tests after this transactional one.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def desk(live_site):  # noqa: F811 - the imported fixture
    helpdesk = factories.make_helpdesk()
    tech = factories.make_department(helpdesk, title="Technical support", prefix="SUP")
    sales = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    agent = factories.make_agent(
        "agent", departments=[tech, sales], first_name="Ada", last_name="Agent"
    )
    # Both departments: tickets go only to people who can see them (workflow.rules).
    colleague = factories.make_agent("colleague", departments=[tech, sales], first_name="Cole")
    high = Priority.objects.order_by("sort_order").last()
    subjects = [
        ("Printer is on fire", tech),
        ("Cannot log in after the update", tech),
        ("Invoice shows the wrong VAT", sales),
        ("Screen flickers on the new laptop", tech),
        ("Refund for a double payment", sales),
        ("VPN drops every ten minutes", tech),
    ]
    tickets = []
    for n, (subject, department) in enumerate(subjects):
        ticket = factories.open_ticket(
            department,
            name=f"Customer {n}",
            email=f"customer{n}@example.com",
            subject=subject,
            body=f"Details of: {subject}.",
        )
        if n % 2 == 0:
            workflow.assign(ticket, agent if n % 4 == 0 else colleague)
        if n % 3 == 0:
            workflow.update_fields(ticket, priority=high)
        tickets.append(ticket)
    factories.index_tickets(*tickets)
    return {"agent": agent, "tickets": tickets}


def log_in(page, base_url, username):
    page.goto(f"{base_url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-123-word")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


def test_inbox_filters_stars_and_saved_search(desk, live_site, new_context):  # noqa: F811
    from playwright.sync_api import expect

    page = new_context(viewport={"width": 1400, "height": 900}).new_page()
    log_in(page, live_site.url, "agent")
    page.goto(f"{live_site.url}/admin/helpdesk_inbox/")
    # The inbox opens on the agent's queue (issue 16.4); every ticket is a quick view away.
    page.get_by_role("link", name="All tickets").click()
    expect(page.locator("table.wt-inbox tbody tr")).to_have_count(6)
    screenshot(page, "desk-inbox")

    # quick view, then a star (a plain form post, back to the same view)
    page.get_by_role("link", name="My open tickets").click()
    expect(page.locator("table.wt-inbox tbody tr")).to_have_count(2)
    page.locator("button.wt-star").first.click()
    expect(page.locator('button.wt-star[aria-pressed="true"]')).to_have_count(1)

    # keyword search with a filter in the query string, then save it as my default
    page.goto(f"{live_site.url}/admin/helpdesk_inbox/?q=printer&state=open")
    expect(page.locator("table.wt-inbox tbody tr")).to_have_count(1)
    page.goto(f"{live_site.url}/admin/helpdesk_inbox/?state=open&assignee=unassigned")
    page.locator("summary", has_text="Save this search").click()
    page.fill("input[name=name]", "Unassigned and open")
    page.check("input[name=is_default]")
    page.get_by_role("button", name="Save search").click()
    expect(page.get_by_role("link", name="Unassigned and open")).to_be_visible()
    page.goto(f"{live_site.url}/admin/helpdesk_inbox/")
    expect(page).to_have_url(
        f"{live_site.url}/admin/helpdesk_inbox/?state=open&assignee=unassigned"
    )
    expect(page.locator("table.wt-inbox tbody tr")).to_have_count(3)

    # open the filters drawer to show it
    page.locator("button[aria-label='Show filters'], button:has-text('Filter')").first.click()
    page.wait_for_timeout(300)
    screenshot(page, "desk-inbox-filtered")

    # select two rows: Wagtail's bulk action footer appears
    page.locator("input.bulk-action-checkbox").nth(0).check()
    page.locator("input.bulk-action-checkbox").nth(1).check()
    expect(page.locator("[data-bulk-action-footer]")).to_be_visible()
    screenshot(page, "desk-inbox-bulk")
