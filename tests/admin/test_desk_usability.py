"""The desk as agents use it (issue 16, points 1-10): defaults, unread, one form, modes,
saved replies, long conversations, mail links, Frequent requests, Russian durations."""

import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from tests import factories
from wagtail_tickets import durations, workflow
from wagtail_tickets.admin.menu import open_ticket_count
from wagtail_tickets.models import (
    Message,
    Priority,
    ReplyDraft,
    SavedReply,
    Status,
    Ticket,
    TicketView,
)

pytestmark = pytest.mark.django_db

INBOX = "/admin/helpdesk_inbox/"


def url(name, *args):
    return reverse(f"helpdesk_tickets:{name}", args=args)


def soup(response):
    return BeautifulSoup(response.content.decode(), "html.parser")


def inbox_codes(response):
    return [row.instance.code for row in response.context["table"].rows]


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def powerful(agent):
    return factories.grant(agent, "assign_ticket", "change_ticket_fields")


# --------------------------------------------------------------------------------------
# 4. Inbox defaults, menu
# --------------------------------------------------------------------------------------


def test_default_view_is_the_active_queue_the_menu_counts(client, department, agent):
    colleague = factories.make_agent("colleague", departments=[department])
    mine = factories.open_ticket(department, subject="Mine")
    # The tickets' states are set up by the system: who changed them is not the point.
    workflow.assign(mine, agent, user=None)
    unassigned = factories.open_ticket(department, subject="Nobody's")
    theirs = factories.open_ticket(department, subject="Colleague's")
    workflow.assign(theirs, colleague, user=None)
    closed = factories.open_ticket(department, subject="Done")
    workflow.close(closed, user=agent)
    resolved = factories.open_ticket(department, subject="Solved")
    workflow.change_status(resolved, Status.first_of_kind(Status.Kind.RESOLVED), user=None)

    client.force_login(agent)
    response = client.get(INBOX)
    assert response.status_code == 200
    assert sorted(inbox_codes(response)) == sorted([mine.code, unassigned.code])
    assert open_ticket_count(agent) == len(inbox_codes(response))
    # "My queue" is the current quick view; the filters say what is applied.
    page = soup(response)
    current = page.select_one('.wt-inbox-bar a[aria-current="true"]')
    assert current.get_text(strip=True) == "My queue"
    # everything is one click away, and removing a filter never falls back to the default
    everything = inbox_codes(client.get(INBOX + "?all=1"))
    assert {closed.code, resolved.code, theirs.code} <= set(everything)
    for pill in response.context["active_filters"]:
        assert "all=1" in pill.removed_filter_url


def test_inbox_comes_first_in_the_helpdesk_menu(client, agent):
    from wagtail_tickets.admin.inbox import InboxViewSet

    client.force_login(agent)
    html = client.get("/admin/").content.decode()
    page = BeautifulSoup(html, "html.parser")
    assert InboxViewSet.menu_order == 10
    # Wagtail's sidebar is drawn from JSON: the Helpdesk submenu's first item is the inbox.
    props = page.select_one("#wagtail-sidebar-props").string
    helpdesk = props[props.index('"wagtail-tickets"') :]
    first_url = re.search(r'"url": "([^"]+)"', helpdesk).group(1)
    assert first_url == INBOX


def test_russian_menu_label_is_short(client, agent):
    from wagtail_tickets.admin.menu import HelpdeskViewSetGroup

    with translation.override("ru"):
        label = str(HelpdeskViewSetGroup.menu_label)
    # Wagtail's sidebar shows about 16 characters beside the count before cutting.
    assert label == "Поддержка"


# --------------------------------------------------------------------------------------
# 5. Unread marker (desk)
# --------------------------------------------------------------------------------------


def _row(response, ticket):
    page = soup(response)
    link = page.find("a", href=url("detail", ticket.pk), attrs={"data-wt-row-link": True})
    return link.find_parent("tr")


def test_unread_until_the_agent_opens_it_and_again_after_the_customer_writes(
    client, department, agent, customer
):
    ticket = factories.open_ticket(department, customer=customer)
    client.force_login(agent)
    row = _row(client.get(INBOX), ticket)
    assert "wt-unread" in row.get("class", [])
    assert row.select_one(".wt-unread-dot") is not None
    assert "New customer activity" in row.select_one("td.wt-inbox-subject .w-sr-only").get_text()

    client.get(url("detail", ticket.pk))
    row = _row(client.get(INBOX), ticket)
    assert "wt-unread" not in (row.get("class") or [])
    assert row.select_one(".wt-unread-dot") is None

    # within the view throttle's few minutes: the customer's new reply still counts
    workflow.post_reply(ticket, body="Any news?", author=customer)
    assert "wt-unread" in _row(client.get(INBOX), ticket).get("class", [])
    client.get(url("detail", ticket.pk))
    assert "wt-unread" not in (_row(client.get(INBOX), ticket).get("class") or [])
    assert TicketView.objects.filter(ticket=ticket, user=agent).count() == 2


