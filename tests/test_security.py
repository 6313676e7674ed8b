"""Security of the customer's side: who may do what on which route, private links,
downloads, uploads, POST + CSRF for every change, escaping of what visitors type.

The role x route matrix is one parametrised test; each case states the expected answer
and, for refusals, that nothing changed in the database.
"""

import base64
import hashlib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from tests import factories
from wagtail_tickets import links, workflow
from wagtail_tickets.models import Attachment, Message, Ticket, TicketLogEntry
from wagtail_tickets.permissions import GRANTS_KEY

pytestmark = pytest.mark.django_db

PUBLIC_NAME = "error log.txt"
PUBLIC_BYTES = b"Traceback: error 42\nsecond line\n"
NOTE_BODY = "INTERNAL-NOTE: the customer is on the old plan, do not refund"
NOTE_FILE = "internal-findings.txt"
NOTE_BYTES = b"staff only: root cause is the flaky disk\n"
SUBJECT = "Printer is on fire"
FIRST_BODY = "It started smoking after the update."
REPLY_BODY = "A reply sent by the role under test."

LOGIN = "login"  # redirect to the login page, nothing else said
NOT_FOUND = "404"
ALLOWED = "allowed"

ROLES = [
    "anonymous",
    "link_holder",
    "customer",
    "other_customer",
    "agent",
    "other_agent",
    "superuser",
]


def _row(**by_role):
    assert set(by_role) == set(ROLES)
    return by_role


CUSTOMER_ONLY = _row(
    anonymous=LOGIN,
    link_holder=ALLOWED,
    customer=ALLOWED,
    other_customer=NOT_FOUND,
    agent=NOT_FOUND,
    other_agent=NOT_FOUND,
    superuser=NOT_FOUND,
)

EXPECTED = {
    # The portal conversation is the customer's; staff work tickets in the admin.
    # A staff member posting here would write in the customer's name.
    "view": CUSTOMER_ONLY,
    "reply": CUSTOMER_ONLY,
    "close": CUSTOMER_ONLY,
    "reopen": CUSTOMER_ONLY,
    "public_file": _row(
        anonymous=LOGIN,
        link_holder=ALLOWED,
        customer=ALLOWED,
        other_customer=NOT_FOUND,
        agent=ALLOWED,
        other_agent=NOT_FOUND,
        superuser=ALLOWED,
    ),
    # The customer's route never serves an internal note's file, whoever asks: staff
    # download those through the desk (admin) route, which checks desk rights.
    "internal_file": _row(
        anonymous=LOGIN,
        link_holder=NOT_FOUND,
        customer=NOT_FOUND,
        other_customer=NOT_FOUND,
        agent=NOT_FOUND,
        other_agent=NOT_FOUND,
        superuser=NOT_FOUND,
    ),
    # Everyone logged in gets a list, of their own tickets only.
    "list": _row(
        anonymous=LOGIN,
        link_holder=LOGIN,
        customer=ALLOWED,
        other_customer=ALLOWED,
        agent=ALLOWED,
        other_agent=ALLOWED,
        superuser=ALLOWED,
    ),
}

MATRIX = [
    pytest.param(route, role, expected, id=f"{route}-{role}-{expected}")
    for route, row in EXPECTED.items()
    for role, expected in row.items()
]


# --- helpers -----------------------------------------------------------------


def _ticket_url(helpdesk, ticket_or_code):
    code = getattr(ticket_or_code, "code", ticket_or_code)
    return f"{helpdesk.url}tickets/{code}/"


def _file_url(helpdesk, ticket_or_code, pk):
    return f"{_ticket_url(helpdesk, ticket_or_code)}files/{pk}/"


def _access_url(helpdesk, token):
    return f"{helpdesk.url}access/{token}/"


def _snapshot(ticket):
    """Everything a refused request must leave as it was."""
    return (
        Ticket.objects.filter(pk=ticket.pk).values().get(),
        list(Message.objects.filter(ticket=ticket).values_list("pk", "body", "is_internal")),
        list(Attachment.objects.values_list("pk", "message_id")),
        TicketLogEntry.objects.count(),
    )


def _assert_login_redirect(response, path):
    assert response.status_code == 302, response.status_code
    assert response["Location"] == f"/accounts/login/?next={path}"


