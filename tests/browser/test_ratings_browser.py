"""A customer rates a reply 2 and reopens the ticket; a manager finds the rating in the
analytics and downloads the overview as a PDF."""

import re
import shutil
import subprocess

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import screenshot
from wagtail_tickets import workflow
from wagtail_tickets.models import Rating, Status, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "rating-pass-123"


@pytest.fixture
def desk(live_site):
    helpdesk = factories.make_helpdesk()
    devices = factories.make_department(helpdesk, title="Devices", prefix="DEV")
    factories.site_settings(captcha_mode="none")
    agent = factories.make_agent("anna", departments=[devices], first_name="Anna")
    # Resolving (a status beyond close/reopen) needs "Can change ticket fields".
    agent = factories.grant(agent, "change_ticket_fields")
    customer = factories.make_user(
        "carol", email="carol@example.com", first_name="Carol", password=PASSWORD
    )
    manager = factories.make_manager(
        "mona",
        codenames=["view_analytics", "view_all_departments"],
        first_name="Mona",
        password=PASSWORD,
    )
    ticket = factories.open_ticket(
        devices, customer=customer, subject="Tablet will not charge", body="Stuck at 3%."
    )
    workflow.assign(ticket, agent)
    factories.staff_reply(ticket, agent, "Please try another cable.")
    workflow.change_status(ticket, Status.first_of_kind(Status.Kind.RESOLVED), user=agent)
    return {"helpdesk": helpdesk, "ticket": ticket, "manager": manager}


def test_customer_rates_and_reopens_and_the_manager_reads_it(
    desk, live_site, new_context, tmp_path
):
    base = live_site.url
    helpdesk, ticket = desk["helpdesk"], desk["ticket"]

    customer = new_context().new_page()
    customer.goto(f"{base}/accounts/login/")  # the customers' login URL, under /accounts/
    customer.get_by_label("Username").fill("carol")
    customer.get_by_label("Password").fill(PASSWORD)
    customer.get_by_role("button", name=re.compile("log in|sign in", re.I)).click()
    ticket_url = base + helpdesk.url + helpdesk.reverse_subpage("ticket_route", args=[ticket.code])
    customer.goto(ticket_url)

    form = customer.locator("form.wt-rating__form")
    group = form.get_by_role("group", name="How helpful was this reply?")
    expect(group).to_be_visible()
    group.get_by_label("2 – Poor").check()
    form.get_by_label("Comment (optional)").fill("The cable was not the problem.")
    screenshot(customer, "rating-01-customer-rates")
    form.get_by_role("button", name="Send rating").click()

    expect(customer.get_by_text("You rated this reply 2 of 5.")).to_be_visible()
    expect(customer.get_by_text("reopen the ticket")).to_be_visible()
    customer.get_by_role("button", name="Reopen my ticket").click()
    expect(customer.get_by_text("Your ticket has been reopened.")).to_be_visible()
    screenshot(customer, "rating-02-reopened")
    assert Ticket.objects.get(pk=ticket.pk).status.kind == Status.Kind.OPEN
    assert Rating.objects.get().score == 2

    manager = new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True).new_page()
    manager.goto(base + reverse("wagtailadmin_login"))
    manager.get_by_label("Username").fill("mona")
    manager.get_by_label("Password").fill(PASSWORD)
    manager.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(manager).to_have_url(re.compile(r"/admin/$"))
    manager.goto(base + reverse("helpdesk_analytics:overview"))
    manager.get_by_role("link", name="Ratings", exact=True).click()
    expect(manager.get_by_text("The cable was not the problem.")).to_be_visible()
    expect(manager.get_by_role("link", name=ticket.code)).to_be_visible()
    screenshot(manager, "rating-03-manager-ratings")

    manager.get_by_role("link", name="Overview", exact=True).click()
    with manager.expect_download() as download:
        manager.get_by_role("link", name="Download PDF").first.click()
    path = tmp_path / "overview.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert "Helpdesk report" in text
        ratings = next(line for line in text.splitlines() if line.strip().startswith("Ratings"))
        assert ratings.split()[-1] == "1"
        assert "Average score" in text and "2.00" in text