def test_unread_is_per_agent(client, department, agent, customer):
    ticket = factories.open_ticket(department, customer=customer)
    colleague = factories.make_agent("colleague", departments=[department])
    client.force_login(agent)
    client.get(url("detail", ticket.pk))
    client.force_login(colleague)
    assert "wt-unread" in _row(client.get(INBOX), ticket).get("class", [])


def test_subject_links_to_the_ticket(client, department, agent):
    ticket = factories.open_ticket(department, subject="Subject <b>as text</b>")
    client.force_login(agent)
    html = client.get(INBOX).content.decode()
    link = BeautifulSoup(html, "html.parser").find("a", attrs={"data-wt-row-link": True})
    assert link["href"] == url("detail", ticket.pk)
    assert link.get_text() == "Subject <b>as text</b>"
    assert "<b>as text</b>" not in html


# --------------------------------------------------------------------------------------
# 3. Columns per agent
# --------------------------------------------------------------------------------------


def _headers(response):
    return [str(column.label) for column in response.context["table"].columns.values()]


def test_default_columns_leave_out_created_and_an_agent_chooses_their_own(
    client, department, agent
):
    factories.open_ticket(department)
    colleague = factories.make_agent("colleague", departments=[department])
    client.force_login(agent)
    headers = _headers(client.get(INBOX + "?all=1"))
    assert "Created" not in headers and "Last reply" in headers and "Due" in headers

    response = client.post(
        reverse("helpdesk_inbox:columns"),
        {"wt-columns-columns": ["created_at", "due_at"], "next": INBOX + "?all=1"},
    )
    assert response.status_code == 302 and response["Location"] == INBOX + "?all=1"
    # a made-up column changes nothing
    client.post(reverse("helpdesk_inbox:columns"), {"wt-columns-columns": ["nonsense"]})
    headers = _headers(client.get(INBOX + "?all=1"))
    assert "Created" in headers and "Due" in headers
    assert "Customer" not in headers and "Last reply" not in headers
    # code, subject and status always stay
    assert {"Code", "Subject", "Status"} <= set(headers)

    client.force_login(colleague)
    assert "Created" not in _headers(client.get(INBOX + "?all=1"))


def test_columns_need_a_desk_profile(client, department):
    manager = factories.grant(factories.make_admin_user("manager"), "view_all_departments")
    client.force_login(manager)
    response = client.post(reverse("helpdesk_inbox:columns"), {"wt-columns-columns": ["due_at"]})
    assert response.status_code == 302
    assert "Created" not in _headers(client.get(INBOX + "?all=1"))
    customer = factories.make_user("cust")
    client.force_login(customer)
    assert client.post(reverse("helpdesk_inbox:columns"), {}).status_code in (302, 403)


# --------------------------------------------------------------------------------------
# 1. Nothing typed is lost: one form, drafts
# --------------------------------------------------------------------------------------


def _fields(ticket, **values):
    """The ticket's fields as the screen shows them, with their shown values as initial."""
    data = {}
    current = {
        "subject": ticket.subject,
        "status": ticket.status_id,
        "priority": ticket.priority_id,
        "department": ticket.department_id,
        "assignee": ticket.assignee_id or "",
    }
    for name, value in current.items():
        data[f"fields-{name}"] = value
        data[f"initial-fields-{name}"] = value
    data.update({f"fields-{k}": v for k, v in values.items()})
    return data


def test_fields_form_and_reply_are_one_form(client, ticket, powerful):
    client.force_login(powerful)
    page = soup(client.get(url("detail", ticket.pk)))
    form = page.select_one("form#wt-ticket-form")
    assert form is not None and form["data-controller"] == "w-unsaved"
    assert "beforeunload@window->w-unsaved#confirm" in form["data-action"]
    for name in ("subject", "status", "priority", "department", "assignee"):
        field = page.find(attrs={"name": f"fields-{name}"})
        assert field["form"] == "wt-ticket-form"
        assert page.find(attrs={"name": f"initial-fields-{name}"})["form"] == "wt-ticket-form"
    save = page.find("button", attrs={"formaction": url("update", ticket.pk)})
    assert save["form"] == "wt-ticket-form"


