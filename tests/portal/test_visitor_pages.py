"""The visitor's pages as people use them: the header's way around, the thanks page only
for the one who filed, a ticket URL without its private link, the names customers see
for statuses, the knowledge base's tag pages and empty searches."""

import json
import re

import pytest
from bs4 import BeautifulSoup
from django.core import mail, signing
from django.test import Client
from django.utils import translation

from tests import factories
from tests.html_checks import assert_valid_html
from wagtail_tickets import workflow
from wagtail_tickets.models import Message, Status, Ticket
from wagtail_tickets.views.department import THANKS_COOKIE

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Ann Visitor",
    "email": "ann@example.com",
    "subject": "Screen flickers",
    "message": "It flickers.",
}


def _soup(response):
    return BeautifulSoup(response.content, "html.parser")


def _nav(response):
    """The header's links as (text, href, current) and its log in / log out."""
    soup = _soup(response)
    nav = soup.select_one("header .wt-nav")
    assert nav is not None, "no navigation in the header"
    links = [
        (a.get_text(strip=True), a["href"], a.get("aria-current") == "page")
        for a in nav.select("a")
    ]
    logout = nav.select_one("form button")
    return links, (logout.get_text(strip=True) if logout else None)


def _status(code):
    return Status.objects.get(kind=code)


# --- 11: the header ----------------------------------------------------------------------


def test_header_for_a_visitor_who_has_not_logged_in(client, helpdesk, department, site_settings):
    links, logout = _nav(client.get(helpdesk.url))
    assert links == [
        ("Support centre", "/support/", True),
        ("Find my ticket", "/support/lookup/", False),
        ("Log in", "/accounts/login/?next=/support/", False),
    ]
    assert logout is None
    links, _ = _nav(client.get(department.url))
    assert [text for text, _href, _current in links] == [
        "Support centre",
        "Find my ticket",
        "Log in",
    ]
    assert links[2][1] == f"/accounts/login/?next={department.url}"


def test_header_for_a_customer(client, helpdesk, department, site_settings, customer):
    client.force_login(customer)
    links, logout = _nav(client.get(helpdesk.url + "tickets/"))
    assert links == [
        ("Support centre", "/support/", False),
        ("My tickets", "/support/tickets/", True),
    ]
    assert logout == "Log out"
    soup = _soup(client.get(helpdesk.url))
    assert soup.select_one("header .wt-nav__user").get_text(strip=True) == "Alice"
    form = soup.select_one("header .wt-nav form")
    assert form["method"] == "post" and form["action"] == "/accounts/logout/"
    # Logging out leads back to the support centre.
    assert form.find("input", attrs={"name": "next"})["value"] == "/support/"
    response = client.post(form["action"], {"next": "/support/"})
    assert response.status_code == 302 and response["Location"] == "/support/"


def test_my_account_appears_where_a_department_charges(
    client, helpdesk, department, site_settings, customer
):
    client.force_login(customer)
    links, _ = _nav(client.get(helpdesk.url))
    assert "My account" not in [text for text, _href, _current in links]
    paid = factories.make_department(
        helpdesk, title="Premium", prefix="PRE", support_mode="prepaid"
    )
    links, _ = _nav(client.get(helpdesk.url))
    assert ("My account", "/support/account/", False) in links
    # Unpublishing the only paid department takes the link away again.
    paid.unpublish()
    links, _ = _nav(client.get(helpdesk.url))
    assert "My account" not in [text for text, _href, _current in links]


