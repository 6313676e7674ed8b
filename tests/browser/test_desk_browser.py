"""The agent's desk in Chromium (issue 16, points 1-3): nothing typed is lost, reply and
note are two clear modes, the inbox fits 1280 px with the sidebar open and scrolls when
it cannot fit. Screenshots at 1366x768 and 390x844 for people to look at."""

import pytest

from tests import factories
from tests.browser.conftest import screenshot
from wagtail_tickets import workflow
from wagtail_tickets.models import Message, Priority, ReplyDraft, SavedReply, Status, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "pass-123-word"


@pytest.fixture
def desk(live_site):
    helpdesk = factories.make_helpdesk()
    tech = factories.make_department(helpdesk, title="Technical support", prefix="TECH")
    sales = factories.make_department(helpdesk, title="Sales and billing questions", prefix="SAL")
    agent = factories.make_agent(
        "agent", departments=[tech, sales], first_name="Ada", last_name="Lovelace-Agent"
    )
    agent = factories.grant(agent, "assign_ticket", "change_ticket_fields")
    # Assignees must work in the ticket's department (workflow/rules.py).
    colleague = factories.make_agent(
        "colleague", departments=[tech, sales], first_name="Bartholomew"
    )
    customer = factories.make_user(
        "customer", email="a.very.long.customer.address@example-company.com", first_name="Ann"
    )
    high = Priority.objects.order_by("sort_order").last()
    tickets = []
    subjects = [
        "Checkout page shows a blank screen after paying",
        "Invoice shows the wrong VAT rate for Germany",
        "Cannot log in after the update",
        "Screen flickers on the new laptop",
        "Refund for a double payment",
        "VPN drops every ten minutes",
    ]
    for n, subject in enumerate(subjects):
        ticket = factories.open_ticket(
            sales if n % 3 == 1 else tech, customer=customer, subject=subject
        )
        if n % 2:
            workflow.assign(ticket, colleague if n % 4 == 1 else agent, user=agent)
        if n % 3 == 0:
            workflow.update_fields(ticket, priority=high)
        if n == 2:
            workflow.post_reply(ticket, body="We look.", author=agent, by_staff=True)
        tickets.append(ticket)
    factories.index_tickets(*tickets)
    return {"agent": agent, "tickets": tickets, "customer": customer}


