"""The ticket screen in the desk: who may see and do what, replies, fields, messages."""

import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.admin.saved_replies import replies_for
from wagtail_tickets.models import (
    Message,
    Priority,
    Star,
    Status,
    Ticket,
    TicketLogEntry,
    TicketView,
)
from wagtail_tickets.models.tickets import cached_rows

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"helpdesk_tickets:{name}", args=args)


def grant(user, *codenames):
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="wagtail_tickets", codename__in=codenames
        )
    )
    # Permissions are cached on the instance; tests log in with fresh ones anyway.
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attr, None)
    return user


def ticket_views(ticket, message=None):
    """(method, url) of every ticket view, for the access matrix."""
    message = message or ticket.messages.order_by("pk").last()
    attachment = message.attachments.first()
    pairs = [
        ("get", url("detail", ticket.pk)),
        ("post", url("reply", ticket.pk)),
        ("post", url("update", ticket.pk)),
        ("post", url("close", ticket.pk)),
        ("post", url("reopen", ticket.pk)),
        ("post", url("star", ticket.pk)),
        ("post", url("revoke_links", ticket.pk)),
        ("post", url("resume_mail", ticket.pk)),
        ("get", url("pdf", ticket.pk)),
        ("get", url("history", ticket.pk)),
        ("get", url("edit_message", ticket.pk, message.pk)),
        ("post", url("edit_message", ticket.pk, message.pk)),
        ("get", url("delete_message", ticket.pk, message.pk)),
        ("post", url("delete_message", ticket.pk, message.pk)),
    ]
    if attachment is not None:
        pairs.append(("get", url("attachment", ticket.pk, attachment.pk)))
    return pairs


@pytest.fixture
def busy_ticket(ticket, agent, site_settings):
    factories.add_replies(ticket, 2, staff=agent, with_attachments=True)
    return ticket


@pytest.fixture
def powerful(agent):
    return grant(agent, "assign_ticket", "change_ticket_fields", "edit_message", "delete_message")


# --------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_admin_login(client, busy_ticket):
    for method, target in ticket_views(busy_ticket):
        response = getattr(client, method)(target)
        assert response.status_code == 302, target
        assert response["Location"].startswith(reverse("wagtailadmin_login")), target


def test_logged_in_customer_has_no_admin_access(client, busy_ticket, customer):
    client.force_login(customer)
    for method, target in ticket_views(busy_ticket):
        response = getattr(client, method)(target)
        assert response.status_code == 302, target
        assert "/admin/" in response["Location"]
    assert Ticket.objects.get(pk=busy_ticket.pk).status.kind != "closed"


def test_agent_of_another_department_gets_404_everywhere(client, busy_ticket, other_agent):
    grant(other_agent, "assign_ticket", "change_ticket_fields", "edit_message", "delete_message")
    client.force_login(other_agent)
    before = Message.objects.count()
    for method, target in ticket_views(busy_ticket):
        response = getattr(client, method)(target, {"message": "x", "body": "x"})
        assert response.status_code == 404, target
    assert Message.objects.count() == before
    assert not Star.objects.exists()
    assert not TicketView.objects.filter(user=other_agent).exists()


def test_a_missing_ticket_is_the_same_404(client, other_agent):
    client.force_login(other_agent)
    assert client.get(url("detail", 999999)).status_code == 404


def test_view_all_departments_and_superuser_see_every_ticket(
    client, busy_ticket, other_agent, superuser
):
    grant(other_agent, "view_all_departments")
    for user in (other_agent, superuser):
        client.force_login(user)
        response = client.get(url("detail", busy_ticket.pk))
        assert response.status_code == 200
        assert busy_ticket.code in response.content.decode()