def test_header_on_every_customer_page(client, helpdesk, department, site_settings, customer):
    kb = factories.make_kb(helpdesk)
    article = factories.make_article(kb, "Reset the router", tags=["network"])
    ticket = factories.open_ticket(department, customer=customer)
    anonymous_pages = [
        helpdesk.url,
        department.url,
        department.url + "thanks/",
        helpdesk.url + "lookup/",
        helpdesk.url + f"tickets/{ticket.code}/",  # the "this ticket is private" page
        helpdesk.url + "access/" + "x" * 32 + "/",
        kb.url,
        kb.url + "search/?q=router",
        article.url,
        "/accounts/login/",
        "/accounts/password-reset/",
    ]
    for url in anonymous_pages:
        links, _ = _nav(client.get(url))
        assert links[0][:2] == ("Support centre", "/support/"), url
        assert ("Find my ticket", "/support/lookup/") in [link[:2] for link in links], url
    client.force_login(customer)
    for url in [helpdesk.url + f"tickets/{ticket.code}/", helpdesk.url + "tickets/", kb.url]:
        links, logout = _nav(client.get(url))
        assert [text for text, _href, _current in links] == ["Support centre", "My tickets"]
        assert logout == "Log out", url


def test_header_in_russian(client, helpdesk, department, site_settings, customer):
    links, _ = _nav(client.get(helpdesk.url, HTTP_ACCEPT_LANGUAGE="ru"))
    texts = [text for text, _href, _current in links]
    assert texts == ["Центр поддержки", "Найти мою заявку", "Войти"]
    client.force_login(customer)
    links, logout = _nav(client.get(helpdesk.url, HTTP_ACCEPT_LANGUAGE="ru"))
    assert [text for text, _href, _current in links] == ["Центр поддержки", "Мои заявки"]
    assert logout == "Выйти"


# --- 12: the thanks page -----------------------------------------------------------------


def test_thanks_page_without_the_cookie_says_nothing_was_filed(client, department, site_settings):
    response = client.get(department.url + "thanks/")
    assert response.status_code == 200
    text = _soup(response).select_one("main").get_text(" ", strip=True)
    assert "No ticket to show" in text
    assert "filed" not in text.lower() and "thank you" not in text.lower()
    assert not _soup(response).select("#wt-ticket-code, #wt-private-link")
    assert_valid_html(response.content)


def test_thanks_page_with_a_forged_cookie_says_nothing_was_filed(client, department, site_settings):
    client.cookies[THANKS_COOKIE] = json.dumps({"code": "TECH-000001", "link": "https://x/"})
    response = client.get(department.url + "thanks/")
    assert "No ticket to show" in response.content.decode()
    assert "TECH-000001" not in response.content.decode()
    # Signed with another salt: still nothing.
    client.cookies[THANKS_COOKIE] = signing.get_cookie_signer(salt="other").sign(
        json.dumps({"code": "TECH-000001", "link": "https://x/"})
    )
    assert "TECH-000001" not in client.get(department.url + "thanks/").content.decode()