def test_send_reply_applies_the_fields_the_agent_changed(client, ticket, powerful, department):
    high = Priority.objects.exclude(pk=ticket.priority_id).first()
    colleague = factories.make_agent("colleague", departments=[department])
    client.force_login(powerful)
    data = _fields(ticket, priority=high.pk, assignee=colleague.pk)
    data["message"] = "We are on it."
    response = client.post(url("reply", ticket.pk), data)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority_id == high.pk and ticket.assignee_id == colleague.pk
    assert ticket.messages.order_by("pk").last().body == "We are on it."


def test_send_reply_never_reverts_a_colleagues_change(client, ticket, powerful):
    client.force_login(powerful)
    data = _fields(ticket)  # what the agent saw
    data["message"] = "Reply."
    high = Priority.objects.exclude(pk=ticket.priority_id).first()
    workflow.update_fields(ticket, priority=high)  # someone else, meanwhile
    client.post(url("reply", ticket.pk), data)
    assert Ticket.objects.get(pk=ticket.pk).priority_id == high.pk


def test_status_in_the_fields_is_the_status_after_sending(client, ticket, powerful):
    resolved = Status.first_of_kind(Status.Kind.RESOLVED)
    client.force_login(powerful)
    data = _fields(ticket, status=resolved.pk)
    data["message"] = "Fixed."
    client.post(url("reply", ticket.pk), data)
    assert Ticket.objects.get(pk=ticket.pk).status_id == resolved.pk


def test_two_different_statuses_are_refused_and_nothing_is_lost(client, ticket, powerful):
    resolved = Status.first_of_kind(Status.Kind.RESOLVED)
    closed = Status.first_of_kind(Status.Kind.CLOSED)
    client.force_login(powerful)
    data = _fields(ticket, status=resolved.pk)
    data.update(message="Typed with care.", new_status=closed.pk)
    count = ticket.message_count
    response = client.post(url("reply", ticket.pk), data)
    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).message_count == count
    page = soup(response)
    assert page.find("textarea", attrs={"name": "message"}).get_text().strip() == "Typed with care."
    assert page.select_one("form#wt-ticket-form")["data-w-unsaved-force-value"] == "true"


def test_the_form_offers_no_status_to_an_agent_who_may_not_change_it(client, ticket, agent):
    # The security rules: any status beyond close/reopen needs "Can change ticket fields".
    client.force_login(agent)
    page = soup(client.get(url("detail", ticket.pk)))
    assert page.find(attrs={"name": "new_status"}) is None
    assert page.find(attrs={"name": "fields-status"}) is None
    assert page.find("textarea", attrs={"name": "message"}) is not None
    resolved = Status.first_of_kind(Status.Kind.RESOLVED)
    # A crafted value is not a control the form has: the reply goes, the status stays.
    data = {**_fields(ticket, status=resolved.pk), "message": "Hello", "new_status": resolved.pk}
    response = client.post(url("reply", ticket.pk), data)
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status_id != resolved.pk
    assert ticket.messages.order_by("pk").last().body == "Hello"


def _refuse_status_changes(monkeypatch):
    """The workflow refuses a status change the screen still offered (rights taken away
    between showing the form and sending it)."""
    from wagtail_tickets.workflow import rules

    def refuse(user, ticket):
        raise rules.NotAllowed(f"You may not change the status of {ticket.code}.")

    monkeypatch.setattr(rules, "check_may_change_status", refuse)


def test_a_refused_reply_sends_nothing_and_keeps_the_text(client, ticket, powerful, monkeypatch):
    _refuse_status_changes(monkeypatch)
    resolved = Status.first_of_kind(Status.Kind.RESOLVED)
    client.force_login(powerful)
    data = _fields(ticket, status=resolved.pk)
    data["message"] = "Typed with care."
    count = ticket.message_count
    response = client.post(url("reply", ticket.pk), data)
    assert response.status_code == 403
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.message_count == count and fresh.status_id == ticket.status_id
    page = soup(response)
    assert page.find("textarea", attrs={"name": "message"}).get_text().strip() == "Typed with care."
    assert f"You may not change the status of {ticket.code}." in page.get_text()
    assert page.select_one("form#wt-ticket-form")["data-w-unsaved-force-value"] == "true"