def log_in(page, base_url, username="agent"):
    page.goto(f"{base_url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


def ticket_url(base_url, ticket):
    return f"{base_url}/admin/helpdesk_tickets/{ticket.pk}/"


def wait_for_unsaved_watch(page):
    # Wagtail's unsaved-changes controller takes its snapshot of the form after 2 s.
    page.wait_for_timeout(2300)


def test_nothing_typed_is_lost(desk, live_site, new_context):
    from playwright.sync_api import expect

    ticket = desk["tickets"][0]
    page = new_context(viewport={"width": 1366, "height": 768}).new_page()
    log_in(page, live_site.url)
    page.goto(ticket_url(live_site.url, ticket))
    wait_for_unsaved_watch(page)

    # 1. Typed a reply, then saved a field in the side panel: the reply is still there.
    page.fill("textarea[name=message]", "Please clear the browser cache, then try again.")
    low = Priority.objects.order_by("sort_order").first()
    page.select_option("select[name=fields-priority]", str(low.pk))
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state("load")
    expect(page.locator(".wt-draft")).to_be_visible()
    expect(page.locator("textarea[name=message]")).to_have_value(
        "Please clear the browser cache, then try again."
    )
    assert Ticket.objects.get(pk=ticket.pk).priority_id == low.pk
    assert ReplyDraft.objects.filter(ticket=ticket).count() == 1
    screenshot(page, "desk-ticket-draft-kept")

    # 2. Changed a field, then sent the reply: both happen.
    resolved = Status.first_of_kind(Status.Kind.RESOLVED)
    page.select_option("select[name=fields-status]", str(resolved.pk))
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state("load")
    expect(page.locator(".messages")).to_contain_text("Reply sent to the customer.")
    ticket.refresh_from_db()
    assert ticket.status_id == resolved.pk
    last = Message.objects.filter(ticket=ticket).order_by("pk").last()
    assert last.body.startswith("Please clear the browser cache") and not last.is_internal
    assert not ReplyDraft.objects.exists()

    # 3. Typed text and tried to leave: the browser asks first (Wagtail's warning).
    wait_for_unsaved_watch(page)
    page.fill("textarea[name=message]", "Unsent words")
    page.wait_for_timeout(700)  # the controller checks for edits every half second
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    # "Star" posts its own little form: leaving the page with the text unsent.
    page.get_by_role("button", name="Star", exact=True).click(no_wait_after=True)
    page.wait_for_timeout(1000)
    assert dialogs == ["beforeunload"]
    expect(page.locator("textarea[name=message]")).to_have_value("Unsent words")


def test_reply_and_internal_note_are_two_clear_modes(desk, live_site, new_context):
    from playwright.sync_api import expect

    ticket = desk["tickets"][1]
    SavedReply.objects.create(
        title="Clear the cache", body="Dear {customer_name}, please clear the cache.", owner=None
    )
    for width, height in ((1366, 768), (390, 844)):
        page = new_context(viewport={"width": width, "height": height}).new_page()
        log_in(page, live_site.url)
        page.goto(ticket_url(live_site.url, ticket))
        send = page.locator("button.wt-send")
        expect(send).to_have_accessible_name("Send reply")
        reply_colour = page.locator("#wt-mode-reply + label").evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )

        # keyboard only: focus the mode, arrow to "Internal note"
        page.focus("#wt-mode-reply")
        page.keyboard.press("ArrowRight")
        expect(page.locator("#wt-mode-note")).to_be_checked()
        expect(send).to_have_accessible_name("Add internal note")
        expect(page.locator(".wt-mode__hint--note")).to_be_visible()
        expect(page.locator(".wt-mode__hint--reply")).to_be_hidden()
        note_colour = page.locator("#wt-mode-note + label").evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )
        form_background = page.locator("#wt-ticket-form").evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )
        assert note_colour != reply_colour
        assert form_background not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
        page.locator("#wt-reply-heading").scroll_into_view_if_needed()
        screenshot(page, f"desk-ticket-note-mode-{width}")
        page.keyboard.press("ArrowLeft")
        expect(send).to_have_accessible_name("Send reply")
        page.keyboard.press("ArrowRight")

    # a saved reply goes in at the cursor, placeholders filled
    page.fill("textarea[name=message]", "Hello. Thanks.")
    page.locator("textarea[name=message]").evaluate("el => el.setSelectionRange(7, 7)")
    page.fill("#wt-saved-reply-search", "cache")
    page.get_by_role("button", name="Insert").click()
    expect(page.locator("textarea[name=message]")).to_have_value(
        "Hello. Dear Ann, please clear the cache.Thanks."
    )
    send.click()
    page.wait_for_load_state("load")
    expect(page.locator(".messages")).to_contain_text("Internal note added.")
    note = Message.objects.filter(ticket=ticket).order_by("pk").last()
    assert note.is_internal and note.body.startswith("Hello. Dear Ann")


def _clipped_columns(page):
    return page.evaluate(
        """() => {
            const box = document.querySelector('.wt-inbox-scroll');
            const edge = box.getBoundingClientRect().right + 0.5;
            const cells = [...document.querySelectorAll('table.wt-inbox thead th')];
            return {
                clipped: cells.filter(th => th.getBoundingClientRect().right > edge)
                    .map(th => th.textContent.trim()),
                scrolls: box.scrollWidth > box.clientWidth,
                sidebar: document.querySelector('.sidebar')?.getBoundingClientRect().width || 0,
                viewport: window.innerWidth,
                right: box.getBoundingClientRect().right,
            };
        }"""
    )


