"""Helpdesk → Mailboxes: who may see it, the write-only password, the original e-mail.

Roles: anonymous; an editor (admin access, no desk); an agent (desk profile); a manager
holding every configuration permission but not ``manage_mailboxes``; a mailbox manager
(``manage_mailboxes`` only); a superuser.
"""

import logging

import pytest
from django.urls import reverse

from tests import factories
from tests.admin.test_config import CONFIG_PERMISSIONS, helpdesk_menu_names
from tests.mail import helpers
from tests.mail.helpers import message
from wagtail_tickets.mail.secrets import decrypt
from wagtail_tickets.models import Mailbox

pytestmark = pytest.mark.django_db

PASSWORD = "Sup3r-Secret-IMAP-pw"


@pytest.fixture
def roles(agent, superuser):
    return {
        "anonymous": None,
        "editor": factories.make_manager("editor"),
        "agent": agent,
        "manager": factories.make_manager("manager", codenames=CONFIG_PERMISSIONS),
        "mailbox_manager": factories.make_manager("postmaster", codenames=["manage_mailboxes"]),
        "superuser": superuser,
    }


@pytest.fixture
def imap_mailbox(department, mail_site):
    return helpers.make_mailbox(
        department,
        name="imap",
        protocol="imap",
        host="127.0.0.1",
        port=1,
        security="plain",
        username="helpdesk",
        password=PASSWORD,
        last_error="Connection refused",
    )


def urls(mailbox):
    return {
        "index": reverse("helpdesk_mailboxes:index"),
        "add": reverse("helpdesk_mailboxes:add"),
        "edit": reverse("helpdesk_mailboxes:edit", args=[mailbox.pk]),
        "delete": reverse("helpdesk_mailboxes:delete", args=[mailbox.pk]),
    }


ALLOWED = {"mailbox_manager", "superuser"}


@pytest.mark.parametrize(
    "role", ["anonymous", "editor", "agent", "manager", "mailbox_manager", "superuser"]
)
@pytest.mark.parametrize("screen", ["index", "add", "edit", "delete"])
def test_role_matrix_of_the_mailbox_screens(client, roles, imap_mailbox, role, screen):
    user = roles[role]
    if user is not None:
        client.force_login(user)
    response = client.get(urls(imap_mailbox)[screen])
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("wagtailadmin_login"))
    elif role in ALLOWED:
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert response["Location"] == reverse("wagtailadmin_home")


@pytest.mark.parametrize("role", ["editor", "agent", "manager", "mailbox_manager", "superuser"])
def test_mailboxes_appear_in_the_helpdesk_menu_only_for_those_allowed(roles, role):
    names = helpdesk_menu_names(roles[role])
    assert ("helpdesk_mailboxes" in names) == (role in ALLOWED)


@pytest.mark.parametrize("role", ["editor", "agent", "manager"])
def test_others_cannot_create_change_delete_or_test(client, roles, imap_mailbox, role):
    client.force_login(roles[role])
    client.post(urls(imap_mailbox)["add"], form_data(name="sneaky"))
    client.post(urls(imap_mailbox)["edit"], form_data(name="renamed"))
    client.post(urls(imap_mailbox)["delete"])
    response = client.post(reverse("helpdesk_mailboxes:test", args=[imap_mailbox.pk]))
    assert response.status_code in (302, 403)
    assert list(Mailbox.objects.values_list("name", flat=True)) == ["imap"]


def test_manage_mailboxes_is_offered_in_the_group_editor(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("wagtailusers_groups:add"))
    assert "Can manage mailboxes" in response.content.decode()


def form_data(**overrides):
    return {
        "name": "support",
        "address": "support@helpdesk.example",
        "active": "on",
        "department": "",
        "unknown_senders": "accept",
        "protocol": "imap",
        "host": "imap.example.org",
        "port": "",
        "security": "tls",
        "username": "helpdesk",
        "password": "",
        "password_env": "",
        "folder": "INBOX",
        "after_fetch": "delete",
        "move_to_folder": "",
        **overrides,
    }


def test_password_is_stored_encrypted_and_never_shown_back(client, roles, department):
    client.force_login(roles["mailbox_manager"])
    response = client.post(
        reverse("helpdesk_mailboxes:add"),
        form_data(department=department.pk, password=PASSWORD),
    )
    assert response.status_code == 302, response.context["form"].errors
    mailbox = Mailbox.objects.get()
    assert PASSWORD not in mailbox.password_encrypted
    assert decrypt(mailbox.password_encrypted) == PASSWORD
    for url in (urls(mailbox)["index"], urls(mailbox)["edit"]):
        page = client.get(url).content.decode()
        assert PASSWORD not in page
        assert mailbox.password_encrypted not in page


def test_an_empty_password_field_keeps_the_stored_password(client, roles, department, imap_mailbox):
    client.force_login(roles["superuser"])
    data = form_data(name="imap", department=department.pk, host="127.0.0.1", security="plain")
    response = client.post(urls(imap_mailbox)["edit"], data)
    assert response.status_code == 302
    imap_mailbox.refresh_from_db()
    assert decrypt(imap_mailbox.password_encrypted) == PASSWORD