def _download(response):
    # The test client closes the response itself once the stream is read; closing it
    # again here would send request_finished and drop the test's database connection.
    return b"".join(response.streaming_content)


def _html(response):
    return response.content.decode()


@pytest.fixture
def scene(helpdesk, department, customer, agent, site_settings):
    """The customer's ticket with a customer-visible attachment and an internal note
    carrying its own attachment."""
    ticket, raw_token = factories.open_ticket_with_token(
        department,
        customer=customer,
        customer_name="Alice",
        customer_email=customer.email,
        subject=SUBJECT,
        body=FIRST_BODY,
    )
    public_message = workflow.post_reply(
        ticket,
        body="Here is the log you asked for.",
        author=customer,
        attachments=[factories.validated(PUBLIC_NAME, PUBLIC_BYTES)],
    )
    note = workflow.post_reply(
        ticket,
        body=NOTE_BODY,
        author=agent,
        by_staff=True,
        is_internal=True,
        attachments=[factories.validated(NOTE_FILE, NOTE_BYTES)],
    )
    ticket.refresh_from_db()
    return SimpleNamespace(
        helpdesk=helpdesk,
        ticket=ticket,
        raw_token=raw_token,
        public_attachment=public_message.attachments.get(),
        internal_attachment=note.attachments.get(),
        url=_ticket_url(helpdesk, ticket),
    )


@pytest.fixture
def client_as(request, scene):
    """A test client acting in one of ROLES."""

    def make(role):
        client = Client()
        if role == "link_holder":
            response = client.get(_access_url(scene.helpdesk, scene.raw_token))
            assert response.status_code == 302
            assert response["Location"] == scene.url
        elif role != "anonymous":
            client.force_login(request.getfixturevalue(role))
        return client

    return make


def _perform(route, client, scene):
    """Run ``route`` and return (response, path requested)."""
    helpdesk, ticket = scene.helpdesk, scene.ticket
    if route == "view":
        return client.get(scene.url), scene.url
    if route == "reply":
        return client.post(scene.url, {"action": "reply", "message": REPLY_BODY}), scene.url
    if route in ("close", "reopen"):
        return client.post(scene.url, {"action": route}), scene.url
    if route == "public_file":
        path = _file_url(helpdesk, ticket, scene.public_attachment.pk)
        return client.get(path), path
    if route == "internal_file":
        path = _file_url(helpdesk, ticket, scene.internal_attachment.pk)
        return client.get(path), path
    if route == "list":
        path = f"{helpdesk.url}tickets/"
        return client.get(path), path
    raise AssertionError(route)


# --- the matrix ----------------------------------------------------------------


@pytest.mark.parametrize(("route", "role", "expected"), MATRIX)
def test_role_route_matrix(route, role, expected, scene, client_as):
    if route == "reopen":
        workflow.close(scene.ticket)
    client = client_as(role)
    before = _snapshot(scene.ticket)
    messages_before = scene.ticket.message_count

    response, path = _perform(route, client, scene)

    if expected == LOGIN:
        _assert_login_redirect(response, path)
        assert _snapshot(scene.ticket) == before
        return
    if expected == NOT_FOUND:
        assert response.status_code == 404
        if not getattr(response, "streaming", False):
            html = _html(response)
            assert SUBJECT not in html and FIRST_BODY not in html and NOTE_BODY not in html
        assert _snapshot(scene.ticket) == before
        return

    assert expected == ALLOWED
    ticket = Ticket.objects.select_related("status").get(pk=scene.ticket.pk)
    if route == "view":
        assert response.status_code == 200
        html = _html(response)
        assert SUBJECT in html and FIRST_BODY in html
        assert PUBLIC_NAME in html
        # Internal notes and their files never reach the customer's page.
        assert NOTE_BODY not in html
        assert NOTE_FILE not in html
        assert f"files/{scene.internal_attachment.pk}/" not in html
        assert _snapshot(scene.ticket) == before
    elif route == "reply":
        assert response.status_code == 302 and response["Location"] == scene.url
        reply = Message.objects.get(ticket=ticket, body=REPLY_BODY)
        assert not reply.is_internal and not reply.is_staff_reply
        assert ticket.message_count == messages_before + 1
    elif route == "close":
        assert response.status_code == 302 and response["Location"] == scene.url
        assert ticket.status.kind == "closed"
    elif route == "reopen":
        assert response.status_code == 302 and response["Location"] == scene.url
        assert ticket.status.kind == "open"
    elif route in ("public_file", "internal_file"):
        assert response.status_code == 200
        wanted = PUBLIC_BYTES if route == "public_file" else NOTE_BYTES
        assert _download(response) == wanted
        assert _snapshot(scene.ticket) == before
    elif route == "list":
        assert response.status_code == 200
        html = _html(response)
        if role == "customer":
            assert scene.ticket.code in html and SUBJECT in html
        else:
            assert scene.ticket.code not in html and SUBJECT not in html
        assert _snapshot(scene.ticket) == before
    else:  # pragma: no cover
        raise AssertionError(route)