def test_admin_user_without_desk_profile_gets_404(client, busy_ticket):
    editor = factories.make_user("editor", is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    assert client.get(url("detail", busy_ticket.pk)).status_code == 404
    response = client.get(url("create"))
    assert response.status_code in (302, 403)


def test_state_changes_need_post(client, busy_ticket, agent):
    client.force_login(agent)
    for name in ("reply", "update", "close", "reopen", "star"):
        assert client.get(url(name, busy_ticket.pk)).status_code == 405


def test_state_changes_need_csrf(busy_ticket, agent):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.post(url("close", busy_ticket.pk)).status_code == 403
    assert client.post(url("reply", busy_ticket.pk), {"message": "hi"}).status_code == 403
    assert Ticket.objects.get(pk=busy_ticket.pk).status.kind != "closed"


# --------------------------------------------------------------------------------------
# The screen
# --------------------------------------------------------------------------------------


def test_screen_shows_header_conversation_and_panels(
    client, busy_ticket, agent, customer, helpdesk
):
    workflow.post_reply(
        busy_ticket, body="Secret staff musing", author=agent, by_staff=True, is_internal=True
    )
    earlier = factories.open_ticket(
        busy_ticket.department, customer=customer, subject="Older problem"
    )
    elsewhere = factories.make_department(helpdesk, title="Hidden", prefix="HID")
    hidden = factories.open_ticket(elsewhere, customer=customer, subject="Not for this agent")
    busy_ticket.refresh_from_db()
    busy_ticket.custom_fields = [
        {"label": "Serial number", "value": "SN-1", "type": "singleline"},
        {"label": "Accessories", "value": ["Case", "Cable"], "type": "checkboxes"},
        {"label": "Under warranty", "value": True, "type": "checkbox"},
    ]
    busy_ticket.submitter_ip = "203.0.113.9"
    busy_ticket.submitter_user_agent = "TestBrowser/1.0"
    busy_ticket.save()
    client.force_login(agent)
    response = client.get(url("detail", busy_ticket.pk), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        busy_ticket.code,
        "Printer is on fire",
        "It started smoking.",
        "Customer reply 0",
        "Staff answer 1",
        "Secret staff musing",
        "Internal note",
        "wt-msg--note",
        "log-0.txt",
        "Technical support",
        "alice@example.com",
        "SN-1",
        "Case, Cable",
        "203.0.113.9",
        "TestBrowser/1.0",
        "Ticket opened",  # history
        "w-breadcrumbs",
    ):
        assert text in html, text
    assert hidden.code not in html
    # The customer's other tickets come with their tab (lazy-panel.js), and only those
    # this agent may see.
    assert earlier.code not in html
    with_tab = client.get(url("detail", busy_ticket.pk) + "?customer_tickets=1")
    assert earlier.code in with_tab.content.decode()
    assert hidden.code not in with_tab.content.decode()
    # Attachments link to the desk's own download with sizes.
    attachment = busy_ticket.messages.exclude(attachments=None).first().attachments.first()
    assert url("attachment", busy_ticket.pk, attachment.pk) in html
    # The view was recorded with its address, which only managers are shown
    # (tests/admin/test_viewer_ips.py).
    view = TicketView.objects.get(user=agent)
    assert view.ip_address == "198.51.100.7"
    assert "198.51.100.7" not in html


def test_conversation_lists_each_message_once_with_its_own_attachments(
    client, ticket, agent, site_settings
):
    two = workflow.post_reply(
        ticket,
        body="Two files",
        author=agent,
        by_staff=True,
        attachments=[
            factories.validated("first.txt", b"1" * 2048),
            factories.validated("second.log", b"2" * 10),
        ],
    )
    workflow.post_reply(ticket, body="No files", author=agent, by_staff=True)
    one = workflow.post_reply(
        ticket,
        body="One file",
        author=ticket.customer,
        attachments=[factories.validated("third.txt", b"3")],
    )
    client.force_login(agent)
    html = client.get(url("detail", ticket.pk)).content.decode()
    thread = html[html.index('<ol class="wt-thread">') :]
    items = thread.split('<li id="message-')[1:]
    bodies = ["It started smoking.", "Two files", "No files", "One file"]
    assert len(items) == len(bodies)  # one item per message, however many files
    for item, body in zip(items, bodies, strict=True):
        assert body in item
    names = lambda item: re.findall(r"download>([^<]+)</a>", item)  # noqa: E731
    assert names(items[1]) == ["first.txt", "second.log"]
    assert "2.0\xa0KB" in items[1] and "10\xa0bytes" in items[1]
    assert names(items[2]) == [] and "wt-attachments" not in items[2]
    assert names(items[3]) == ["third.txt"]
    for message in (two, one):
        for attachment in message.attachments.all():
            assert url("attachment", ticket.pk, attachment.pk) in html


def test_other_tickets_match_the_account_or_the_e_mail(
    client, ticket, agent, department, helpdesk, site_settings
):
    by_account = factories.open_ticket(department, customer=ticket.customer, subject="By account")
    by_email = factories.open_ticket(department, email=ticket.customer_email, subject="By e-mail")
    stranger = factories.open_ticket(department, email="someone@example.com", subject="Stranger")
    hidden_place = factories.make_department(helpdesk, title="Hidden", prefix="HID")
    hidden = factories.open_ticket(hidden_place, customer=ticket.customer, subject="Hidden")
    client.force_login(agent)
    # The tab's own content, as lazy-panel.js fetches it, and the whole screen with it,
    # as the tab's link loads it without the script.
    fragment = client.get(url("detail", ticket.pk) + "?part=customer")
    assert "private" in fragment["Cache-Control"] and "no-store" in fragment["Cache-Control"]
    full = client.get(url("detail", ticket.pk) + "?customer_tickets=1")
    for html in (fragment.content.decode(), full.content.decode()):
        others = html[html.index("Other tickets of") :]
        others = others[: others.index("</table>")]
        listed = re.findall(r'helpdesk_tickets/(\d+)/"', others)
        assert listed == [str(by_email.pk), str(by_account.pk)]  # newest first, not this one
        assert stranger.code not in others and hidden.code not in others
        assert "By e-mail" in others and "By account" in others
        assert str(by_email.status) in others  # the status rides from the cached rows
    assert "wt-desk" not in fragment.content.decode()  # the tab alone


def test_the_customers_tickets_tab_is_filled_when_opened(client, ticket, agent, department):
    other = factories.open_ticket(department, customer=ticket.customer, subject="Earlier one")
    client.force_login(agent)
    html = client.get(url("detail", ticket.pk)).content.decode()
    tab = html[html.index('id="tab-customer"') :]
    tab = tab[: tab.index("</section>")]
    assert other.code not in html
    assert 'data-wt-lazy-url="' + url("detail", ticket.pk) + '?part=customer"' in tab
    assert 'href="' + url("detail", ticket.pk) + '?customer_tickets=1#tab-customer"' in tab
    assert "lazy-panel.js" in html


@pytest.mark.parametrize("others", [1, 25])
def test_the_customers_tickets_query_ceiling(
    client, ticket, agent, department, others, django_assert_max_num_queries
):
    for n in range(others):
        factories.open_ticket(department, customer=ticket.customer, subject=f"Other {n}")
    client.force_login(agent)
    cached_rows(Status)
    cached_rows(Priority)
    with django_assert_max_num_queries(CUSTOMER_TAB):
        response = client.get(url("detail", ticket.pk) + "?part=customer")
    assert response.content.decode().count("<tr>") == min(others, 20) + 1  # and the head


def test_the_customers_tickets_need_the_ticket(client, ticket, department, helpdesk):
    """The tab alone is refused where the screen is: another department's agent and a
    customer get no list of the customer's tickets."""
    factories.open_ticket(department, customer=ticket.customer, subject="Private")
    elsewhere = factories.make_department(helpdesk, title="Elsewhere", prefix="ELS")
    outsider = factories.make_agent("outsider", departments=[elsewhere])
    for user, refused in ((outsider, 404), (ticket.customer, 302)):
        client.force_login(user)
        for query in ("?part=customer", "?customer_tickets=1"):
            response = client.get(url("detail", ticket.pk) + query)
            assert response.status_code == refused
            assert b"Private" not in response.content


def test_views_are_recorded_once_per_few_minutes(client, busy_ticket, agent):
    client.force_login(agent)
    client.get(url("detail", busy_ticket.pk))
    client.get(url("detail", busy_ticket.pk))
    assert TicketView.objects.filter(user=agent).count() == 1


def test_overdue_is_marked(client, busy_ticket, agent):
    from datetime import timedelta

    from django.utils import timezone

    Ticket.objects.filter(pk=busy_ticket.pk).update(due_at=timezone.now() - timedelta(hours=1))
    client.force_login(agent)
    html = client.get(url("detail", busy_ticket.pk)).content.decode()
    assert "wt-overdue" in html and "Overdue" in html


def test_attachment_download_for_staff_has_safe_headers(client, busy_ticket, agent):
    attachment = busy_ticket.messages.exclude(attachments=None).first().attachments.first()
    client.force_login(agent)
    response = client.get(url("attachment", busy_ticket.pk, attachment.pk))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"line")


