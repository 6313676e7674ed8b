"""The visitor's side in a real Chromium, at a laptop's and a phone's size: the header's
way around (with the keyboard), copying the private link, a reply sent back with
errors, a ticket address opened without its link, the ticket page on a phone, and the
focus ring on a date field's calendar button."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import screenshot
from wagtail_tickets import colours, workflow
from wagtail_tickets.models import Status

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "customer-pass-123"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# helpdesk.css's --wt-focus, as the browser reports it.
FOCUS_RING = "rgb(194, 65, 12)"
FIELDS = [
    {"label": "Product", "field_type": "dropdown", "choices": "Laptop\nPhone\nTablet"},
    {"label": "Serial number", "field_type": "singleline"},
    {"label": "Operating system", "field_type": "singleline"},
    {"label": "Order number", "field_type": "singleline"},
    {"label": "Page where it happens", "field_type": "url"},
    {"label": "When did it start?", "field_type": "date", "required": False},
]


@pytest.fixture
def portal(live_site):
    helpdesk = factories.make_helpdesk()
    department = factories.make_department(helpdesk, title="Devices", prefix="DEV", fields=FIELDS)
    factories.site_settings(captcha_mode="none")
    customer = factories.make_user(
        "carol", email="carol@example.com", first_name="Carol", password=PASSWORD
    )
    return helpdesk, department, customer


def log_in(page, base, username="carol", password=PASSWORD):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Log in").click()


def focused(page):
    """What has the keyboard's focus: its text, and whether the ring shows around it."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                text: (el.innerText || el.value || "").trim(),
                tag: el.tagName.toLowerCase(),
                outline: style.outlineStyle + " " + style.outlineWidth + " " + style.outlineColor,
            };
        }"""
    )


def tab_through(page, count):
    stops = []
    for _ in range(count):
        page.keyboard.press("Tab")
        stops.append(focused(page))
    return stops


def customer_ticket(department, customer, replies=4):
    ticket = factories.open_ticket(
        department,
        customer=customer,
        subject="Screen flickers after the update",
        body="Since yesterday's update the screen flickers every few seconds.",
        custom_fields=[
            {"name": "product", "label": "Product", "type": "dropdown", "value": "Phone"},
            {"name": "serial", "label": "Serial number", "type": "singleline", "value": "SN-4711"},
            {"name": "os", "label": "Operating system", "type": "singleline", "value": "14"},
            {"name": "order", "label": "Order number", "type": "singleline", "value": "10452"},
            {"name": "page", "label": "Page", "type": "url", "value": "https://example.org/a"},
        ],
    )
    agent = factories.make_agent("olga", departments=[department], first_name="Olga")
    for number in range(replies):
        if number % 2 == 0:
            workflow.post_reply(ticket, body=f"Staff answer {number}.", author=agent, by_staff=True)
        else:
            workflow.post_reply(ticket, body=f"Customer answer {number}.", author=customer)
    return ticket


# --- 11 and 20: the header, with the keyboard ------------------------------------------


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_header_leads_everywhere_and_shows_the_keyboard_focus(
    portal, live_site, new_context, viewport
):
    helpdesk, department, customer = portal
    base = live_site.url
    page = new_context(viewport=viewport).new_page()
    page.goto(base + department.url)

    nav = page.locator("header nav")
    for name in ("Support centre", "Find my ticket", "Log in"):
        link = nav.get_by_role("link", name=name)
        expect(link).to_be_visible()
        expect(link).to_be_in_viewport()
    # Skip link, the site's name, then the navigation in reading order.
    stops = tab_through(page, 5)
    assert stops[0]["text"] == "Skip to content"
    assert stops[1]["tag"] == "a" and stops[1]["text"]
    assert [stop["text"] for stop in stops[2:]] == ["Support centre", "Find my ticket", "Log in"]
    for stop in stops:
        assert stop["outline"] == f"solid 3px {FOCUS_RING}", stop
    screenshot(page, f"portal-header-anonymous-{viewport['width']}")

    nav.get_by_role("link", name="Support centre").click()
    expect(page).to_have_url(base + helpdesk.url)
    expect(nav.get_by_role("link", name="Support centre")).to_have_attribute("aria-current", "page")

    log_in(page, base)
    page.goto(base + department.url)
    for name in ("Support centre", "My tickets"):
        expect(nav.get_by_role("link", name=name)).to_be_in_viewport()
    expect(nav.get_by_role("button", name="Log out")).to_be_in_viewport()
    expect(nav.get_by_role("link", name="Log in")).to_have_count(0)
    screenshot(page, f"portal-header-customer-{viewport['width']}")
    nav.get_by_role("link", name="My tickets").click()
    expect(page).to_have_url(base + helpdesk.url + "tickets/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My tickets")
    nav.get_by_role("button", name="Log out").click()
    # Back in the support centre, logged out.
    expect(page).to_have_url(base + helpdesk.url)
    expect(nav.get_by_role("link", name="Log in")).to_be_visible()


# --- 12: the thanks page ----------------------------------------------------------------


def test_copy_link_copies_and_announces(portal, live_site, new_context):
    helpdesk, department, _customer = portal
    base = live_site.url
    context = new_context(viewport=PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    page.goto(base + department.url)
    page.get_by_label("Your name").fill("Ann Visitor")
    page.get_by_label("E-mail").fill("ann@example.com")
    page.get_by_label("Subject").fill("Screen flickers")
    page.get_by_label("Message").fill("It flickers.")
    page.get_by_label("Product").select_option("Phone")
    page.get_by_label("Serial number").fill("SN-1")
    page.get_by_label("Operating system").fill("14")
    page.get_by_label("Order number").fill("1")
    page.get_by_label("Page where it happens").fill("https://example.org/")
    page.get_by_role("button", name="Send ticket").click()

    link = page.locator("#wt-private-link")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    button = page.get_by_role("button", name="Copy link")
    expect(button).to_be_visible()
    button.click()
    # Said in a live region, so screen readers announce it.
    expect(page.locator(".wt-copy [role=status]")).to_have_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == href
    screenshot(page, "portal-thanks-copied-390")

    # Shown once: a reload (or anyone else) sees that there is nothing to show.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("No ticket to show")
    expect(page.locator("#wt-private-link")).to_have_count(0)
    other = new_context().new_page()
    other.goto(base + department.url + "thanks/")
    expect(other.get_by_role("heading", level=1)).to_have_text("No ticket to show")
    expect(other.get_by_text("has been filed")).to_have_count(0)


def test_without_javascript_the_link_can_be_selected(portal, live_site, new_context):
    helpdesk, department, _customer = portal
    base = live_site.url
    page = new_context(java_script_enabled=False).new_page()
    page.goto(base + department.url)
    page.get_by_label("Your name").fill("Ann Visitor")
    page.get_by_label("E-mail").fill("ann@example.com")
    page.get_by_label("Subject").fill("Screen flickers")
    page.get_by_label("Message").fill("It flickers.")
    page.get_by_label("Product").select_option("Phone")
    page.get_by_label("Serial number").fill("SN-1")
    page.get_by_label("Operating system").fill("14")
    page.get_by_label("Order number").fill("1")
    page.get_by_label("Page where it happens").fill("https://example.org/")
    page.get_by_role("button", name="Send ticket").click()
    link = page.locator("#wt-private-link")
    expect(link).to_be_visible()
    # No button that would do nothing; the link's own text is there to select.
    expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
    assert link.evaluate("el => getComputedStyle(el).userSelect") != "none"
    assert link.inner_text() == link.get_attribute("href")


# --- 13: a reply sent back with errors ----------------------------------------------------


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_empty_reply_moves_focus_to_the_error_summary(
    portal, live_site, new_context, tmp_path, viewport
):
    helpdesk, department, customer = portal
    ticket = customer_ticket(department, customer, replies=6)
    base = live_site.url
    log_file = tmp_path / "log.txt"
    log_file.write_text("flicker\n")
    page = new_context(viewport=viewport).new_page()
    log_in(page, base)
    page.goto(base + helpdesk.url + f"tickets/{ticket.code}/")
    page.get_by_label("Attachments").set_input_files(str(log_file))
    page.get_by_role("button", name="Send reply").click()

    summary = page.locator("#wt-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("Please write your reply.")
    note = page.locator(".wt-field", has=page.get_by_label("Attachments")).locator(
        ".wt-field__dropped"
    )
    expect(note).to_contain_text("choose your attachments again")
    screenshot(page, f"portal-reply-error-{viewport['width']}")
    # The summary's link leads to the field.
    summary.get_by_role("link").click()
    expect(page.get_by_label("Your reply")).to_be_focused()


# --- 14: a ticket address without its link -----------------------------------------------


def test_ticket_address_without_the_link_explains_and_finds_the_ticket(
    portal, live_site, new_context
):
    helpdesk, department, _customer = portal
    ticket = factories.open_ticket(department, name="Ann", email="ann@example.com")
    base = live_site.url
    page = new_context(viewport=PHONE).new_page()
    response = page.goto(base + helpdesk.url + f"tickets/{ticket.code}/")
    assert response.status == 403
    expect(page).to_have_url(base + helpdesk.url + f"tickets/{ticket.code}/")  # no login page
    expect(page.get_by_role("heading", level=1)).to_have_text("This ticket is private")
    expect(page.get_by_text(ticket.subject)).to_have_count(0)
    screenshot(page, "portal-ticket-private-390")
    page.locator("main").get_by_label("E-mail address").fill("ann@example.com")
    page.locator("main").get_by_role("button", name="E-mail me my links").click()
    expect(page).to_have_url(base + helpdesk.url + "lookup/")
    expect(page.locator(".wt-messages")).to_contain_text("we have sent it links to them")


# --- 17: the ticket page on a phone -------------------------------------------------------


def test_conversation_comes_first_on_a_phone_and_beside_the_details_on_a_laptop(
    portal, live_site, new_context
):
    helpdesk, department, customer = portal
    ticket = customer_ticket(department, customer)
    workflow.change_status(ticket, Status.objects.get(kind="waiting"))
    base = live_site.url
    url = base + helpdesk.url + f"tickets/{ticket.code}/"

    phone = new_context(viewport=PHONE).new_page()
    log_in(phone, base)
    phone.goto(url)
    first_message = phone.locator(".wt-msg").first
    expect(first_message).to_be_in_viewport()
    assert first_message.bounding_box()["y"] + 60 < PHONE["height"]
    aside = phone.locator(".wt-ticket-aside")
    assert aside.bounding_box()["y"] > phone.locator(".wt-msg").last.bounding_box()["y"]
    expect(aside).to_contain_text("SN-4711")
    badge = phone.locator("#wt-ticket-status .wt-badge")
    expect(badge).to_have_text("Waiting for your reply")
    background, text = badge.evaluate(
        "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]"
    )
    as_hex = [
        "#" + "".join(f"{int(n):02x}" for n in re.findall(r"\d+", c)[:3])
        for c in (
            background,
            text,
        )
    ]
    assert colours.contrast_ratio(*as_hex) >= 4.5
    screenshot(phone, "portal-ticket-390")

    laptop = new_context(viewport=LAPTOP).new_page()
    log_in(laptop, base)
    laptop.goto(url)
    conversation = laptop.locator(".wt-conversation").bounding_box()
    aside = laptop.locator(".wt-ticket-aside").bounding_box()
    assert aside["x"] >= conversation["x"] + conversation["width"]
    expect(laptop.locator(".wt-msg").first).to_be_in_viewport()
    screenshot(laptop, "portal-ticket-1366")


# --- 20: the date field's calendar button ------------------------------------------------


def test_date_fields_calendar_button_shows_the_focus_ring(portal, live_site, new_context):
    helpdesk, department, _customer = portal
    page = new_context(viewport=LAPTOP).new_page()
    page.goto(live_site.url + department.url)
    date = page.get_by_label("When did it start?")
    page.get_by_label("Page where it happens").focus()
    # Day, month and year, then the calendar button: the field itself is no longer
    # :focus, but the button inside it is.
    on_button = False
    for _ in range(6):
        page.keyboard.press("Tab")
        state = date.evaluate(
            "el => [document.activeElement === el, el.matches(':focus'),"
            " getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineColor]"
        )
        if state[0] and not state[1]:
            on_button = True
            break
    assert on_button, "the calendar button never took the focus"
    assert state[2] == "solid" and state[3] == FOCUS_RING
    screenshot(page, "portal-date-picker-focus-1366")