def test_a_field_change_refused_refuses_the_reply_too(
    client, ticket, powerful, helpdesk, monkeypatch
):
    sales = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    powerful.helpdesk_profile.departments.add(sales)
    from wagtail_tickets import permissions

    # The screen offers the agent's departments; the rules refuse moving there.
    seen = permissions.may_see_department
    monkeypatch.setattr(
        permissions,
        "may_see_department",
        lambda user, department: department.pk != sales.pk and seen(user, department),
    )
    client.force_login(powerful)
    data = _fields(ticket, department=sales.pk)
    data["message"] = "Moving you to sales."
    count = ticket.message_count
    response = client.post(url("reply", ticket.pk), data)
    assert response.status_code == 403
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.message_count == count and fresh.department_id == ticket.department_id
    page = soup(response)
    text = page.find("textarea", attrs={"name": "message"}).get_text().strip()
    assert text == "Moving you to sales."
    assert "You may not move tickets to Sales." in page.get_text()

    # "Save" refuses the same change, says why, and keeps the text as a draft.
    response = client.post(url("update", ticket.pk), data)
    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).department_id == ticket.department_id
    page = soup(response)
    text = page.find("textarea", attrs={"name": "message"}).get_text().strip()
    assert text == "Moving you to sales."
    assert "You may not move tickets to Sales." in page.get_text()
    assert ReplyDraft.objects.get(ticket=ticket, user=powerful).body == "Moving you to sales."


def test_save_keeps_the_reply_as_a_draft_until_it_is_sent(client, ticket, powerful):
    client.force_login(powerful)
    high = Priority.objects.exclude(pk=ticket.priority_id).first()
    data = _fields(ticket, priority=high.pk)
    data.update(message="Half-written answer", is_internal="on")
    response = client.post(url("update", ticket.pk), data)
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).priority_id == high.pk
    draft = ReplyDraft.objects.get(ticket=ticket, user=powerful)
    assert (draft.body, draft.is_internal) == ("Half-written answer", True)

    page = soup(client.get(url("detail", ticket.pk)))
    text = page.find("textarea", attrs={"name": "message"}).get_text().strip()
    assert text == "Half-written answer"
    assert page.find("input", id="wt-mode-note").has_attr("checked")
    assert page.select_one(".wt-draft") is not None
    # another agent does not see it
    colleague = factories.make_agent("colleague", departments=[ticket.department])
    client.force_login(colleague)
    page = soup(client.get(url("detail", ticket.pk)))
    assert page.find("textarea", attrs={"name": "message"}).get_text().strip() == ""

    client.force_login(powerful)
    client.post(url("reply", ticket.pk), {"message": "Final answer", "is_internal": ""})
    assert not ReplyDraft.objects.exists()


def test_draft_can_be_discarded_and_an_emptied_text_drops_it(client, ticket, powerful):
    client.force_login(powerful)
    client.post(url("update", ticket.pk), {**_fields(ticket), "message": "Draft"})
    assert ReplyDraft.objects.count() == 1
    client.post(url("discard_draft", ticket.pk))
    assert not ReplyDraft.objects.exists()
    client.post(url("update", ticket.pk), {**_fields(ticket), "message": "Again"})
    client.post(url("update", ticket.pk), {**_fields(ticket), "message": "  "})
    assert not ReplyDraft.objects.exists()


def test_drafts_and_discard_are_for_desk_users_only(client, ticket, other_agent):
    client.force_login(other_agent)
    assert client.post(url("discard_draft", ticket.pk)).status_code == 404


# --------------------------------------------------------------------------------------
# 2. Reply or internal note
# --------------------------------------------------------------------------------------


def test_two_modes_with_their_own_button_text(client, ticket, agent):
    client.force_login(agent)
    page = soup(client.get(url("detail", ticket.pk)))
    reply, note = page.find(id="wt-mode-reply"), page.find(id="wt-mode-note")
    assert reply["type"] == note["type"] == "radio"
    assert reply["name"] == note["name"] == "is_internal"
    assert reply.has_attr("checked") and not note.has_attr("checked")
    assert page.find("label", attrs={"for": "wt-mode-note"}).get_text(strip=True) == "Internal note"
    button = page.select_one("button.wt-send")
    assert button.select_one(".wt-send__reply").get_text(strip=True) == "Send reply"
    assert button.select_one(".wt-send__note").get_text(strip=True) == "Add internal note"