# --------------------------------------------------------------------------------------
# Reply
# --------------------------------------------------------------------------------------


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_public_reply_waits_for_customer_mails_and_signs(client, busy_ticket, agent, commit):
    agent.helpdesk_profile.signature = "Agent Smith, Support"
    agent.helpdesk_profile.save()
    client.force_login(agent)
    mail.outbox.clear()
    with_file = factories.upload("trace.txt", b"trace\n")
    with commit():
        response = client.post(
            url("reply", busy_ticket.pk),
            {
                "message": "Please restart it.",
                "append_signature": "on",
                "time_spent": "15",
                "attachments": [with_file],
            },
        )
    assert response.status_code == 302
    ticket = Ticket.objects.get(pk=busy_ticket.pk)
    assert ticket.status.kind == Status.Kind.WAITING
    message = ticket.messages.order_by("pk").last()
    assert message.is_staff_reply and not message.is_internal
    assert message.body.endswith("Agent Smith, Support")
    assert message.time_spent_minutes == 15
    assert message.attachments.get().original_name == "trace.txt"
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]


def test_signature_can_be_left_off(client, busy_ticket, agent):
    agent.helpdesk_profile.signature = "Agent Smith"
    agent.helpdesk_profile.save()
    client.force_login(agent)
    client.post(url("reply", busy_ticket.pk), {"message": "No signature here."})
    assert Message.objects.order_by("pk").last().body == "No signature here."