def test_thanks_page_shows_the_ticket_once_with_a_copy_button(
    client, department, site_settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(department.url, FORM)
    assert response.status_code == 302
    thanks = client.get(response["Location"])
    soup = assert_valid_html(thanks.content)
    ticket = Ticket.objects.get()
    assert soup.select_one("#wt-ticket-code").get_text() == ticket.code
    link = soup.select_one("#wt-private-link")
    assert link.get_text() == link["href"] and "/access/" in link["href"]
    copy = soup.select_one("[data-wt-copy]")
    # Hidden until copy-link.js shows it; the status is announced to screen readers.
    assert copy.has_attr("hidden") and copy["data-wt-copy"] == "wt-private-link"
    assert copy.select_one("button[type=button]").get_text(strip=True) == "Copy link"
    assert copy.select_one("[role=status]") is not None
    assert copy["data-wt-copied"] == "Link copied"
    assert soup.find("script", src=re.compile(r"copy-link\.js$"))
    # Reloading shows nothing more: the link was shown once.
    again = client.get(response["Location"])
    assert "No ticket to show" in again.content.decode()
    assert ticket.code not in again.content.decode()


# --- 13: a reply with errors -------------------------------------------------------------


def test_failed_reply_focuses_the_summary_and_says_files_are_dropped(
    client, ticket, site_settings, customer
):
    client.force_login(customer)
    url = ticket.department.get_parent().url + f"tickets/{ticket.code}/"
    response = client.post(
        url, {"action": "reply", "message": " ", "attachments": [factories.upload("log.txt")]}
    )
    assert response.status_code == 400
    soup = assert_valid_html(response.content)
    summary = soup.select_one("#wt-error-summary")
    assert summary["tabindex"] == "-1" and summary["role"] == "alert"
    assert "Please write your reply." in summary.get_text()
    # The page moves focus to the summary, as the department form does.
    script = " ".join(s.get_text() for s in soup.find_all("script"))
    assert 'getElementById("wt-error-summary")' in script and ".focus()" in script
    file_input = soup.find("input", attrs={"name": "attachments"})
    note = file_input.find_parent(class_="wt-field").select_one(".wt-field__dropped")
    assert "choose your attachments again" in note.get_text()
    assert note["id"] in file_input["aria-describedby"].split()
    # Without files there is nothing to choose again.
    response = client.post(url, {"action": "reply", "message": ""})
    assert not _soup(response).select(".wt-field__dropped")
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_reply_refused_by_the_limit_focuses_the_summary_and_keeps_the_text(
    client, ticket, site_settings, customer, settings
):
    settings.WAGTAIL_TICKETS_CUSTOMER_REPLIES_PER_MINUTE = 1  # the first message uses it
    client.force_login(customer)
    url = ticket.department.get_parent().url + f"tickets/{ticket.code}/"
    response = client.post(
        url,
        {
            "action": "reply",
            "message": "Still broken",
            "attachments": [factories.upload("log.txt")],
        },
    )
    assert response.status_code == 429
    soup = assert_valid_html(response.content)
    summary = soup.select_one("#wt-error-summary")
    assert summary["tabindex"] == "-1" and summary["role"] == "alert"
    assert "wait a minute" in summary.get_text()
    script = " ".join(s.get_text() for s in soup.find_all("script"))
    assert 'getElementById("wt-error-summary")' in script and ".focus()" in script
    assert soup.find("textarea", attrs={"name": "message"}).get_text().strip() == "Still broken"
    file_input = soup.find("input", attrs={"name": "attachments"})
    note = file_input.find_parent(class_="wt-field").select_one(".wt-field__dropped")
    assert "choose your attachments again" in note.get_text()
    assert Message.objects.filter(ticket=ticket).count() == 1


# --- 14: a ticket URL without the private link -------------------------------------------


def _normalised(response, code):
    """The page with what differs by nature between two requests taken out: the CSRF
    token and the code typed into the address."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html.replace(code, "CODE")


@pytest.mark.parametrize("method", ["view", "reply", "close", "file"])
def test_anonymous_gets_the_same_private_page_whether_the_code_exists_or_not(
    method, helpdesk, department, site_settings, customer
):
    ticket = factories.open_ticket(
        department, customer=customer, subject="Secret subject", body="Secret body"
    )
    existing, missing = ticket.code, "TECH-999999"
    answers = []
    for code in (existing, missing):
        client = Client()
        url = f"{helpdesk.url}tickets/{code}/"
        if method == "view":
            response = client.get(url)
        elif method == "file":
            response = client.get(url + "files/1/")
        else:
            response = client.post(url, {"action": method, "message": "x"})
        answers.append(response)
    assert [r.status_code for r in answers] == [403, 403]
    assert _normalised(answers[0], existing) == _normalised(answers[1], missing)
    html = answers[0].content.decode()
    assert "Secret subject" not in html and "Secret body" not in html
    assert "This ticket is private" in html
    # Nothing changed.
    ticket.refresh_from_db()
    assert ticket.status.kind == "new" and ticket.message_count == 1


def test_private_page_offers_find_my_ticket_and_log_in(helpdesk, department, site_settings):
    ticket = factories.open_ticket(department)
    url = f"{helpdesk.url}tickets/{ticket.code}/"
    client = Client()
    response = client.get(url)
    soup = assert_valid_html(response.content)
    lookup = soup.select_one("main form[action='/support/lookup/']")
    assert lookup["method"] == "post" and lookup.find("input", attrs={"name": "email"})
    assert soup.select_one(f"main a[href='/accounts/login/?next={url}']")
    assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex, nofollow"
    # The form there works like the support centre's.
    mail.outbox.clear()
    sent = client.post(lookup["action"], {"email": "alice@example.com"})
    assert sent.status_code == 302 and sent["Location"] == "/support/lookup/"


def test_logged_in_non_owner_still_gets_404(client, helpdesk, department, site_settings):
    ticket = factories.open_ticket(department)
    client.force_login(factories.make_user("mallory"))
    for code in (ticket.code, "TECH-999999"):
        assert client.get(f"{helpdesk.url}tickets/{code}/").status_code == 404


def test_private_page_in_russian(helpdesk, department, site_settings):
    response = Client().get(f"{helpdesk.url}tickets/TECH-000123/", HTTP_ACCEPT_LANGUAGE="ru")
    html = response.content.decode()
    assert "Заявка доступна только её автору" in html
    assert "Найти мою заявку" in html


# --- 16: the names customers see ---------------------------------------------------------


@pytest.fixture
def fields_agent(agent):
    # A status other than closed or reopened needs "Can change ticket fields".
    return factories.grant(agent, "change_ticket_fields")


@pytest.fixture
def waiting_ticket(department, customer, fields_agent):
    ticket = factories.open_ticket(department, customer=customer, subject="Modem blinks")
    workflow.change_status(ticket, _status("waiting"), user=fields_agent)
    ticket.refresh_from_db()
    return ticket


def test_customer_pages_show_the_customer_name_of_the_status(
    client, helpdesk, waiting_ticket, customer, site_settings
):
    client.force_login(customer)
    for url in (
        helpdesk.url,
        helpdesk.url + "tickets/",
        helpdesk.url + f"tickets/{waiting_ticket.code}/",
    ):
        html = client.get(url).content.decode()
        assert "Waiting for your reply" in html, url
        assert "Waiting for customer" not in html, url
    soup = _soup(client.get(helpdesk.url + "tickets/"))
    options = [o.get_text(strip=True) for o in soup.select("select[name=status] option")]
    assert options == [
        "Any status",
        "New",
        "In progress",
        "Waiting for your reply",
        "Resolved",
        "Closed",
    ]


def test_customer_filter_in_russian(client, helpdesk, waiting_ticket, customer, site_settings):
    client.force_login(customer)
    soup = _soup(client.get(helpdesk.url + "tickets/", HTTP_ACCEPT_LANGUAGE="ru"))
    state = [o.get_text(strip=True) for o in soup.select("select[name=state] option")]
    assert state == ["Все", "Открытые", "Архив"]
    statuses = [o.get_text(strip=True) for o in soup.select("select[name=status] option")]
    assert "Ждёт вашего ответа" in statuses and "Ожидает ответа клиента" not in statuses
    # The filter's label and its button say different things.
    label = soup.find("label", attrs={"for": "id_state"}).get_text(strip=True)
    button = soup.select_one("form.wt-filters button").get_text(strip=True)
    assert label != button


def test_staff_keep_the_staff_name(client, waiting_ticket, agent):
    client.force_login(agent)
    from django.urls import reverse

    html = client.get(reverse("helpdesk_tickets:detail", args=[waiting_ticket.pk])).content.decode()
    assert "Waiting for customer" in html
    assert "Waiting for your reply" not in html


@pytest.mark.parametrize(
    ("language", "expected", "staff_word"),
    [
        ("en", "Status: Waiting for your reply", "Waiting for customer"),
        ("ru", "Статус: Ждёт вашего ответа", "Ожидает ответа клиента"),
    ],
)
def test_mail_to_the_customer_names_the_status_for_customers(
    language, expected, staff_word, department, fields_agent, django_capture_on_commit_callbacks
):
    with translation.override(language):
        ticket = factories.open_ticket(department, email="ann@example.com")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.change_status(ticket, _status("waiting"), user=fields_agent)
        workflow.post_reply(ticket, body="Which modem?", author=fields_agent, by_staff=True)
    [to_customer] = [m for m in mail.outbox if m.to == ["ann@example.com"]]
    assert expected in to_customer.body
    assert staff_word not in to_customer.body


# --- 18: the knowledge base --------------------------------------------------------------


def test_tag_page_is_titled_by_its_tag(client, helpdesk, site_settings):
    kb = factories.make_kb(helpdesk)
    factories.make_article(kb, "Reset the router", tags=["network"])
    factories.make_article(kb, "Change the password", tags=["account"])
    response = client.get(kb.url + "search/?tag=network")
    soup = assert_valid_html(response.content)
    assert soup.select_one("h1").get_text(strip=True) == "Articles tagged “network”"
    assert soup.title.get_text().startswith("Articles tagged “network”")
    assert "Popular articles" not in soup.get_text()
    assert "Reset the router" in soup.get_text() and "Change the password" not in soup.get_text()
    # Without a tag the page is still the knowledge base's own.
    plain = _soup(client.get(kb.url + "search/"))
    assert plain.select_one("h1").get_text(strip=True) == "Search Knowledge base"


def test_search_without_results_offers_the_departments(client, helpdesk, department, site_settings):
    kb = factories.make_kb(helpdesk)
    factories.make_article(kb, "Reset the router")
    factories.make_department(helpdesk, title="Draft desk", prefix="DRA", live=False)
    sales = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    response = client.get(kb.url + "search/?q=teleportation")
    soup = assert_valid_html(response.content)
    ask = soup.select_one(".wt-kb-ask")
    assert ask is not None
    offers = [(a.get_text(strip=True), a["href"]) for a in ask.select("a")]
    assert offers == [
        ("Open a ticket: Technical support", department.url),
        ("Open a ticket: Sales", sales.url),
    ]
    # A search that finds something does not.
    found = _soup(client.get(kb.url + "search/?q=router"))
    assert found.select_one(".wt-kb-ask") is None
    # A knowledge base outside any support centre offers the site's departments.
    elsewhere = factories.make_kb(helpdesk.get_parent(), title="Docs", slug="docs")
    soup = _soup(client.get(elsewhere.url + "search/?q=teleportation"))
    assert [a["href"] for a in soup.select(".wt-kb-ask a")] == [department.url, sales.url]


# --- 21: valid HTML ----------------------------------------------------------------------


def test_customer_pages_are_valid_html(client, helpdesk, department, site_settings, customer):
    kb = factories.make_kb(helpdesk)
    factories.make_article(kb, "Reset the router", tags=["network"])
    ticket = factories.open_ticket(department, customer=customer)
    workflow.post_reply(ticket, body="Thanks, noted.", author=customer)
    anonymous = [
        helpdesk.url,
        department.url,
        department.url + "thanks/",
        helpdesk.url + "lookup/",
        helpdesk.url + f"tickets/{ticket.code}/",
        kb.url + "search/?q=nothing-here",
        kb.url + "search/?tag=network",
        "/accounts/login/",
    ]
    for url in anonymous:
        assert_valid_html(client.get(url).content)
    client.force_login(customer)
    assert_valid_html(client.get(helpdesk.url).content)
    for url in (helpdesk.url + "tickets/", helpdesk.url + f"tickets/{ticket.code}/"):
        response = client.get(url)
        assert response.status_code == 200
        soup = assert_valid_html(response.content)
        assert soup.find_all("time", datetime=True), url
    # The department form sent back with errors.
    client.logout()
    response = client.post(department.url, {**FORM, "email": "not an address"})
    assert response.status_code == 400
    assert_valid_html(response.content)