def test_ticket_list_shows_each_customer_only_their_own(
    scene, client_as, department, other_customer
):
    theirs = factories.open_ticket(department, customer=other_customer, subject="Bob's modem")
    alice = client_as("customer")
    bob = client_as("other_customer")
    path = f"{scene.helpdesk.url}tickets/"

    alice_html = _html(alice.get(path))
    bob_html = _html(bob.get(path))

    assert scene.ticket.code in alice_html and theirs.code not in alice_html
    assert theirs.code in bob_html and scene.ticket.code not in bob_html
    assert "Bob&#x27;s modem" in bob_html and "Bob&#x27;s modem" not in alice_html
    # The support centre's "my tickets" box follows the same rule.
    index = _html(bob.get(scene.helpdesk.url))
    assert theirs.code in index and scene.ticket.code not in index


# --- codes leak nothing ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["view", "reply", "close", "file"])
@pytest.mark.parametrize("role", ["anonymous", "other_customer", "agent", "other_agent"])
def test_existing_and_missing_codes_get_the_same_answer(method, role, scene, client_as):
    client = client_as(role)
    missing_code = "TECH-999999"
    answers = []
    for code in (scene.ticket.code, missing_code):
        url = _ticket_url(scene.helpdesk, code)
        if method == "view":
            path, response = url, client.get(url)
        elif method == "file":
            # A note's file: not served on this route, even to the department's agent.
            path = _file_url(scene.helpdesk, code, scene.internal_attachment.pk)
            response = client.get(path)
        else:
            path, response = url, client.post(url, {"action": method, "message": "x"})
        answers.append((response, path))
    for response, path in answers:
        if role == "anonymous":
            _assert_login_redirect(response, path)
        else:
            assert response.status_code == 404


def test_attachment_of_another_ticket_is_not_served_under_own_code(
    scene, client_as, department, other_customer
):
    theirs = factories.open_ticket(department, customer=other_customer)
    message = workflow.post_reply(
        theirs,
        body="my invoice",
        author=other_customer,
        attachments=[factories.validated("bob-invoice.txt", b"bob's invoice\n")],
    )
    foreign = message.attachments.get()
    alice = client_as("customer")
    response = alice.get(_file_url(scene.helpdesk, scene.ticket, foreign.pk))
    assert response.status_code == 404
    holder = client_as("link_holder")
    response = holder.get(_file_url(scene.helpdesk, scene.ticket, foreign.pk))
    assert response.status_code == 404


# --- private links ------------------------------------------------------------------------