def test_a_fetching_mailbox_needs_a_password_or_an_environment_variable(client, roles, department):
    client.force_login(roles["superuser"])
    response = client.post(reverse("helpdesk_mailboxes:add"), form_data(department=department.pk))
    assert response.status_code == 200
    assert "password" in response.context["form"].errors
    response = client.post(
        reverse("helpdesk_mailboxes:add"),
        form_data(department=department.pk, password_env="HELPDESK_IMAP_PASSWORD"),
    )
    assert response.status_code == 302
    assert Mailbox.objects.get().password_encrypted == ""


def test_plain_text_is_refused_to_another_machine(client, roles, department):
    client.force_login(roles["superuser"])
    response = client.post(
        reverse("helpdesk_mailboxes:add"),
        form_data(department=department.pk, password=PASSWORD, security="plain"),
    )
    assert response.status_code == 200
    assert "security" in response.context["form"].errors
    assert PASSWORD not in response.content.decode()


def test_pop3_can_only_delete(client, roles, department):
    client.force_login(roles["superuser"])
    response = client.post(
        reverse("helpdesk_mailboxes:add"),
        form_data(department=department.pk, password=PASSWORD, protocol="pop3", after_fetch="seen"),
    )
    assert "after_fetch" in response.context["form"].errors


def test_test_connection_reports_the_error_without_the_password(
    client, roles, imap_mailbox, caplog
):
    caplog.set_level(logging.DEBUG)
    client.force_login(roles["mailbox_manager"])
    response = client.post(reverse("helpdesk_mailboxes:test", args=[imap_mailbox.pk]), follow=True)
    page = response.content.decode()
    assert "The connection failed" in page
    assert PASSWORD not in page and PASSWORD not in caplog.text
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_error and PASSWORD not in imap_mailbox.last_error


def test_the_mailbox_screen_says_what_becomes_of_agents_mail(client, roles, imap_mailbox, settings):
    client.force_login(roles["mailbox_manager"])
    url = urls(imap_mailbox)["edit"]
    html = client.get(url).content.decode()
    assert "Kept as internal notes: no mail server is trusted to confirm senders" in html
    settings.WAGTAIL_TICKETS_MAIL_TRUSTED_AUTHSERV_IDS = ["mx.example.net", "MX.Example.org"]
    html = client.get(url).content.decode()
    assert "A staff reply when mx.example.net, mx.example.org confirmed the sender" in html


def test_test_connection_is_post_only(client, roles, imap_mailbox):
    client.force_login(roles["superuser"])
    response = client.get(reverse("helpdesk_mailboxes:test", args=[imap_mailbox.pk]))
    assert response.status_code == 405


def test_listing_shows_the_last_error(client, roles, imap_mailbox, django_assert_max_num_queries):
    client.force_login(roles["superuser"])
    helpers.make_mailbox(imap_mailbox.department, name="second", address="b@helpdesk.example")
    with django_assert_max_num_queries(20):
        response = client.get(urls(imap_mailbox)["index"])
    assert "Connection refused" in response.content.decode()


# --- the original of a mail -------------------------------------------------------------


@pytest.fixture
def mailed(mailbox):
    raw = message(body="Hi\n\nOn Mon, 3 Mar 2025, Bob <b@x.org> wrote:\n> quoted")
    return raw, helpers.receive(raw, mailbox).message


def test_agent_of_the_department_reads_the_full_text_and_downloads_the_original(
    client, agent, mailed
):
    raw, first = mailed
    client.force_login(agent)
    ticket_page = client.get(reverse("helpdesk_tickets:detail", args=[first.ticket_id]))
    original_url = reverse("wagtail_tickets_mail_original", args=[first.pk])
    assert original_url in ticket_page.content.decode()
    page = client.get(original_url)
    assert page.status_code == 200
    assert "quoted" in page.content.decode()
    download = client.get(reverse("wagtail_tickets_mail_original_eml", args=[first.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == raw
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("role", ["other_agent", "editor", "customer"])
def test_others_never_see_the_original(client, mailed, role, request):
    _raw, first = mailed
    user = factories.make_manager("editor") if role == "editor" else request.getfixturevalue(role)
    client.force_login(user)
    for name in ("wagtail_tickets_mail_original", "wagtail_tickets_mail_original_eml"):
        response = client.get(reverse(name, args=[first.pk]))
        assert response.status_code in (302, 403, 404)
        assert b"quoted" not in response.content


def test_the_customer_page_never_offers_the_original(client, helpdesk, mailbox, customer):
    raw = message(sender=customer.email)
    first = helpers.receive(raw, mailbox).message
    client.force_login(customer)
    url = helpdesk.url + helpdesk.reverse_subpage("ticket_route", args=[first.ticket.code])
    page = client.get(url).content.decode()
    assert first.body in page
    assert ".eml" not in page and "mail/" not in page
