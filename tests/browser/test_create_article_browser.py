"""In a real Chromium: an agent turns a resolved ticket into a draft article, and links an
article from the reply form's knowledge-base search."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from playwright.sync_api import expect
from wagtail.models import GroupPagePermission

from tests import factories
from tests.browser.conftest import screenshot
from wagtail_tickets import workflow
from wagtail_tickets.models import ArticlePage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "agent-pass-123"


@pytest.fixture
def desk(live_site):
    helpdesk = factories.make_helpdesk()
    devices = factories.make_department(helpdesk, title="Devices", prefix="DEV")
    factories.site_settings(captcha_mode="none")
    kb = factories.make_kb(helpdesk, "Knowledge base")
    printers = factories.make_kb(kb, "Printers")
    factories.make_kb(helpdesk, "Partner notes")  # the agent may not add here
    agent = factories.make_agent(
        "anna", departments=[devices], first_name="Anna", last_name="Agent", password=PASSWORD
    )
    editors, _created = Group.objects.get_or_create(name="KB editors")
    GroupPagePermission.objects.create(
        group=editors, page=kb, permission=Permission.objects.get(codename="add_page")
    )
    agent.groups.add(editors)
    customer = factories.make_user(
        "carol", email="carol.jones@example.com", first_name="Carol", last_name="Jones"
    )
    ticket = factories.open_ticket(
        devices,
        customer=customer,
        subject="Carol Jones: printer will not print",
        body="Since today the printer does nothing. Call me on +44 20 7946 0958.",
    )
    workflow.post_reply(
        ticket, body="Please reinstall the driver, Carol.", author=agent, by_staff=True
    )
    factories.resolve(ticket, agent)
    return {"ticket": ticket, "kb": kb, "printers": printers}


def log_in(page, base):
    page.goto(base + reverse("wagtailadmin_login"))
    page.get_by_label("Username").fill("anna")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def test_agent_drafts_an_article_from_a_resolved_ticket(desk, live_site, new_context):
    base = live_site.url
    ticket, printers = desk["ticket"], desk["printers"]
    page = new_context().new_page()
    log_in(page, base)

    page.goto(base + reverse("helpdesk_tickets:detail", args=[ticket.pk]))
    expect(page.locator(".wt-desk__subject")).to_contain_text("printer will not print")
    page.get_by_role("link", name="Create article").click()
    expect(page).to_have_url(re.compile(r"/article/$"))
    expect(page.get_by_text("Personal data is replaced by placeholders")).to_be_visible()
    category = page.get_by_label("Knowledge base")
    expect(category.locator("option")).to_have_count(2)
    expect(category.locator(f'option[value="{printers.pk}"]')).to_have_text(
        re.compile(r"Knowledge base › Printers$")
    )
    category.select_option(value=str(printers.pk))
    screenshot(page, "article-01-form")
    page.get_by_role("button", name="Create draft article").click()

    expect(page).to_have_url(re.compile(r"/admin/pages/\d+/edit/$"))
    expect(page.locator("#id_title")).to_have_value("[name]: printer will not print")
    screenshot(page, "article-02-editor")
    article = ArticlePage.objects.get()
    assert not article.live
    assert article.get_parent().pk == printers.pk
    assert "7946" not in str(article.body.raw_data)

    page.goto(base + reverse("helpdesk_tickets:detail", args=[ticket.pk]))
    panel = page.locator(".wt-panel--articles")
    expect(panel.get_by_role("link", name="[name]: printer will not print")).to_be_visible()
    expect(panel.get_by_text("draft", exact=True)).to_be_visible()
    screenshot(page, "article-03-ticket-panel")


def test_agent_links_an_article_from_the_reply_form(desk, live_site, new_context):
    base = live_site.url
    factories.make_article(
        desk["kb"], "Resetting the print spooler", summary="Restart the spooler service."
    )
    article = ArticlePage.objects.get()
    ticket = factories.open_ticket(
        desk["ticket"].department, subject="Spooler stuck", body="Jobs are stuck."
    )
    page = new_context().new_page()
    log_in(page, base)
    page.goto(base + reverse("helpdesk_tickets:detail", args=[ticket.pk]))

    reply = page.locator("#id_message")
    reply.fill("Hello, see here: \nThanks.")
    # The cursor at the end of the first line.
    reply.evaluate("el => el.setSelectionRange(el.value.indexOf('\\n'), el.value.indexOf('\\n'))")
    search = page.get_by_label("Knowledge base")
    expect(search).to_be_visible()
    search.fill("spooler")
    search.press("Enter")  # searches; must not send the reply
    result = page.get_by_role("button", name="Resetting the print spooler")
    expect(result).to_be_visible()
    result.click()
    screenshot(page, "article-04-reply-search")
    expected = f"Resetting the print spooler: {article.get_full_url()}"
    expect(reply).to_have_value(f"Hello, see here: {expected}\nThanks.")
    assert ticket.messages.count() == 1