def test_raw_token_is_never_stored(
    client, helpdesk, rich_department, site_settings, django_capture_on_commit_callbacks
):
    data = {
        "name": "Ann Visitor",
        "email": "ann@example.com",
        "subject": "Screen flickers",
        "message": "The screen flickers.",
        "cf_product": "Phone",
        "cf_serial_number": "SN-1",
        "cf_severity": "High",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(rich_department.url, data)
    assert response.status_code == 302
    html = _html(client.get(response["Location"]))
    link = re.search(r'id="wt-private-link" href="([^"]+)"', html).group(1)
    raw = re.search(r"/access/([^/]+)/$", link).group(1)
    ticket = Ticket.objects.get()
    assert ticket.access_token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert ticket.check_access_token(raw)
    # The confirmation mail links to the ticket with a signed link of its own; the raw
    # token is shown on the page once and never mailed through the task queue.
    [confirmation] = [m for m in mail.outbox if m.to == ["ann@example.com"]]
    assert f"{helpdesk.get_full_url()}access/" in confirmation.body
    assert raw not in confirmation.body
    # Open the link so that the session gets its grant, then look everywhere.
    assert client.get(f"{helpdesk.url}access/{raw}/").status_code == 302
    assert raw not in str(client.session.get(GRANTS_KEY))
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                if raw in " ".join(str(value) for value in row):
                    found.append(table)
    assert found == []


def test_token_has_at_least_128_bits():
    tokens = set()
    for _ in range(50):
        raw, token_hash = workflow.new_access_token()
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        assert len(decoded) * 8 >= 128
        assert re.fullmatch(r"[A-Za-z0-9_-]+", raw)
        assert token_hash == hashlib.sha256(raw.encode()).hexdigest() != raw
        tokens.add(raw)
    assert len(tokens) == 50


@pytest.mark.parametrize(
    "bad_token",
    [
        "x" * 32,
        "TECH-000001-000000000000000000",
        # A well-formed signed mail link with a forged signature.
        base64.urlsafe_b64encode(b"WzEsImFiYyJd:1tQ3bZ:bm90LWEtcmVhbC1zaWduYXR1cmU")
        .decode()
        .rstrip("="),
    ],
)
def test_wrong_token_shows_the_link_does_not_work_page(bad_token, scene):
    client = Client()
    response = client.get(_access_url(scene.helpdesk, bad_token))
    assert response.status_code == 404
    assert "This link does not work" in _html(response)
    assert SUBJECT not in _html(response)
    # No grant was given: the ticket page still asks for a login.
    _assert_login_redirect(client.get(scene.url), scene.url)


def _b64(value):
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _unb64(token):
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


def test_signed_mail_link_works_and_tampered_one_does_not(scene):
    token = links.signed_token(scene.ticket)
    # Only characters Wagtail's page URLs accept, so the link reaches the page at all.
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    good = Client()
    response = good.get(_access_url(scene.helpdesk, token))
    assert response.status_code == 302 and response["Location"] == scene.url
    assert SUBJECT in _html(good.get(scene.url))

    payload, timestamp, signature = _unb64(token).split(":")
    flip = {"A": "B"}
    tampered_tokens = [
        _b64(f"{payload}:{timestamp}:{signature[:-1]}{flip.get(signature[-1], 'A')}"),
        _b64(f"{payload[:-2]}{'xx' if payload[-2:] != 'xx' else 'yy'}:{timestamp}:{signature}"),
        _b64(f"{payload}:{signature}"),  # no timestamp
        token[:-3],  # cut short
    ]
    for tampered in tampered_tokens:
        assert tampered != token
        bad = Client()
        response = bad.get(_access_url(scene.helpdesk, tampered))
        assert response.status_code == 404
        assert "This link does not work" in _html(response)
        _assert_login_redirect(bad.get(scene.url), scene.url)


def test_link_in_a_notification_mail_opens_the_ticket(
    scene, agent, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.post_reply(scene.ticket, body="Try turning it off.", author=agent, by_staff=True)
    to_customer = [m for m in mail.outbox if m.to == [scene.ticket.customer_email]]
    assert len(to_customer) == 1
    link = re.search(r"https?://\S+/access/\S+/", to_customer[0].body).group(0)
    path = link.split("://", 1)[1]
    path = path[path.index("/") :]
    client = Client()
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == scene.url
    page = client.get(scene.url)
    assert page.status_code == 200 and "Try turning it off." in _html(page)


def test_signed_link_of_one_ticket_does_not_open_another(scene, department):
    other, _raw = factories.open_ticket_with_token(department, subject="Someone else's")
    token = links.signed_token(scene.ticket)
    client = Client()
    client.get(_access_url(scene.helpdesk, token))
    assert client.get(scene.url).status_code == 200
    _assert_login_redirect(
        client.get(_ticket_url(scene.helpdesk, other)), _ticket_url(scene.helpdesk, other)
    )


def test_another_link_keeps_old_links_and_revoking_ends_them_and_their_sessions(scene):
    old_signed = links.signed_token(scene.ticket)
    holder = Client()
    holder.get(_access_url(scene.helpdesk, scene.raw_token))
    assert holder.get(scene.url).status_code == 200

    new_raw = workflow.issue_access_token(scene.ticket)
    assert new_raw != scene.raw_token
    # Nothing anyone had stops working; the new link works too, in several sessions.
    assert holder.get(scene.url).status_code == 200
    sessions = []
    for token in (scene.raw_token, old_signed, new_raw):
        client = Client()
        assert client.get(_access_url(scene.helpdesk, token))["Location"] == scene.url
        assert client.get(scene.url).status_code == 200
        sessions.append(client)

    workflow.revoke_access_links(scene.ticket)
    # Every link and every session any of them opened has lost its access.
    for client in (holder, *sessions):
        _assert_login_redirect(client.get(scene.url), scene.url)
    for old in (scene.raw_token, old_signed, new_raw):
        client = Client()
        response = client.get(_access_url(scene.helpdesk, old))
        assert response.status_code == 404
        assert "This link does not work" in _html(response)
        _assert_login_redirect(client.get(scene.url), scene.url)
    # A link issued afterwards, and a freshly signed mail link, work.
    fresh_ticket = Ticket.objects.get(pk=scene.ticket.pk)
    for new in (workflow.issue_access_token(fresh_ticket), links.signed_token(fresh_ticket)):
        client = Client()
        assert client.get(_access_url(scene.helpdesk, new))["Location"] == scene.url
        assert client.get(scene.url).status_code == 200


def test_session_from_a_mailed_link_ends_when_the_link_expires(scene, monkeypatch, settings):
    import time

    from wagtail_tickets import permissions
    from wagtail_tickets.models import AccessLink

    settings.WAGTAIL_TICKETS_LOOKUP_LINK_DAYS = 2
    mailed = workflow.issue_access_token(scene.ticket)
    holder = Client()
    assert holder.get(_access_url(scene.helpdesk, mailed))["Location"] == scene.url
    assert holder.get(scene.url).status_code == 200
    later = time.time() + 2 * 86400 + 60
    monkeypatch.setattr(permissions.time, "time", lambda: later)
    _assert_login_redirect(holder.get(scene.url), scene.url)
    AccessLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get(_access_url(scene.helpdesk, mailed))
    assert response.status_code == 404


def test_lookup_issues_fresh_links_and_keeps_old_ones(
    scene, anon_ticket, django_capture_on_commit_callbacks
):
    holder = Client()
    raw = workflow.issue_access_token(anon_ticket)
    anon_url = _ticket_url(scene.helpdesk, anon_ticket)
    holder.get(_access_url(scene.helpdesk, raw))
    assert holder.get(anon_url).status_code == 200
    mail.outbox.clear()

    response = Client().post(f"{scene.helpdesk.url}lookup/", {"email": "ann@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    fresh = re.search(r"/access/([A-Za-z0-9_-]+)/", mail.outbox[0].body).group(1)
    assert fresh != raw
    # Whoever knows the address cannot break the customer's bookmarks.
    assert holder.get(anon_url).status_code == 200
    assert Client().get(_access_url(scene.helpdesk, raw))["Location"] == anon_url
    client = Client()
    assert client.get(_access_url(scene.helpdesk, fresh))["Location"] == anon_url
    assert client.get(anon_url).status_code == 200
    page = Client().get(response["Location"], follow=True)
    assert "no longer work" not in _html(page)
    assert "keep working" in _html(page)


# --- downloads ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["customer", "link_holder", "agent", "superuser"])
def test_download_headers_and_content(role, scene, client_as, settings):
    # The view sets its own safety headers; a site without SecurityMiddleware keeps them.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("SecurityMiddleware")]
    client = client_as(role)
    response = client.get(_file_url(scene.helpdesk, scene.ticket, scene.public_attachment.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{PUBLIC_NAME}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"]
    assert _download(response) == PUBLIC_BYTES


def test_download_keeps_a_non_ascii_original_name(scene, client_as, customer):
    message = workflow.post_reply(
        scene.ticket,
        body="photo",
        author=customer,
        attachments=[factories.validated("снимок экрана.png", factories.png_bytes(), "image/png")],
    )
    attachment = message.attachments.get()
    assert attachment.original_name == "снимок экрана.png"
    assert "снимок" not in attachment.file.name  # the stored path is random
    response = client_as("customer").get(_file_url(scene.helpdesk, scene.ticket, attachment.pk))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''%D1%81%D0%BD%D0%B8%D0%BC%D0%BE%D0%BA" in disposition
    assert response["Content-Type"] == "image/png"
    assert _download(response) == factories.png_bytes()


# --- uploads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("page.html", b"<html><body><script>alert(1)</script></body></html>", "not accepted"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "not accepted",
        ),
        ("photo.png", b"<script>alert(1)</script>", "does not match"),
        ("notes.txt", b"<!DOCTYPE html><html><script>alert(1)</script>", "does not match"),
    ],
)
def test_dangerous_uploads_are_refused(name, content, error, scene, client_as, department):
    # Even a department that lists the types cannot let HTML or SVG in.
    type(department).objects.filter(pk=department.pk).update(allowed_extensions="txt png html svg")
    client = client_as("customer")
    before = _snapshot(scene.ticket)
    response = client.post(
        scene.url,
        {
            "action": "reply",
            "message": "see attached",
            "attachments": [factories.upload(name, content, "application/octet-stream")],
        },
    )
    assert response.status_code == 400
    html = _html(response)
    assert error in html and escape(name) in html
    assert "see attached" in html  # what was typed is kept
    assert _snapshot(scene.ticket) == before


# --- POST and CSRF for every change -----------------------------------------------------


def test_get_changes_nothing(scene, client_as):
    client = client_as("customer")
    before = _snapshot(scene.ticket)
    for action in ("close", "reply", "reopen"):
        response = client.get(scene.url, {"action": action, "message": "via GET"})
        assert response.status_code == 200
    assert _snapshot(scene.ticket) == before
    assert not Message.objects.filter(body="via GET").exists()


def test_get_on_lookup_and_department_form_changes_nothing(scene, department):
    client = Client()
    before = _snapshot(scene.ticket)
    tickets = Ticket.objects.count()
    mail.outbox.clear()
    assert (
        client.get(f"{scene.helpdesk.url}lookup/", {"email": "alice@example.com"}).status_code
        == 200
    )
    response = client.get(
        department.url,
        {"name": "X", "email": "x@example.com", "subject": "via GET", "message": "via GET"},
    )
    assert response.status_code == 200
    assert mail.outbox == []
    assert Ticket.objects.count() == tickets
    assert _snapshot(scene.ticket) == before


def _csrf_token(client, url):
    html = _html(client.get(url))
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("action", ["reply", "close"])
def test_ticket_actions_need_csrf(action, scene, customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    before = _snapshot(scene.ticket)
    data = {"action": action, "message": "csrf check"}
    assert client.post(scene.url, data).status_code == 403
    assert _snapshot(scene.ticket) == before
    # The same request with the form's token goes through.
    data["csrfmiddlewaretoken"] = _csrf_token(client, scene.url)
    assert client.post(scene.url, data).status_code == 302
    assert _snapshot(scene.ticket) != before


def test_link_holder_actions_need_csrf(scene):
    client = Client(enforce_csrf_checks=True)
    client.get(_access_url(scene.helpdesk, scene.raw_token))
    before = _snapshot(scene.ticket)
    assert client.post(scene.url, {"action": "close"}).status_code == 403
    assert _snapshot(scene.ticket) == before


def test_department_form_and_lookup_need_csrf(scene, department):
    client = Client(enforce_csrf_checks=True)
    tickets = Ticket.objects.count()
    data = {
        "name": "Ann",
        "email": "ann@example.com",
        "subject": "Needs CSRF",
        "message": "body",
    }
    assert client.post(department.url, data).status_code == 403
    assert (
        client.post(f"{scene.helpdesk.url}lookup/", {"email": "ann@example.com"}).status_code == 403
    )
    assert Ticket.objects.count() == tickets
    assert mail.outbox == []
    data["csrfmiddlewaretoken"] = _csrf_token(client, department.url)
    assert client.post(department.url, data).status_code == 302
    assert Ticket.objects.count() == tickets + 1


# --- output is escaped -------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def _assert_escaped(html, *payloads):
    for payload in payloads:
        assert payload not in html
        assert escape(payload) in html
    assert "<img src=x" not in html
    assert "<script>alert" not in html


def _xss_form(**extra):
    data = {
        "name": f"Mallory {IMG}",
        "email": "mallory@example.com",
        "subject": f"Help {SCRIPT}",
        "message": f"Body {SCRIPT} and {IMG}",
        "cf_product": "Phone",
        "cf_serial_number": f"SN {IMG}",
        "cf_steps_to_reproduce": f"steps {SCRIPT}",
        "cf_severity": "High",
    }
    data.update(extra)
    return data


def test_anonymous_input_is_escaped_everywhere(client, helpdesk, rich_department, site_settings):
    response = client.post(rich_department.url, _xss_form())
    assert response.status_code == 302
    thanks = _html(client.get(response["Location"]))
    assert "<script>alert" not in thanks and "<img src=x" not in thanks
    link = re.search(r'id="wt-private-link" href="([^"]+)"', thanks).group(1)
    page = client.get(link, follow=True)
    html = _html(page)
    assert page.status_code == 200
    _assert_escaped(
        html,
        f"Help {SCRIPT}",  # subject (heading and <title>)
        f"Mallory {IMG}",  # customer name as the author
        f"SN {IMG}",  # custom single-line field
        f"steps {SCRIPT}",  # custom multi-line field
    )
    assert escape(f"Body {SCRIPT} and {IMG}") in html


def test_failed_submission_redisplays_input_escaped(client, rich_department, site_settings):
    response = client.post(rich_department.url, _xss_form(email="not-an-email"))
    assert response.status_code == 400
    html = _html(response)
    _assert_escaped(html, f"Help {SCRIPT}", f"SN {IMG}")


def test_logged_in_input_is_escaped_on_every_page(client, helpdesk, rich_department, site_settings):
    user = factories.make_user(
        "mallory", email="mallory@example.com", first_name=SCRIPT, last_name=IMG
    )
    client.force_login(user)
    response = client.post(rich_department.url, _xss_form())
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.customer == user

    thanks = _html(client.get(response["Location"]))
    _assert_escaped(thanks, SCRIPT, IMG)  # the name in the page header

    pages = {
        "ticket page": client.get(_ticket_url(helpdesk, ticket)),
        "ticket list": client.get(f"{helpdesk.url}tickets/"),
        "support centre": client.get(helpdesk.url),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        html = _html(page)
        _assert_escaped(html, f"Help {SCRIPT}", IMG)
        assert ticket.code in html, name


def test_message_body_gets_links_and_line_breaks_but_no_html(scene, client_as, customer):
    body = (
        "See https://example.com/a?b=1&c=2 please.\n"
        "Second line <b>bold</b>\n\n"
        'New paragraph javascript:alert(1) <a href="https://evil.example">x</a>'
    )
    workflow.post_reply(scene.ticket, body=body, author=customer)
    html = _html(client_as("customer").get(scene.url))
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow">'
        "https://example.com/a?b=1&amp;c=2</a>" in html
    )
    assert "please.<br>Second line &lt;b&gt;bold&lt;/b&gt;</p>" in html
    assert "<p>New paragraph javascript:alert(1)" in html
    assert "<b>bold</b>" not in html
    assert 'href="javascript:' not in html
    assert '<a href="https://evil.example">' not in html
    assert "&lt;a href=" in html


def test_an_agent_revokes_a_tickets_links_from_the_desk(scene, agent):
    from django.urls import reverse

    holder = Client()
    holder.get(_access_url(scene.helpdesk, scene.raw_token))
    assert holder.get(scene.url).status_code == 200
    desk = Client()
    desk.force_login(agent)
    revoke = reverse("helpdesk_tickets:revoke_links", args=[scene.ticket.pk])
    assert desk.get(revoke).status_code == 405, "a change is a POST"
    assert 'action="' + revoke + '"' in _html(
        desk.get(reverse("helpdesk_tickets:detail", args=[scene.ticket.pk]))
    )
    assert desk.post(revoke).status_code == 302
    _assert_login_redirect(holder.get(scene.url), scene.url)
    assert Client().get(_access_url(scene.helpdesk, scene.raw_token)).status_code == 404
