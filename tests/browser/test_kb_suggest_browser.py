"""Article suggestions while a visitor types a ticket subject, in a real Chromium."""

import time

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import screenshot
from wagtail_tickets.models import SuggestionStat, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MESSAGE = "Since this morning I cannot sign in."


@pytest.fixture
def desk(live_site):
    helpdesk = factories.make_helpdesk()
    devices = factories.make_department(helpdesk, title="Devices", prefix="DEV")
    kb = factories.make_kb(helpdesk, "Knowledge base")
    own = factories.make_article(
        kb,
        "Password expired",
        summary="What to do when your password stops working.",
        body_text="Choose a new password on the sign-in page.",
        department=devices,
    )
    factories.make_article(kb, "Reset your password", summary="Get a new one by e-mail.")
    factories.make_article(kb, "<b>Password</b> tricks", summary="Markup stays text.")
    factories.make_article(kb, "Printer is on fire", summary="Unplug it.")
    factories.site_settings(captcha_mode="none")
    return devices, own


def _counts(department):
    stat = SuggestionStat.objects.filter(department=department).first()
    return (stat.shown, stat.opened, stat.filed) if stat else (0, 0, 0)


def _wait_for_counts(department, expected, timeout=10):
    """The figures arrive by beacon, a moment after the click that sent them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _counts(department) == expected:
            return
        time.sleep(0.1)
    assert _counts(department) == expected


def test_visitor_sees_suggestions_opens_one_and_keeps_the_form(desk, live_site, new_context):
    devices, own = desk
    context = new_context()
    page = context.new_page()
    page.goto(live_site.url + devices.url)

    # Without typing, only the plain link to the knowledge-base search is there.
    expect(page.get_by_role("link", name="Search the knowledge base")).to_be_visible()
    expect(page.locator("#wt-suggest-box")).to_be_hidden()

    page.get_by_label("Your name").fill("Ann Visitor")
    page.get_by_label("E-mail").fill("ann@example.com")
    page.get_by_label("Message").fill(MESSAGE)
    page.get_by_label("Subject").press_sequentially("passw", delay=40)

    suggestions = page.locator(".wt-suggest__list .wt-suggest__link")
    expect(suggestions.first).to_contain_text("Password expired")  # the department's own
    expect(suggestions).to_have_count(3)
    # A title is text, never markup.
    expect(page.locator(".wt-suggest__list")).to_contain_text("<b>Password</b> tricks")
    expect(page.locator("#wt-suggest-status")).to_have_text("3 articles may answer your question.")
    expect(page.locator(".wt-suggest__more a")).to_contain_text(
        "Search the knowledge base for “passw”"
    )
    screenshot(page, "kb-suggest-01-suggestions")
    _wait_for_counts(devices, (1, 0, 0))

    # Typing on refines the list; the form was counted once.
    page.get_by_label("Subject").press_sequentially("ord expired", delay=40)
    expect(page.locator(".wt-suggest__more a")).to_contain_text("“password expired”")
    expect(suggestions.first).to_contain_text("Password expired")

    with context.expect_page() as opened:
        suggestions.first.click()
    article_tab = opened.value
    article_tab.wait_for_load_state()
    assert article_tab.url == live_site.url + own.url
    expect(article_tab.get_by_role("heading", level=1)).to_have_text("Password expired")
    _wait_for_counts(devices, (1, 1, 0))

    # The form is untouched in its own tab.
    expect(page.get_by_label("Subject")).to_have_value("password expired")
    expect(page.get_by_label("Message")).to_have_value(MESSAGE)
    expect(page.get_by_label("Your name")).to_have_value("Ann Visitor")
    expect(page.locator("input[name=kb_suggestions_shown]")).to_have_value("1")
    screenshot(page, "kb-suggest-02-form-kept")

    # Escape closes the list; a short subject shows none.
    page.get_by_label("Subject").press("Escape")
    expect(page.locator("#wt-suggest-box")).to_be_hidden()

    page.get_by_role("button", name="Send ticket").click()
    expect(page.locator("#wt-ticket-code")).to_be_visible()
    _wait_for_counts(devices, (1, 1, 1))
    assert Ticket.objects.get().subject == "password expired"


def test_suggestions_go_away_when_the_subject_gets_short(desk, live_site, new_context):
    devices, _own = desk
    page = new_context().new_page()
    page.goto(live_site.url + devices.url)

    with page.expect_request(lambda request: "suggest/" in request.url, timeout=3000) as asked:
        page.get_by_label("Subject").press_sequentially("printer", delay=40)
    assert "q=printer" in asked.value.url
    expect(page.locator(".wt-suggest__link")).to_have_count(1)

    page.get_by_label("Subject").fill("pr")
    expect(page.locator("#wt-suggest-box")).to_be_hidden()
    expect(page.locator("#wt-suggest-status")).to_have_text("")
    _wait_for_counts(devices, (1, 0, 0))