def test_note_mode_adds_a_note_and_mails_nobody(client, ticket, agent, commit):
    client.force_login(agent)
    mail.outbox.clear()
    with commit():
        client.post(url("reply", ticket.pk), {"message": "Between us.", "is_internal": "on"})
    note = ticket.messages.order_by("pk").last()
    assert note.is_internal
    assert not mail.outbox
    with commit():
        client.post(url("reply", ticket.pk), {"message": "To you.", "is_internal": ""})
    assert not ticket.messages.order_by("pk").last().is_internal
    assert [m.to for m in mail.outbox] == [[ticket.customer_email]]


# --------------------------------------------------------------------------------------
# 6. Saved replies
# --------------------------------------------------------------------------------------

REPLIES = "/admin/helpdesk/saved-replies/"


@pytest.fixture
def manager(department):
    return factories.make_manager(
        "manager",
        codenames=["add_savedreply", "change_savedreply", "delete_savedreply"],
        departments=[department],
    )


def test_agent_keeps_private_replies_and_cannot_share(client, agent, department):
    client.force_login(agent)
    assert client.get(REPLIES).status_code == 200
    response = client.post(
        REPLIES + "new/",
        {"title": "Hello", "body": "Hi {customer_name}", "shared": "on", "language": ""},
    )
    assert response.status_code == 302
    reply = SavedReply.objects.get()
    assert reply.owner == agent and not reply.is_shared


def test_manager_shares_replies_agents_use_but_cannot_change(client, agent, manager, department):
    client.force_login(manager)
    client.post(
        REPLIES + "new/",
        {"title": "Team", "body": "Team text", "shared": "on", "department": department.pk},
    )
    shared = SavedReply.objects.get()
    assert shared.owner is None and shared.department == department
    client.force_login(agent)
    assert "Team" in client.get(REPLIES).content.decode()
    assert client.get(REPLIES + f"edit/{shared.pk}/").status_code in (302, 403)
    assert client.post(REPLIES + f"delete/{shared.pk}/").status_code in (302, 403)
    assert SavedReply.objects.filter(pk=shared.pk).exists()


def test_private_replies_of_others_and_other_departments_stay_hidden(
    client, agent, other_agent, helpdesk
):
    mine = SavedReply.objects.create(title="Mine", body="x", owner=agent)
    other_department = other_agent.helpdesk_profile.departments.get()
    theirs = SavedReply.objects.create(title="Theirs", body="y", owner=other_agent)
    elsewhere = SavedReply.objects.create(title="Sales only", body="z", department=other_department)
    client.force_login(agent)
    html = client.get(REPLIES).content.decode()
    assert "Mine" in html and "Theirs" not in html and "Sales only" not in html
    for reply in (theirs, elsewhere):
        assert client.get(REPLIES + f"edit/{reply.pk}/").status_code == 404
    assert client.get(REPLIES + f"edit/{mine.pk}/").status_code == 200


def test_saved_replies_listing_costs_the_same_for_many_rows(
    client, agent, manager, department, django_assert_max_num_queries
):
    client.force_login(agent)

    def add(n):
        for i in range(n):
            SavedReply.objects.create(title=f"Mine {i}", body="Hi", owner=agent)
            SavedReply.objects.create(
                title=f"Team {i}", body="Hi", owner=None, department=department
            )

    add(1)
    client.get(REPLIES)
    with django_assert_max_num_queries(30) as few:
        assert client.get(REPLIES).status_code == 200
    add(15)
    with django_assert_max_num_queries(30) as many:
        html = client.get(REPLIES).content.decode()
    rows = BeautifulSoup(html, "html.parser").select("table.listing tbody tr")
    assert len(rows) == 20, len(rows)  # a full page of the 32
    assert len(many.captured_queries) == len(few.captured_queries)


def test_outsiders_cannot_reach_saved_replies(client, customer):
    editor = factories.make_admin_user("editor")
    client.force_login(editor)
    assert client.get(REPLIES).status_code in (302, 403)
    client.force_login(customer)
    assert client.get(REPLIES).status_code == 302


