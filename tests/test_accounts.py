"""Customers' log in, log out and password reset from ``wagtail_tickets.urls``."""

import re

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.urls import reverse
from django.utils import translation
from wagtail.models import Site

from tests import factories
from wagtail_tickets.views import accounts

pytestmark = pytest.mark.django_db

PASSWORD = "pass-123-word"


def test_the_include_serves_the_pages_under_djangos_names():
    assert reverse("login") == "/accounts/login/"
    assert reverse("logout") == "/accounts/logout/"
    assert reverse("password_reset") == "/accounts/password-reset/"
    assert reverse("password_reset_done") == "/accounts/password-reset/sent/"
    assert reverse("password_reset_complete") == "/accounts/reset/done/"


def test_login_page_uses_the_support_centres_look(client, helpdesk):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("link", href=re.compile(r"wagtail_tickets/helpdesk\.css"))
    form = soup.find("form", class_="wt-form")
    assert form.find("input", attrs={"name": "username"})
    assert form.find("input", attrs={"name": "password", "type": "password"})
    assert soup.find("label", attrs={"for": "id_password"})
    assert soup.find("a", href="/accounts/password-reset/")
    # No "Log in" link to the page itself in the header.
    assert not soup.select(".wt-nav a")


def test_login_lands_in_the_support_centre_by_default(client, helpdesk, customer):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == helpdesk.url


def test_login_follows_next_and_a_site_login_redirect(client, helpdesk, customer, settings):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD, "next": "/support/tickets/"}
    )
    assert response["Location"] == "/support/tickets/"
    client.logout()
    settings.LOGIN_REDIRECT_URL = "/somewhere/"
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response["Location"] == "/somewhere/"


def test_login_refuses_an_offsite_next(client, helpdesk, customer):
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == helpdesk.url


def test_a_logged_out_visitor_sees_log_in_and_a_customer_log_out(client, helpdesk, customer):
    soup = BeautifulSoup(client.get(helpdesk.url).content, "html.parser")
    link = soup.select_one(".wt-nav a")
    assert link.get_text(strip=True) == "Log in"
    assert link["href"] == "/accounts/login/?next=/support/"

    client.force_login(customer)
    soup = BeautifulSoup(client.get(helpdesk.url).content, "html.parser")
    form = soup.select_one(".wt-nav form")
    assert form["method"] == "post" and form["action"] == "/accounts/logout/"
    assert form.find("input", attrs={"name": "csrfmiddlewaretoken"})
    assert form.find("button").get_text(strip=True) == "Log out"


def test_log_out_is_a_post_and_returns_home(client, customer):
    client.force_login(customer)
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_failed_logins_are_limited_per_address(client, helpdesk, customer):
    for _attempt in range(accounts.LOGIN_FAILURES_PER_WINDOW):
        response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    # Now even the right password waits, from this address.
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302


def _reset_link(message):
    return re.search(r"https?://\S+/accounts/reset/\S+/", message.body).group(0)


def test_password_reset_mail_links_to_the_site_record_not_the_host_header(
    client, helpdesk, customer
):
    Site.objects.filter(is_default_site=True).update(hostname="help.example.com", port=8443)
    response = client.post(
        "/accounts/password-reset/", {"email": "alice@example.com"}, HTTP_HOST="evil.example"
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "evil.example" not in message.body + message.subject
    link = _reset_link(message)
    assert link.startswith("http://help.example.com:8443/accounts/reset/")
    assert "alice" in message.body


def test_password_reset_sets_a_new_password(client, helpdesk, customer):
    client.post("/accounts/password-reset/", {"email": "alice@example.com"})
    path = _reset_link(mail.outbox[0]).split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    form = soup.find("form", class_="wt-form")
    assert form.find("input", attrs={"name": "new_password1"})
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "A-new-long-passw0rd", "new_password2": "A-new-long-passw0rd"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reset/done/"
    assert "Password changed" in client.get("/accounts/reset/done/").content.decode()
    customer.refresh_from_db()
    assert customer.check_password("A-new-long-passw0rd")
    # The link works once.
    response = client.get("/" + path, follow=True)
    assert "This link is not valid" in response.content.decode()


def test_password_reset_answers_the_same_for_unknown_and_repeated_addresses(
    client, helpdesk, customer
):
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []
    # The IP's window is used up by that request; another visitor asks for alice.
    first = client.post(
        "/accounts/password-reset/", {"email": "alice@example.com"}, REMOTE_ADDR="198.51.100.1"
    )
    again = client.post(
        "/accounts/password-reset/", {"email": "alice@example.com"}, REMOTE_ADDR="198.51.100.2"
    )
    assert first["Location"] == again["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1, "one reset mail per address per window"


def test_password_reset_pages_render(client, helpdesk):
    for path, text in (
        ("/accounts/password-reset/", "Reset your password"),
        ("/accounts/password-reset/sent/", "Check your e-mail"),
        ("/accounts/reset/done/", "Password changed"),
        ("/accounts/reset/MQ/bad-token/", "This link is not valid"),
    ):
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        assert text in response.content.decode(), path


def test_login_pages_speak_russian(client, helpdesk):
    # The locale middleware leaves the request's language active in this thread; the
    # override puts English back for the tests that follow.
    with translation.override("en"):
        response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ru")
        assert "Войти" in response.content.decode()
        factories.make_user("ivan", email="ivan@example.com")
        client.post(
            "/accounts/password-reset/", {"email": "ivan@example.com"}, HTTP_ACCEPT_LANGUAGE="ru"
        )
    assert "парол" in mail.outbox[0].subject.lower()