def test_internal_note_keeps_status_and_is_never_mailed(client, busy_ticket, agent, commit):
    status_before = Ticket.objects.get(pk=busy_ticket.pk).status_id
    client.force_login(agent)
    mail.outbox.clear()
    with commit():
        response = client.post(
            url("reply", busy_ticket.pk),
            {"message": "Customer seems confused.", "is_internal": "on", "append_signature": "on"},
        )
    assert response.status_code == 302
    ticket = Ticket.objects.get(pk=busy_ticket.pk)
    assert ticket.status_id == status_before
    note = ticket.messages.order_by("pk").last()
    assert note.is_internal and note.body == "Customer seems confused."
    assert not [m for m in mail.outbox if "alice@example.com" in m.to]
    assert all("confused" not in m.body for m in mail.outbox)


def test_reply_can_pick_a_status(client, busy_ticket, powerful):
    resolved = Status.objects.filter(kind=Status.Kind.RESOLVED).first()
    client.force_login(powerful)
    client.post(url("reply", busy_ticket.pk), {"message": "Fixed.", "new_status": resolved.pk})
    assert Ticket.objects.get(pk=busy_ticket.pk).status_id == resolved.pk


def test_reply_status_is_not_an_agents_choice_without_the_fields_permission(
    client, busy_ticket, agent
):
    resolved = Status.objects.filter(kind=Status.Kind.RESOLVED).first()
    client.force_login(agent)
    html = client.get(url("detail", busy_ticket.pk)).content.decode()
    assert 'name="new_status"' not in html
    response = client.post(
        url("reply", busy_ticket.pk), {"message": "Fixed.", "new_status": resolved.pk}
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(pk=busy_ticket.pk)
    assert ticket.status.kind == Status.Kind.WAITING, "the reply's automatic status"
    assert ticket.messages.filter(body="Fixed.").exists()


def test_invalid_reply_shows_the_form_again(client, busy_ticket, agent):
    client.force_login(agent)
    response = client.post(
        url("reply", busy_ticket.pk),
        {"message": "", "attachments": [factories.upload("evil.html", b"<html></html>")]},
    )
    assert response.status_code == 400
    assert (
        "error-message" in response.content.decode()
        or "w-field__errors" in response.content.decode()
    )
    assert Ticket.objects.get(pk=busy_ticket.pk).message_count == busy_ticket.message_count


def test_a_refused_reply_shows_the_whole_screen_again(client, busy_ticket, agent):
    """The reply loads only what it needs; shown again, the page has all the rest."""
    from wagtail_tickets.mail import loops
    from wagtail_tickets.mail.parse import DeliveryReport

    Star.objects.create(ticket=busy_ticket, user=agent)
    loops.record_bounces(DeliveryReport(failed=[(busy_ticket.customer_email, "5.1.1")]))
    loops.record_bounces(DeliveryReport(failed=[(busy_ticket.customer_email, "5.1.1")]))
    client.force_login(agent)
    response = client.post(url("reply", busy_ticket.pk), {"message": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-pressed="true"' in html, "the agent's star"
    assert "mail bounces" in html
    assert html.count('class="wt-msg ') == busy_ticket.messages.count()


def test_the_desk_applies_the_attachment_rules_of_the_departments_site(client, site_settings):
    """Whatever host the admin is reached by; read as the customer's pages keep them in
    the cache, and a change to them is seen on the next screen."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from wagtail.models import Page, Site

    from wagtail_tickets.models import HelpdeskPage, HelpdeskSettings

    home = Page.get_first_root_node().add_child(instance=Page(title="Shop", slug="shop"))
    shop = Site.objects.create(hostname="shop.example", root_page=home)
    helpdesk = HelpdeskPage(title="Help", slug="help")
    home.add_child(instance=helpdesk)
    helpdesk.save_revision().publish()
    department = factories.make_department(helpdesk, title="Orders", prefix="ORD")
    shop_settings = HelpdeskSettings.for_site(shop)
    shop_settings.allowed_extensions = "pdf"
    shop_settings.save()
    ticket = factories.open_ticket(department)
    client.force_login(factories.make_agent("seller", departments=[department]))

    def accepted():
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url("detail", ticket.pk)).content.decode()
        reads = [q for q in queries if HelpdeskSettings._meta.db_table in q["sql"]]
        return re.search(r'name="attachments"[^>]*accept="([^"]*)"', html).group(1), len(reads)

    assert accepted() == (".pdf", 1)
    assert accepted() == (".pdf", 0), "kept in the cache"
    shop_settings.allowed_extensions = "pdf, txt"
    shop_settings.save()
    assert accepted() == (".pdf,.txt", 1)


# --------------------------------------------------------------------------------------
# Ticket fields, assignment
# --------------------------------------------------------------------------------------


def _fields(ticket, **values):
    data = {
        "fields-subject": ticket.subject,
        "fields-status": ticket.status_id,
        "fields-priority": ticket.priority_id,
        "fields-department": ticket.department_id,
        "fields-assignee": ticket.assignee_id or "",
    }
    data.update({f"fields-{k}": v for k, v in values.items()})
    return data


def test_agent_without_field_permissions_sees_no_form_and_cannot_post(client, busy_ticket, agent):
    client.force_login(agent)
    html = client.get(url("detail", busy_ticket.pk)).content.decode()
    assert 'name="fields-subject"' not in html
    response = client.post(url("update", busy_ticket.pk), _fields(busy_ticket, subject="Hacked"))
    assert response.status_code == 302  # Wagtail's permission denied: back to the dashboard
    assert Ticket.objects.get(pk=busy_ticket.pk).subject == "Printer is on fire"


def test_change_ticket_fields_is_audited_and_keeps_the_code(client, busy_ticket, agent, helpdesk):
    grant(agent, "change_ticket_fields")
    other = factories.make_department(helpdesk, title="Second line", prefix="SEC")
    agent.helpdesk_profile.departments.add(other)
    high = Priority.objects.exclude(pk=busy_ticket.priority_id).first()
    closed = Status.objects.filter(kind="closed").first()
    client.force_login(agent)
    html = client.get(url("detail", busy_ticket.pk)).content.decode()
    assert 'name="fields-subject"' in html and 'name="fields-assignee"' not in html
    response = client.post(
        url("update", busy_ticket.pk),
        _fields(
            busy_ticket,
            subject="Printer on fire (again)",
            priority=high.pk,
            department=other.pk,
            status=closed.pk,
        ),
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(pk=busy_ticket.pk)
    assert (ticket.subject, ticket.priority_id, ticket.department_id) == (
        "Printer on fire (again)",
        high.pk,
        other.pk,
    )
    assert ticket.code == busy_ticket.code
    assert ticket.status.kind == "closed"
    edit = TicketLogEntry.objects.get(action="wagtail_tickets.ticket.edit", ticket_id=ticket.pk)
    assert edit.user == agent
    assert edit.data["subject"] == {"old": "Printer is on fire", "new": "Printer on fire (again)"}
    assert edit.data["department"]["new"]["id"] == other.pk
    assert TicketLogEntry.objects.filter(action="wagtail_tickets.ticket.close", user=agent).exists()


def test_department_choices_are_only_the_agents(client, busy_ticket, agent, helpdesk):
    grant(agent, "change_ticket_fields")
    foreign = factories.make_department(helpdesk, title="Foreign", prefix="FOR")
    client.force_login(agent)
    response = client.post(
        url("update", busy_ticket.pk), _fields(busy_ticket, department=foreign.pk)
    )
    assert response.status_code == 400
    assert Ticket.objects.get(pk=busy_ticket.pk).department_id == busy_ticket.department_id


def test_assign_needs_assign_ticket(client, busy_ticket, agent, department, commit):
    colleague = factories.make_agent("colleague", departments=[department])
    client.force_login(grant(agent, "change_ticket_fields"))
    client.post(url("update", busy_ticket.pk), _fields(busy_ticket, assignee=colleague.pk))
    assert Ticket.objects.get(pk=busy_ticket.pk).assignee_id is None

    grant(agent, "assign_ticket")
    client.force_login(agent)
    mail.outbox.clear()
    with commit():
        response = client.post(
            url("update", busy_ticket.pk), _fields(busy_ticket, assignee=colleague.pk)
        )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=busy_ticket.pk).assignee_id == colleague.pk
    entry = TicketLogEntry.objects.get(action="wagtail_tickets.ticket.assign")
    assert entry.user == agent and entry.data["new"]["id"] == colleague.pk
    assert [m.to for m in mail.outbox] == [[colleague.email]]


def test_assign_only_holder_sees_only_the_assignee(client, busy_ticket, agent, department):
    colleague = factories.make_agent("colleague", departments=[department])
    client.force_login(grant(agent, "assign_ticket"))
    html = client.get(url("detail", busy_ticket.pk)).content.decode()
    assert 'name="fields-assignee"' in html and 'name="fields-subject"' not in html
    response = client.post(url("update", busy_ticket.pk), {"fields-assignee": colleague.pk})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=busy_ticket.pk).assignee_id == colleague.pk


def test_cannot_assign_to_someone_outside_the_department(client, busy_ticket, agent, other_agent):
    client.force_login(grant(agent, "assign_ticket"))
    response = client.post(url("update", busy_ticket.pk), {"fields-assignee": other_agent.pk})
    assert response.status_code == 400
    assert Ticket.objects.get(pk=busy_ticket.pk).assignee_id is None


# --------------------------------------------------------------------------------------
# Close, reopen, star
# --------------------------------------------------------------------------------------


def test_close_and_reopen(client, busy_ticket, agent):
    client.force_login(agent)
    assert client.post(url("close", busy_ticket.pk)).status_code == 302
    assert Ticket.objects.get(pk=busy_ticket.pk).status.kind == "closed"
    client.post(url("close", busy_ticket.pk))  # already closed: a message, no error
    client.post(url("reopen", busy_ticket.pk))
    assert Ticket.objects.get(pk=busy_ticket.pk).status.kind == "open"
    actions = set(
        TicketLogEntry.objects.filter(ticket_id=busy_ticket.pk, user=agent).values_list(
            "action", flat=True
        )
    )
    assert {"wagtail_tickets.ticket.close", "wagtail_tickets.ticket.reopen"} <= actions


def test_star_toggles_per_user(client, busy_ticket, agent, department):
    colleague = factories.make_agent("colleague", departments=[department])
    client.force_login(agent)
    client.post(url("star", busy_ticket.pk))
    assert Star.objects.filter(user=agent, ticket=busy_ticket).exists()
    client.force_login(colleague)
    html = client.get(url("detail", busy_ticket.pk)).content.decode()
    assert 'aria-pressed="false"' in html
    client.force_login(agent)
    assert 'aria-pressed="true"' in client.get(url("detail", busy_ticket.pk)).content.decode()
    client.post(url("star", busy_ticket.pk))
    assert not Star.objects.exists()


# --------------------------------------------------------------------------------------
# Edit / delete messages
# --------------------------------------------------------------------------------------


def test_edit_message_needs_the_permission_and_is_audited(client, busy_ticket, agent):
    message = busy_ticket.messages.order_by("pk").last()
    client.force_login(agent)
    html = client.get(url("detail", busy_ticket.pk)).content.decode()
    assert url("edit_message", busy_ticket.pk, message.pk) not in html
    response = client.post(url("edit_message", busy_ticket.pk, message.pk), {"body": "Changed"})
    assert response.status_code == 302
    assert Message.objects.get(pk=message.pk).body == message.body

    grant(agent, "edit_message")
    client.force_login(agent)
    html = client.get(url("detail", busy_ticket.pk)).content.decode()
    assert url("edit_message", busy_ticket.pk, message.pk) in html
    assert client.get(url("edit_message", busy_ticket.pk, message.pk)).status_code == 200
    client.post(url("edit_message", busy_ticket.pk, message.pk), {"body": "Corrected text"})
    edited = Message.objects.get(pk=message.pk)
    assert edited.body == "Corrected text" and edited.edited_by == agent
    entry = TicketLogEntry.objects.get(action="wagtail_tickets.message.edit")
    assert entry.data["old_body"] == message.body and entry.user == agent
    html = client.get(url("detail", busy_ticket.pk)).content.decode()
    assert "wt-edited" in html


def test_delete_message_needs_the_permission_and_spares_the_first(client, busy_ticket, agent):
    first = busy_ticket.messages.order_by("pk").first()
    last = busy_ticket.messages.order_by("pk").last()
    client.force_login(agent)
    client.post(url("delete_message", busy_ticket.pk, last.pk))
    assert Message.objects.filter(pk=last.pk).exists()

    grant(agent, "delete_message")
    client.force_login(agent)
    html = client.get(url("detail", busy_ticket.pk)).content.decode()
    assert url("delete_message", busy_ticket.pk, last.pk) in html
    assert url("delete_message", busy_ticket.pk, first.pk) not in html
    assert client.get(url("delete_message", busy_ticket.pk, last.pk)).status_code == 200
    client.post(url("delete_message", busy_ticket.pk, last.pk))
    assert not Message.objects.filter(pk=last.pk).exists()
    entry = TicketLogEntry.objects.get(action="wagtail_tickets.message.delete")
    assert entry.data["old_body"] == last.body
    client.post(url("delete_message", busy_ticket.pk, first.pk))
    assert Message.objects.filter(pk=first.pk).exists()
    assert Ticket.objects.get(pk=busy_ticket.pk).message_count == 2


def test_message_of_another_ticket_is_404(client, busy_ticket, agent, department):
    grant(agent, "edit_message")
    other = factories.open_ticket(department, subject="Other")
    client.force_login(agent)
    message = other.messages.get()
    assert client.get(url("edit_message", busy_ticket.pk, message.pk)).status_code == 404


# --------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------


def test_history_view_lists_the_tickets_log(client, busy_ticket, agent):
    workflow.close(busy_ticket, user=agent)
    client.force_login(agent)
    response = client.get(url("history", busy_ticket.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ticket closed" in html and "Ticket opened" in html


# --------------------------------------------------------------------------------------
# Next / previous
# --------------------------------------------------------------------------------------


def _follow(client, name, ticket, query):
    response = client.get(url(name, ticket.pk) + "?" + urlencode({"from": query}))
    assert response.status_code == 302
    return response["Location"]


def test_next_and_previous_follow_the_inbox_order(client, department, agent, site_settings):
    tickets = [factories.open_ticket(department, subject=f"Case {n}") for n in range(4)]
    client.force_login(agent)
    query = urlencode({"ordering": "created_at"})
    from_part = "?" + urlencode({"from": query})
    html = client.get(url("detail", tickets[1].pk) + from_part).content.decode()
    assert 'rel="next"' in html and 'rel="prev"' in html
    assert _follow(client, "next", tickets[1], query) == url("detail", tickets[2].pk) + from_part
    assert (
        _follow(client, "previous", tickets[1], query) == url("detail", tickets[0].pk) + from_part
    )
    # At the ends the agent stays where they are.
    assert (
        _follow(client, "previous", tickets[0], query) == url("detail", tickets[0].pk) + from_part
    )
    # Newest first.
    query = urlencode({"ordering": "-created_at"})
    assert _follow(client, "next", tickets[3], query).startswith(url("detail", tickets[2].pk))
    # Without a list to follow there is no navigation.
    html = client.get(url("detail", tickets[1].pk)).content.decode()
    assert 'rel="next"' not in html


def test_navigation_stays_within_visible_tickets(
    client, department, agent, other_agent, site_settings
):
    first = factories.open_ticket(department, subject="Mine 1")
    factories.open_ticket(other_agent.helpdesk_profile.departments.get(), subject="Not mine")
    last = factories.open_ticket(department, subject="Mine 2")
    client.force_login(agent)
    query = urlencode({"ordering": "created_at"})
    assert _follow(client, "next", first, query).startswith(url("detail", last.pk))


def test_next_respects_the_inbox_filter(client, department, agent, site_settings):
    try:
        from wagtail_tickets.admin.filters import InboxFilterSet  # noqa: F401
    except ImportError:
        pytest.skip("the inbox filters are not installed")
    high = Priority.objects.order_by("-sort_order").first()
    low = Priority.objects.exclude(pk=high.pk).first()
    a = factories.open_ticket(department, subject="A", priority=high)
    factories.open_ticket(department, subject="B", priority=low)
    c = factories.open_ticket(department, subject="C", priority=high)
    client.force_login(agent)
    query = urlencode({"ordering": "created_at", "priority": high.pk})
    assert _follow(client, "next", a, query).startswith(url("detail", c.pk))


def test_navigation_query_count_is_constant(
    client, department, agent, site_settings, django_assert_max_num_queries
):
    tickets = [factories.open_ticket(department, subject=f"Case {n}") for n in range(30)]
    client.force_login(agent)
    query = urlencode({"ordering": "created_at"})
    _follow(client, "next", tickets[0], query)
    with django_assert_max_num_queries(16):
        _follow(client, "next", tickets[15], query)


# --------------------------------------------------------------------------------------
# Create for a customer
# --------------------------------------------------------------------------------------


def test_new_ticket_for_an_existing_account(
    client, agent, department, customer, site_settings, commit
):
    client.force_login(agent)
    assert client.get(url("create")).status_code == 200
    mail.outbox.clear()
    with commit():
        response = client.post(
            url("create"),
            {
                "account": "ALICE@example.com",
                "department": department.pk,
                "subject": "Phoned in: router down",
                "message": "Customer called: the router is down.",
                "attachments": [factories.upload("call.txt", b"call notes\n")],
            },
        )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Phoned in: router down")
    assert response["Location"] == url("detail", ticket.pk)
    assert ticket.customer == customer and ticket.customer_email == "alice@example.com"
    assert ticket.submitter_ip is None and ticket.submitter_user_agent == ""
    first = ticket.messages.get()
    assert first.source == Message.Source.STAFF
    assert first.attachments.count() == 1
    entry = TicketLogEntry.objects.get(action="wagtail_tickets.ticket.create", ticket_id=ticket.pk)
    assert entry.user == agent
    customer_mail = [m for m in mail.outbox if m.to == ["alice@example.com"]]
    assert customer_mail and ticket.code in customer_mail[0].body
    assert "/access/" in customer_mail[0].body


def test_new_ticket_by_name_and_email(client, agent, department, site_settings):
    client.force_login(agent)
    response = client.post(
        url("create"),
        {
            "customer_name": "Walk-in Wendy",
            "customer_email": "wendy@example.com",
            "department": department.pk,
            "subject": "Walk-in",
            "message": "At the counter.",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Walk-in")
    assert ticket.customer is None and ticket.customer_name == "Walk-in Wendy"


def test_new_ticket_needs_a_customer_and_a_visible_department(
    client, agent, other_agent, site_settings
):
    sales = other_agent.helpdesk_profile.departments.get()
    client.force_login(agent)
    response = client.post(url("create"), {"department": sales.pk, "subject": "x", "message": "y"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the customer" in html
    assert not Ticket.objects.exists()


def test_new_ticket_menu_item(client, agent):
    client.force_login(agent)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert url("create") in html


# --------------------------------------------------------------------------------------
# Query ceilings
# --------------------------------------------------------------------------------------

TICKET_SCREEN = 20
# 20 on main before the analytics; a staff reply adds one INSERT ... ON CONFLICT to the
# activity rollups (its reply counts by day, month and quarter, in one statement).
REPLY_POST = 21
# The "Customer's tickets" tab alone: what every desk request reads (session, user, the
# agent's rights), the ticket, and one UNION of the customer's tickets, however many.
CUSTOMER_TAB = 8


def _crowd(ticket, agent, department, messages, views):
    factories.add_replies(ticket, messages, staff=agent, with_attachments=True)
    for n in range(views):
        viewer = factories.make_agent(f"viewer{ticket.pk}x{n}", departments=[department])
        viewer = grant(viewer, "change_ticket_fields")  # to set statuses (workflow.rules)
        TicketView.objects.create(ticket=ticket, user=viewer, ip_address="192.0.2.1")
        kind = Status.Kind.OPEN if n % 2 else Status.Kind.WAITING
        workflow.change_status(ticket, Status.first_of_kind(kind), user=viewer)
    for n in range(messages // 3):
        factories.open_ticket(department, customer=ticket.customer, subject=f"Other {n}")


@pytest.mark.parametrize("size", [(2, 0), (30, 25)])
def test_ticket_screen_query_ceiling(
    client, department, customer, powerful, site_settings, size, django_assert_max_num_queries
):
    messages, views = size
    ticket = factories.open_ticket(department, customer=customer)
    _crowd(ticket, powerful, department, messages, views)
    colleague = factories.make_agent("colleague", departments=[department])
    workflow.assign(ticket, colleague, user=powerful)
    Star.objects.create(ticket=ticket, user=powerful)
    client.force_login(powerful)
    target = url("detail", ticket.pk) + "?" + urlencode({"from": "ordering=created_at"})
    # Statuses and priorities are cached once per process, not per request; an agent's
    # saved replies once a minute (admin/saved_replies.py).
    cached_rows(Status)
    cached_rows(Priority)
    replies_for(powerful, ticket)
    with django_assert_max_num_queries(TICKET_SCREEN):  # the first view records itself
        response = client.get(target)
    assert response.status_code == 200
    with django_assert_max_num_queries(TICKET_SCREEN):
        response = client.get(target)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="wt-msg ') == messages + 1


@pytest.mark.parametrize("messages", [2, 30])
def test_reply_post_query_ceiling(
    client, department, customer, powerful, site_settings, messages, django_assert_max_num_queries
):
    ticket = factories.open_ticket(department, customer=customer)
    factories.add_replies(ticket, messages, staff=powerful, with_attachments=True)
    client.force_login(powerful)
    # Statuses and priorities are cached once per process, not per request.
    cached_rows(Status)
    cached_rows(Priority)
    with django_assert_max_num_queries(REPLY_POST):
        response = client.post(
            url("reply", ticket.pk),
            {"message": "Done", "attachments": [factories.upload("a.txt", b"a\n")]},
        )
    assert response.status_code == 302


def test_a_reply_that_goes_through_reads_nothing_only_the_screen_shows(client, busy_ticket, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    factories.add_replies(busy_ticket, 1)
    client.force_login(agent)
    cached_rows(Status)
    cached_rows(Priority)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url("reply", busy_ticket.pk), {"message": "Done"})
    assert response.status_code == 302
    sql = " ".join(query["sql"] for query in queries)
    for table in ("star", "articlepage", "bouncingaddress", "ticketview"):
        assert f"wagtail_tickets_{table}" not in sql, table
    assert "wagtail_tickets_replydraft" in sql, "whether a draft is to be dropped"