def test_ticket_offers_fitting_replies_with_placeholders_filled(client, ticket, agent, helpdesk):
    agent.first_name, agent.last_name = "Ada", "Agent"
    agent.save()
    other_department = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    SavedReply.objects.create(
        title="Greeting",
        body="Hello {customer_name}, {agent_name} of {department} on {ticket_code}. {0.__class__}",
        owner=agent,
    )
    SavedReply.objects.create(title="Sales", body="s", department=other_department)
    SavedReply.objects.create(title="German", body="g", language="de")
    SavedReply.objects.create(title="Russian", body="r", language="ru")
    client.force_login(agent)
    page = soup(client.get(url("detail", ticket.pk)))
    options = {o.get_text(strip=True): o for o in page.select("#wt-saved-reply option")[1:]}
    assert set(options) == {"Greeting (mine)"} | ({"Russian"} if ticket.language == "ru" else set())
    text = options["Greeting (mine)"]["data-text"]
    assert text == (
        f"Hello {ticket.customer_name}, Ada Agent of Technical support on {ticket.code}. "
        "{0.__class__}"
    )


def test_insert_without_javascript_adds_the_text_and_sends_nothing(client, ticket, agent):
    reply = SavedReply.objects.create(title="Sign-off", body="Regards, {agent_name}", owner=agent)
    client.force_login(agent)
    count = ticket.message_count
    response = client.post(
        url("reply", ticket.pk),
        {"message": "My own words.", "saved_reply": reply.pk, "insert_saved_reply": "1"},
    )
    assert response.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).message_count == count
    text = soup(response).find("textarea", attrs={"name": "message"}).get_text()
    assert text.strip() == "My own words.\n\nRegards, agent"
    # someone else's private reply cannot be inserted
    other = factories.make_agent("other", departments=[ticket.department])
    secret = SavedReply.objects.create(title="Secret", body="secret text", owner=other)
    response = client.post(
        url("reply", ticket.pk),
        {"message": "", "saved_reply": secret.pk, "insert_saved_reply": "1"},
    )
    assert "secret text" not in response.content.decode()


# --------------------------------------------------------------------------------------
# 7. Long conversations
# --------------------------------------------------------------------------------------


def _long(ticket, agent, count):
    # After the ticket's first message, one a second, in the order written.
    start = max(timezone.now(), ticket.last_message_at) + timedelta(seconds=1)
    for n in range(count):
        staff = n % 2 == 1
        workflow.post_reply(
            ticket,
            body=f"Message number {n}",
            author=agent if staff else ticket.customer,
            by_staff=staff,
            is_internal=staff and n % 10 == 1,
            at=start + timedelta(seconds=n),
        )


def test_desk_shows_the_latest_messages_and_loads_older_ones(client, ticket, agent):
    _long(ticket, agent, 120)
    client.force_login(agent)
    response = client.get(url("detail", ticket.pk))
    page = soup(response)
    shown = page.select("ol.wt-thread > li.wt-msg")
    assert len(shown) == 50
    assert "Message number 119" in shown[-1].get_text()
    older = page.select_one("[data-wt-older]")
    assert "71 earlier messages are not shown." in older.get_text(" ", strip=True)
    link = older.select_one("a[data-wt-older-link]")["href"]
    assert "messages=100" in link and link.endswith(f"#message-{shown[0]['id'][8:]}")

    step = soup(client.get(url("detail", ticket.pk) + older["data-wt-older-url"]))
    items = step.select("ol.wt-thread > li.wt-msg")
    assert len(items) == 50 and items[-1]["id"] != shown[0]["id"]
    numbers = [int(re.search(r"number (\d+)", li.get_text()).group(1)) for li in items]
    assert numbers == sorted(numbers) and numbers[-1] < 70

    everything = soup(client.get(url("detail", ticket.pk) + "?messages=500"))
    assert len(everything.select("ol.wt-thread > li.wt-msg")) == 121
    assert everything.select_one("[data-wt-older]") is None


@pytest.mark.parametrize("value", ["abc", "-1", "0", "99999999999999999999999", "1\x00"])
def test_odd_paging_values_never_fail(client, ticket, agent, value):
    client.force_login(agent)
    assert client.get(url("detail", ticket.pk), {"messages": value}).status_code == 200
    assert client.get(url("detail", ticket.pk), {"before": value}).status_code == 404


