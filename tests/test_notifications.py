"""Who is told what by e-mail, in which language, and what a broken mail server does."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from tests import factories, mail_backends
from wagtail_tickets import workflow
from wagtail_tickets.models import AccessLink, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(department):
    """An agent of the department who may also assign and set any status (workflow.rules)."""
    user = factories.make_agent("agent", departments=[department])
    return factories.grant(user, "assign_ticket", "change_ticket_fields")


LINK_RE = re.compile(r"https?://[^\s<>\"]+/access/[A-Za-z0-9_:-]+/")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
FAILING_BACKENDS = [
    "tests.mail_backends.RefusingBackend",
    "tests.mail_backends.SMTPErrorBackend",
]


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the block, then its on-commit work (signals, notification tasks)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _reset_failed_attempts():
    mail_backends.attempts.clear()


def mails_to(address):
    return [m for m in mail.outbox if address in m.to]


def recipients():
    return [m.to for m in mail.outbox]


def status(kind):
    return Status.first_of_kind(kind)


def access_url(helpdesk, token):
    return helpdesk.url + helpdesk.reverse_subpage("access_route", args=[token])


def ticket_path(helpdesk, ticket):
    return helpdesk.url + helpdesk.reverse_subpage("ticket_route", args=[ticket.code])


def lookup_url(helpdesk):
    return helpdesk.url + helpdesk.reverse_subpage("lookup_route")


def open_in_fresh_browser(link):
    """Follow a link from an e-mail in a browser that has never seen the site."""
    browser = Client()
    response = browser.get(link, follow=True)
    final_path = response.redirect_chain[-1][0] if response.redirect_chain else None
    return response, final_path


def staff_mails(customer_email):
    return [m for m in mail.outbox if m.to != [customer_email]]


# --- a new ticket ----------------------------------------------------------------------


def test_confirmation_mail_has_the_code_and_a_working_private_link(helpdesk, department, commit):
    with commit():
        ticket, raw_token = factories.open_ticket_with_token(
            department, customer_email="ann@example.com", subject="Lost password"
        )
    [confirmation] = mails_to("ann@example.com")
    assert ticket.code in confirmation.subject
    assert ticket.code in confirmation.body
    assert department.title in confirmation.body
    links = LINK_RE.findall(confirmation.body)
    assert len(links) == 1 and links[0].startswith(helpdesk.get_full_url() + "access/")
    # The mail is built by a background task, so it carries a signed link: the raw
    # token shown on the confirmation page never travels through the task queue.
    assert raw_token not in confirmation.body

    response, final_path = open_in_fresh_browser(links[0])
    assert response.status_code == 200
    assert final_path == ticket_path(helpdesk, ticket)
    assert "I cannot log in." in response.content.decode()


def test_new_ticket_mails_the_department_staff_who_want_it(
    helpdesk, department, agent, other_agent, customer, commit
):
    quiet = factories.make_agent("quiet", departments=[department])
    quiet.helpdesk_profile.notify_new_tickets = False
    quiet.helpdesk_profile.save()
    factories.make_agent("gone", departments=[department], is_active=False)
    factories.site_settings(notify_email="desk@example.com")

    with commit():
        ticket = factories.open_ticket(department, customer=customer, body="Smoke everywhere.")

    [to_staff] = staff_mails(customer.email)
    assert to_staff.to == [agent.email]
    assert ticket.code in to_staff.subject
    assert to_staff.reply_to == [customer.email]
    assert "Smoke everywhere." in to_staff.body
    assert len(mails_to(customer.email)) == 1, "the customer gets the confirmation only"


def test_new_ticket_of_a_department_without_staff_goes_to_the_notify_address(
    helpdesk, customer, other_agent, commit
):
    billing = factories.make_department(helpdesk, title="Billing", prefix="BIL")
    factories.site_settings(notify_email="desk@example.com")
    with commit():
        ticket = factories.open_ticket(billing, customer=customer)
    [to_staff] = staff_mails(customer.email)
    assert to_staff.to == ["desk@example.com"]
    assert ticket.code in to_staff.subject


def test_new_ticket_with_nobody_to_tell_mails_only_the_customer(helpdesk, customer, commit):
    billing = factories.make_department(helpdesk, title="Billing", prefix="BIL")
    with commit():
        factories.open_ticket(billing, customer=customer)
    assert recipients() == [[customer.email]]


def test_new_ticket_assigned_in_the_same_transaction_mails_only_the_assignee(
    department, agent, customer, commit
):
    second = factories.make_agent("second", departments=[department])
    with commit():
        ticket = factories.open_ticket(department, customer=customer)
        # What an assignment inside the submission's transaction leaves behind.
        Ticket.objects.filter(pk=ticket.pk).update(assignee=second)
    assert [m.to for m in staff_mails(customer.email)] == [[second.email]]


# --- replies ---------------------------------------------------------------------------


def test_customer_reply_mails_the_department_staff(ticket, agent, customer, commit):
    with commit():
        workflow.post_reply(ticket, body="Here is the photo.", author=customer)
    assert recipients() == [[agent.email]]
    [message] = mail.outbox
    assert ticket.code in message.subject
    assert "Here is the photo." in message.body
    assert message.reply_to == [customer.email]


def test_customer_reply_on_an_assigned_ticket_mails_only_the_assignee(
    department, ticket, agent, customer, commit
):
    second = factories.make_agent("second", departments=[department])
    Ticket.objects.filter(pk=ticket.pk).update(assignee=second)
    with commit():
        workflow.post_reply(ticket, body="Any news?", author=customer)
    assert recipients() == [[second.email]]


def test_customer_reply_is_not_mailed_to_staff_who_turned_it_off(ticket, agent, customer, commit):
    agent.helpdesk_profile.notify_customer_replies = False
    agent.helpdesk_profile.save()
    with commit():
        workflow.post_reply(ticket, body="Any news?", author=customer)
    assert mail.outbox == []


def test_staff_reply_mails_the_customer_a_signed_link_that_opens_the_ticket(
    helpdesk, anon_ticket, agent, commit
):
    with commit():
        workflow.post_reply(
            anon_ticket, body="Please restart the printer.", author=agent, by_staff=True
        )
    assert recipients() == [["ann@example.com"]], "one mail, to the customer only"
    [message] = mail.outbox
    assert anon_ticket.code in message.subject
    assert "Please restart the printer." in message.body
    [link] = LINK_RE.findall(message.body)

    response, final_path = open_in_fresh_browser(link)
    assert response.status_code == 200
    assert final_path == ticket_path(helpdesk, anon_ticket)
    assert "Please restart the printer." in response.content.decode()

    tampered = link.replace("/access/", "/access/x")
    assert Client().get(tampered).status_code == 404

    # Another private link leaves the signed links sent so far working.
    workflow.issue_access_token(anon_ticket)
    response, _final = open_in_fresh_browser(link)
    assert response.status_code == 200
    # Revoking the ticket's links retires them.
    workflow.revoke_access_links(anon_ticket)
    response, _final = open_in_fresh_browser(link)
    assert response.status_code == 404


def test_internal_notes_mail_nobody(ticket, agent, commit):
    with commit():
        workflow.post_reply(
            ticket, body="Customer is grumpy.", author=agent, by_staff=True, is_internal=True
        )
    assert mail.outbox == []


# --- status changes ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["resolved", "closed"])
def test_resolving_or_closing_mails_the_customer(helpdesk, ticket, agent, customer, kind, commit):
    with commit():
        workflow.change_status(ticket, status(kind), user=agent)
    assert recipients() == [[customer.email]]
    [message] = mail.outbox
    assert ticket.code in message.subject
    [link] = LINK_RE.findall(message.body)
    response, final_path = open_in_fresh_browser(link)
    assert response.status_code == 200
    assert final_path == ticket_path(helpdesk, ticket)


def test_other_status_changes_mail_nobody(ticket, agent, commit):
    with commit():
        workflow.change_status(ticket, status("open"), user=agent)
        workflow.change_status(ticket, status("waiting"), user=agent)
    assert mail.outbox == []


# --- language ----------------------------------------------------------------------------


def _without_code(text, ticket):
    return text.replace(ticket.code, "CODE")


def test_mail_is_written_in_the_ticket_language(department, agent, commit):
    before = translation.get_language()
    with commit():
        english, _token = factories.open_ticket_with_token(
            department, customer_email="en@example.com", subject="Printer", language="en"
        )
        russian, _token = factories.open_ticket_with_token(
            department, customer_email="ru@example.com", subject="Printer", language="ru"
        )
    [to_english] = mails_to("en@example.com")
    [to_russian] = mails_to("ru@example.com")
    assert _without_code(to_russian.subject, russian) != _without_code(to_english.subject, english)
    assert CYRILLIC.search(to_russian.subject)
    assert CYRILLIC.search(to_russian.body)
    assert not CYRILLIC.search(to_english.subject + to_english.body)
    # Staff read the site's language whatever the customer's.
    staff_subjects = [m.subject for m in staff_mails("ru@example.com") if m.to == [agent.email]]
    assert len(staff_subjects) == 2
    assert not any(CYRILLIC.search(subject) for subject in staff_subjects)
    assert translation.get_language() == before, "sending does not change the active language"

    mail.outbox.clear()
    with commit():
        workflow.post_reply(russian, body="Restart it.", author=agent, by_staff=True)
        workflow.change_status(russian, status("resolved"), user=agent)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert message.to == ["ru@example.com"]
        assert CYRILLIC.search(message.subject), message.subject
        assert CYRILLIC.search(message.body)


def test_russian_subject_differs_from_english():
    """The catalogue is installed and covers the notification subjects."""
    from django.template.loader import render_to_string

    def render():
        return render_to_string(
            "wagtail_tickets/emails/ticket_opened_customer_subject.txt",
            {"ticket": {"code": "SUP-000001", "subject": "Printer"}},
        ).strip()

    with translation.override("en"):
        english = render()
    with translation.override("ru"):
        russian = render()
    assert russian != english
    assert CYRILLIC.search(russian)


def test_a_visitor_browsing_in_russian_gets_russian_mail(client, department, site_settings, commit):
    with commit():
        response = client.post(
            department.url,
            {
                "name": "Иван",
                "email": "ivan@example.com",
                "subject": "Printer",
                "message": "It does not print.",
            },
            HTTP_ACCEPT_LANGUAGE="ru",
        )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.language == "ru"
    [confirmation] = mails_to("ivan@example.com")
    assert CYRILLIC.search(confirmation.subject)
    assert ticket.code in confirmation.subject


# --- a mail server that fails ---------------------------------------------------------------


def _form(**extra):
    return {
        "name": "Ann Visitor",
        "email": "ann@example.com",
        "subject": "Screen flickers",
        "message": "The screen flickers after the update.",
        **extra,
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("backend", FAILING_BACKENDS)
def test_failing_mail_server_never_loses_a_ticket_or_the_request(client, settings, backend):
    # A real commit, as in production: the notifications run inside the request.
    helpdesk = factories.make_helpdesk()
    department = factories.make_department(helpdesk, title="Technical support", prefix="TECH")
    factories.make_agent("agent", departments=[department])
    factories.site_settings(captcha_mode="none")
    settings.EMAIL_BACKEND = backend

    response = client.post(department.url, _form())
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.subject == "Screen flickers"
    assert ticket.messages.get().body == "The screen flickers after the update."
    assert mail_backends.attempts, "the confirmation was tried and failed"
    assert mail.outbox == []

    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    html = thanks.content.decode()
    assert ticket.code in html
    link = re.search(r'id="wt-private-link" href="([^"]+)"', html).group(1)

    page = client.get(link, follow=True)
    assert page.status_code == 200
    ticket_url = page.redirect_chain[-1][0]
    attempts = len(mail_backends.attempts)
    reply = client.post(ticket_url, {"action": "reply", "message": "Still flickering."})
    assert reply.status_code == 302
    assert len(mail_backends.attempts) > attempts, "the staff notification was tried"
    ticket.refresh_from_db()
    assert ticket.message_count == 2
    assert ticket.messages.filter(body="Still flickering.").exists()


@pytest.mark.parametrize("backend", FAILING_BACKENDS)
def test_failing_mail_server_keeps_the_old_private_link_on_lookup(
    client, helpdesk, department, settings, backend
):
    ticket, raw_token = factories.open_ticket_with_token(
        department, customer_email="ann@example.com"
    )
    settings.EMAIL_BACKEND = backend
    response = client.post(lookup_url(helpdesk), {"email": "ann@example.com"})
    assert response.status_code == 302
    assert mail_backends.attempts, "the links were tried and failed"
    # The new links never arrived, so none exists; the one the customer has works.
    assert not AccessLink.objects.exists()
    assert Client().get(access_url(helpdesk, raw_token)).status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).check_access_token(raw_token)


# --- "find my ticket" ------------------------------------------------------------------------


def _normalised(response):
    html = response.content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def _lookup(client, helpdesk, email, ip="127.0.0.1"):
    response = client.post(lookup_url(helpdesk), {"email": email}, REMOTE_ADDR=ip)
    page = client.get(response["Location"]) if response.status_code == 302 else None
    return response, page


def test_lookup_answers_the_same_for_known_and_unknown_addresses(helpdesk, department):
    factories.open_ticket_with_token(department, customer_email="ann@example.com")
    known, known_page = _lookup(Client(), helpdesk, "ann@example.com", ip="10.0.0.1")
    unknown, unknown_page = _lookup(Client(), helpdesk, "nobody@example.com", ip="10.0.0.2")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert known_page.status_code == unknown_page.status_code == 200
    assert _normalised(known_page) == _normalised(unknown_page)
    assert recipients() == [["ann@example.com"]]


def test_lookup_mails_links_to_active_and_recently_closed_tickets_and_keeps_old_links(
    helpdesk, department, agent, settings
):
    settings.WAGTAIL_TICKETS_LOOKUP_CLOSED_DAYS = 30
    first, first_token = factories.open_ticket_with_token(
        department, customer_email="ann@example.com", subject="First problem"
    )
    second, second_token = factories.open_ticket_with_token(
        department, customer_email="ann@example.com", subject="Second problem"
    )
    workflow.post_reply(second, body="Which model?", author=agent, by_staff=True)
    closed, closed_token = factories.open_ticket_with_token(
        department, customer_email="ann@example.com", subject="Closed last week"
    )
    workflow.close(closed, at=timezone.now() - timedelta(days=7))
    old, old_token = factories.open_ticket_with_token(
        department, customer_email="ann@example.com", subject="Closed long ago"
    )
    workflow.close(old, at=timezone.now() - timedelta(days=31))
    bobs, bobs_token = factories.open_ticket_with_token(
        department, customer_email="bob@example.com", subject="Bob's problem"
    )
    # A browser that opened the link the first ticket was filed with.
    old_browser = Client()
    assert old_browser.get(access_url(helpdesk, first_token), follow=True).status_code == 200

    response, _page = _lookup(Client(), helpdesk, "Ann@Example.com")
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    body = message.body
    assert first.code in body and second.code in body and closed.code in body
    assert old.code not in body
    assert bobs.code not in body
    links = LINK_RE.findall(body)
    assert len(links) == 3

    opened = set()
    for link in links:
        page, final_path = open_in_fresh_browser(link)
        assert page.status_code == 200
        opened.add(final_path)
    assert opened == {ticket_path(helpdesk, t) for t in (first, second, closed)}

    # Nothing anyone had stops working: the links the tickets were filed with, the
    # session one of them opened, other people's links.
    for token in (first_token, second_token, closed_token, old_token, bobs_token):
        assert Client().get(access_url(helpdesk, token)).status_code == 302
    assert old_browser.get(ticket_path(helpdesk, first)).status_code == 200


def test_lookup_is_rate_limited_without_telling(helpdesk, department):
    factories.open_ticket_with_token(department, customer_email="ann@example.com")
    factories.open_ticket_with_token(department, customer_email="bob@example.com")
    browser = Client()

    first, first_page = _lookup(browser, helpdesk, "ann@example.com")
    assert recipients() == [["ann@example.com"]]
    [first_link] = LINK_RE.findall(mail.outbox[0].body)

    second, second_page = _lookup(browser, helpdesk, "bob@example.com")
    assert recipients() == [["ann@example.com"]], "nothing more from the same address"
    assert second.status_code == first.status_code == 302
    assert second["Location"] == first["Location"]
    assert _normalised(second_page) == _normalised(first_page)

    # The same mailbox asked again from elsewhere right away: no mail bombing either.
    third, third_page = _lookup(Client(), helpdesk, "ann@example.com", ip="10.9.9.9")
    assert len(mail.outbox) == 1
    assert third["Location"] == first["Location"]
    assert _normalised(third_page) == _normalised(first_page)

    # Nothing was replaced by the refused requests: the mailed link still works.
    page, _final = open_in_fresh_browser(first_link)
    assert page.status_code == 200


def test_lookup_with_an_invalid_address_shows_the_form_again(client, helpdesk, department):
    response = client.post(lookup_url(helpdesk), {"email": "not an address"})
    assert response.status_code == 400
    assert 'name="email"' in response.content.decode()
    assert mail.outbox == []


def test_task_arguments_never_carry_the_raw_token(helpdesk, department, commit):
    from django_tasks.signals import task_enqueued

    enqueued = []

    def record(sender, task_result, **kwargs):
        enqueued.append(json.dumps([task_result.args, task_result.kwargs], default=str))

    task_enqueued.connect(record)
    try:
        with commit():
            ticket, raw_token = factories.open_ticket_with_token(department)
    finally:
        task_enqueued.disconnect(record)
    assert enqueued, "the notifications were enqueued"
    assert all(raw_token not in arguments for arguments in enqueued)
    assert all(ticket.access_token_hash not in arguments for arguments in enqueued)