@pytest.mark.parametrize("language", ["en", "ru"])
def test_inbox_fits_1280_with_the_sidebar_open_and_scrolls_when_it_cannot(
    desk, live_site, new_context, language
):
    from playwright.sync_api import expect
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(desk["agent"])
    profile.preferred_language = language
    profile.save()
    page = new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(page, live_site.url)
    page.goto(f"{live_site.url}/admin/helpdesk_inbox/?all=1")
    expect(page.locator("table.wt-inbox tbody tr")).to_have_count(6)
    state = _clipped_columns(page)
    assert state["sidebar"] > 150, state  # Wagtail's sidebar is open
    assert state["right"] <= state["viewport"], state
    assert state["clipped"] == [], state
    assert not state["scrolls"], state
    # the unread marker, with its text for screen readers
    expect(page.locator("tr.wt-unread .wt-unread-dot").first).to_be_visible()
    screenshot(page, f"desk-inbox-1280-{language}")

    # narrower than the columns: the table scrolls in its box, the page does not move
    page.set_viewport_size({"width": 1000, "height": 800})
    page.reload()
    state = _clipped_columns(page)
    assert state["scrolls"], state
    page.locator("table.wt-inbox tbody tr").first.locator("td").last.locator(
        "button, a"
    ).first.focus()
    shifted = page.evaluate(
        """() => [document.querySelector('main').scrollLeft,
                  document.scrollingElement.scrollLeft,
                  document.querySelector('.wt-inbox-scroll').scrollLeft]"""
    )
    assert shifted[0] == 0 and shifted[1] == 0, shifted
    assert shifted[2] > 0, shifted  # the box scrolled to show the focused cell

    # the whole row opens the ticket
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_site.url}/admin/helpdesk_inbox/?all=1")
    screenshot(page, f"desk-inbox-1366-{language}")
    row = page.locator("table.wt-inbox tbody tr").first
    code = row.locator("td.title").inner_text().strip()
    row.locator("td.wt-inbox-department, td").nth(5).click()
    page.wait_for_url("**/admin/helpdesk_tickets/*/")
    expect(page.locator(".wt-desk__code")).to_have_text(code)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_site.url}/admin/helpdesk_inbox/")
    screenshot(page, f"desk-inbox-390-{language}")


def test_long_conversation_loads_earlier_messages_in_place(desk, live_site, new_context):
    from playwright.sync_api import expect

    ticket = desk["tickets"][3]
    factories.add_replies(ticket, 70, staff=desk["agent"])
    page = new_context(viewport={"width": 1366, "height": 768}).new_page()
    log_in(page, live_site.url)
    page.goto(ticket_url(live_site.url, ticket))
    expect(page.locator("ol.wt-thread > li.wt-msg")).to_have_count(50)
    url_before = page.url
    page.get_by_role("link", name="Show 50 earlier messages").click()
    expect(page.locator("ol.wt-thread > li.wt-msg")).to_have_count(71)
    assert page.url == url_before  # inserted in place, no new page
    expect(page.locator("[data-wt-older]")).to_have_count(0)
    expect(page.locator("ol.wt-thread > li.wt-msg").first).to_contain_text("It started smoking.")


def test_customers_tickets_are_fetched_when_their_tab_is_opened(desk, live_site, new_context):
    from playwright.sync_api import expect

    ticket, *others = desk["tickets"]
    page = new_context(viewport={"width": 1366, "height": 768}).new_page()
    fetched = []
    page.on("request", lambda request: "part=customer" in request.url and fetched.append(1))
    log_in(page, live_site.url)
    page.goto(ticket_url(live_site.url, ticket))
    page.wait_for_load_state("networkidle")
    assert fetched == []  # not before the tab is opened
    page.get_by_role("tab", name="Customer's tickets").click()
    panel = page.locator("#tab-customer")
    rows = panel.locator("tbody tr")
    expect(rows).to_have_count(len(others))
    for other in others:
        expect(panel.get_by_role("link", name=other.code)).to_be_visible()
    expect(panel.locator("[data-wt-lazy]")).to_have_count(0)
    assert len(fetched) == 1
    # Back to the conversation and again: fetched once.
    page.get_by_role("tab", name="Conversation").click()
    page.get_by_role("tab", name="Customer's tickets").click()
    expect(rows).to_have_count(len(others))
    assert len(fetched) == 1
    screenshot(page, "desk-customers-tickets-tab")
    # Opened from an address that selects the tab: fetched at once.
    page.goto(ticket_url(live_site.url, ticket) + "#tab-customer")
    expect(page.locator("#tab-customer tbody tr")).to_have_count(len(others))