def test_long_conversation_query_count_is_constant(
    client, ticket, agent, django_assert_max_num_queries
):
    client.force_login(agent)
    _long(ticket, agent, 60)
    client.get(url("detail", ticket.pk))
    counts = []
    for more in (0, 140):
        _long(ticket, agent, more)
        client.get(url("detail", ticket.pk))
        with django_assert_max_num_queries(20) as captured:
            client.get(url("detail", ticket.pk) + "?before=" + str(ticket.messages.last().pk))
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_customer_page_shows_the_latest_public_messages(
    client, helpdesk, department, customer, agent, site_settings
):
    ticket = factories.open_ticket(department, customer=customer)
    _long(ticket, agent, 120)
    page_url = helpdesk.url + helpdesk.reverse_subpage("ticket_route", args=[ticket.code])
    client.force_login(customer)
    page = soup(client.get(page_url))
    shown = page.select("ol.wt-conversation > li")
    assert len(shown) == 50
    assert not any("number 1\n" in li.get_text() for li in shown)
    older = page.select_one("[data-wt-older]")
    assert older is not None and "messages=100" in older.a["href"]
    step = soup(client.get(page_url + older["data-wt-older-url"]))
    texts = " ".join(li.get_text() for li in step.select("ol.wt-conversation > li"))
    internal = [m.body for m in Message.objects.filter(ticket=ticket, is_internal=True)]
    assert internal and not any(f"{body}\n" in texts for body in internal)
    assert client.get(page_url, {"before": "x"}).status_code == 200


# --------------------------------------------------------------------------------------
# 5. Unread marker (customer)
# --------------------------------------------------------------------------------------


def test_my_tickets_marks_staff_replies_the_customer_has_not_read(
    client, helpdesk, department, customer, agent, site_settings
):
    ticket = factories.open_ticket(department, customer=customer)
    list_url = helpdesk.url + helpdesk.reverse_subpage("ticket_list_route")
    page_url = helpdesk.url + helpdesk.reverse_subpage("ticket_route", args=[ticket.code])
    client.force_login(customer)

    def badge():
        return soup(client.get(list_url)).select_one(".wt-unread")

    assert badge() is None  # their own message
    workflow.post_reply(ticket, body="Try this.", author=agent, by_staff=True)
    assert badge().get_text(strip=True) == "New reply"
    workflow.post_reply(ticket, body="Note", author=agent, by_staff=True, is_internal=True)
    client.get(page_url)
    assert badge() is None
    assert Ticket.objects.get(pk=ticket.pk).customer_seen_at is not None
    workflow.post_reply(ticket, body="Internal only", author=agent, by_staff=True, is_internal=True)
    assert badge() is None  # notes are never news to the customer
    workflow.post_reply(ticket, body="One more idea.", author=agent, by_staff=True)
    assert badge() is not None
    workflow.post_reply(ticket, body="Thanks, read it by mail.", author=customer)
    assert badge() is None


def test_reading_writes_only_when_there_is_something_new(department, customer, agent):
    ticket = factories.open_ticket(department, customer=customer)
    workflow.post_reply(ticket, body="Answer", author=agent, by_staff=True)
    assert workflow.record_customer_view(ticket) is True
    assert workflow.record_customer_view(ticket) is False


# --------------------------------------------------------------------------------------
# 7. PDF of long tickets in the background
# --------------------------------------------------------------------------------------


def test_long_transcript_is_made_in_the_background_and_kept(
    client, ticket, agent, other_agent, settings
):
    pytest.importorskip("weasyprint")
    settings.WAGTAIL_TICKETS_TRANSCRIPT_INLINE_MESSAGES = 3
    factories.add_replies(ticket, 4, staff=agent)
    client.force_login(agent)
    first = client.get(url("pdf", ticket.pk))
    assert first.status_code == 200 and first["Content-Type"].startswith("text/html")
    assert "is being prepared" in first.content.decode()
    # the test client finishes the request, which runs the task (background.py)
    second = client.get(url("pdf", ticket.pk))
    assert second["Content-Type"] == "application/pdf"
    assert second["Content-Disposition"] == f'attachment; filename="{ticket.code}.pdf"'
    assert b"".join(second.streaming_content).startswith(b"%PDF")
    # kept with the attachments, which nothing serves, never under MEDIA_ROOT
    from django.core.files.storage import default_storage

    from wagtail_tickets.storage import attachment_storage

    kept = attachment_storage().listdir("wagtail_tickets/transcripts")[1]
    assert len(kept) == 1 and kept[0].startswith(f"{ticket.pk}-")
    assert not default_storage.exists(f"wagtail_tickets/transcripts/{kept[0]}")
    # the staff copy is another file; another department's agent gets a 404
    assert client.get(url("pdf", ticket.pk) + "?notes=1")["Content-Type"].startswith("text/html")
    client.force_login(other_agent)
    assert client.get(url("pdf", ticket.pk)).status_code == 404
    # a new message makes a new transcript
    client.force_login(agent)
    workflow.post_reply(ticket, body="Later", author=agent, by_staff=True)
    assert client.get(url("pdf", ticket.pk))["Content-Type"].startswith("text/html")


# --------------------------------------------------------------------------------------
# 8. Staff mail links to the desk
# --------------------------------------------------------------------------------------


def test_staff_mail_links_to_the_desk_and_customer_mail_does_not(
    client, department, agent, customer, commit, settings
):
    settings.WAGTAILADMIN_BASE_URL = "https://desk.example.com/"
    mail.outbox.clear()
    with commit():
        ticket = factories.open_ticket(department, customer=customer)
    link = f"https://desk.example.com{url('detail', ticket.pk)}"
    staff = [m for m in mail.outbox if agent.email in m.to]
    customer_mail = [m for m in mail.outbox if customer.email in m.to]
    assert staff and link in staff[0].body
    assert customer_mail and "/admin/" not in customer_mail[0].body
    mail.outbox.clear()
    with commit():
        workflow.assign(ticket, agent, user=None)
    assert link in mail.outbox[0].body


def test_desk_link_never_follows_the_request_host(client, ticket, agent, department, commit):
    colleague = factories.make_agent("colleague", departments=[department])
    client.force_login(factories.grant(agent, "assign_ticket"))
    mail.outbox.clear()
    with commit():
        response = client.post(
            url("update", ticket.pk),
            {"fields-assignee": colleague.pk},
            HTTP_HOST="evil.example",
        )
    assert response.status_code == 302
    body = mail.outbox[0].body
    assert "evil.example" not in body
    assert f"http://testserver{url('detail', ticket.pk)}" in body


# --------------------------------------------------------------------------------------
# 10. Frequent requests
# --------------------------------------------------------------------------------------


def test_frequent_requests_shows_subjects_and_the_period(client, department, agent):
    for subject in ("Images do not upload", "Images do not upload!"):
        ticket = factories.open_ticket(department, subject=subject)
        workflow.change_status(ticket, Status.first_of_kind(Status.Kind.RESOLVED), user=None)
    client.force_login(agent)
    response = client.get("/admin/helpdesk/reports/frequent-requests/")
    page = soup(response)
    cell = page.select_one("td[data-topic-key]")
    assert cell.get_text(strip=True) in ("Images do not upload", "Images do not upload!")
    assert cell["data-topic-key"] not in cell.get_text()
    period = page.select_one(".wt-report-period").get_text(" ", strip=True)
    assert "in the last 30 days" in period
    assert timezone.localdate().strftime("%Y") in period


# --------------------------------------------------------------------------------------
# 22. Durations in Russian
# --------------------------------------------------------------------------------------

NOW = timezone.now()


@pytest.mark.parametrize(
    "delta, expected",
    [
        (timedelta(weeks=1), "просрочена на 1 неделю"),
        (timedelta(weeks=2), "просрочена на 2 недели"),
        (timedelta(days=35), "просрочена на 1 месяц"),
        (timedelta(minutes=1), "просрочена на 1 минуту"),
        (timedelta(minutes=21), "просрочена на 21 минуту"),
        (timedelta(minutes=5), "просрочена на 5 минут"),
        (timedelta(days=400), "просрочена на 1 год"),
        (timedelta(days=365 * 5), "просрочена на 5 лет"),
        (timedelta(hours=-3), "срок через 3 часа"),
        (timedelta(weeks=-1), "срок через 1 неделю"),
    ],
)
def test_russian_deadlines(delta, expected):
    with translation.override("ru"):
        assert durations.deadline(NOW - delta, NOW) == expected


@pytest.mark.parametrize(
    "delta, expected",
    [
        (timedelta(weeks=1), "1 неделю назад"),
        (timedelta(minutes=1), "1 минуту назад"),
        (timedelta(minutes=-1), "через 1 минуту"),
        (timedelta(weeks=-3), "через 3 недели"),
        (timedelta(seconds=10), "только что"),
    ],
)
def test_russian_relative_times(delta, expected):
    with translation.override("ru"):
        assert durations.relative(NOW - delta, NOW) == expected


def test_dashboard_says_overdue_in_the_accusative(client, department, agent):
    ticket = factories.open_ticket(department)
    workflow.assign(ticket, agent, user=None)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() - timedelta(days=8))
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(agent)
    profile.preferred_language = "ru"
    profile.save()
    client.force_login(agent)
    html = client.get("/admin/").content.decode()
    assert "просрочена на 1 неделю" in html
    assert "1 неделя" not in html
