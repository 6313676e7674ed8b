"""The agent's inbox: access per role, columns, filters, sorts, search, saved searches, stars."""

import re
from datetime import timedelta

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import Priority, SavedSearch, Star, Status, Ticket

pytestmark = pytest.mark.django_db

INDEX = "/admin/helpdesk_inbox/"


def codes(response):
    """The ticket codes listed, in order."""
    return re.findall(r'id="ticket_\d+_title">([A-Z]+-\d+)<', response.content.decode())


@pytest.fixture
def sales(helpdesk):
    return factories.make_department(helpdesk, title="Sales", prefix="SAL")


@pytest.fixture
def sales_agent(sales):
    return factories.make_agent("salesagent", departments=[sales], first_name="Sam")


@pytest.fixture
def desk(department, sales, agent, sales_agent, customer):
    """Two tech tickets, one sales ticket."""
    tech1 = factories.open_ticket(department, customer=customer, subject="Printer jammed")
    tech2 = factories.open_ticket(
        department, name="Bob Builder", email="bob@builders.test", subject="Screen flickers"
    )
    sale = factories.open_ticket(sales, name="Carol", email="carol@shop.test", subject="Invoice")
    return {"tech1": tech1, "tech2": tech2, "sale": sale}


def login(client, user):
    client.force_login(user)
    return client


# --- access ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, desk):
    response = client.get(INDEX)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_logged_in_non_staff_user_is_refused(client, desk, customer):
    response = login(client, customer).get(INDEX)
    assert response.status_code == 302
    assert desk["tech1"].code not in response.content.decode()


def test_admin_user_without_desk_profile_gets_403(client, desk):
    editor = factories.make_admin_user("editor")
    assert login(client, editor).get(INDEX).status_code == 403
    assert client.get(reverse("helpdesk_inbox:index_results")).status_code == 403


def test_agent_sees_only_their_departments(client, desk, agent):
    response = login(client, agent).get(INDEX)
    assert response.status_code == 200
    assert sorted(codes(response)) == sorted([desk["tech1"].code, desk["tech2"].code])
    assert desk["sale"].code not in response.content.decode()


def test_agent_of_another_department(client, desk, sales_agent):
    response = login(client, sales_agent).get(INDEX)
    assert codes(response) == [desk["sale"].code]


def test_view_all_departments_holder_sees_everything(client, desk):
    manager = factories.grant(factories.make_admin_user("manager"), "view_all_departments")
    response = login(client, manager).get(INDEX)
    assert response.status_code == 200
    assert len(codes(response)) == 3


def test_superuser_sees_everything(client, desk, superuser):
    response = login(client, superuser).get(INDEX)
    assert len(codes(response)) == 3


def test_inbox_in_helpdesk_menu(client, desk, agent):
    response = login(client, agent).get("/admin/")
    assert INDEX in response.content.decode()


# --- columns ----------------------------------------------------------------------------


def test_columns(client, desk, agent):
    ticket = desk["tech1"]
    workflow.assign(ticket, agent)
    response = login(client, agent).get(INDEX)
    html = response.content.decode()
    for text in (
        "Printer jammed",
        "alice@example.com",
        "Technical support",
        "Agent" if agent.first_name else "agent",
    ):
        assert text in html
    status = Status.default()
    assert f"background-color: {status.colour}" in html
    assert f"background-color: {ticket.priority.colour}" in html
    try:
        detail = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    except NoReverseMatch:
        detail = None
    if detail:
        assert f'href="{detail}"' in html


def test_cells_escape_what_customers_agents_and_managers_typed(client, department, agent):
    department.title = "Tech <i>support</i>"
    department.save_revision().publish()
    agent.first_name = '<u onmouseover="x()">Al</u>'
    agent.save()
    status = Status.default()
    status.name = 'New"><img src=x>'
    status.save()
    ticket = factories.open_ticket(
        department,
        name="<b>Mallory</b>",
        email="mallory@example.com",
        subject="<script>alert(1)</script>",
    )
    workflow.assign(ticket, agent)
    html = login(client, agent).get(INDEX).content.decode()
    for raw in ("<script>alert(1)", "<b>Mallory", "<i>support", "<u onmouseover", "<img src=x>"):
        assert raw not in html
    for escaped in (
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&lt;b&gt;Mallory&lt;/b&gt;",
        "Tech &lt;i&gt;support&lt;/i&gt;",
        "&lt;u onmouseover=&quot;x()&quot;&gt;Al&lt;/u&gt;",
        "New&quot;&gt;&lt;img src=x&gt;",
    ):
        assert escaped in html


def test_overdue_is_highlighted(client, desk, agent):
    Ticket.objects.filter(pk=desk["tech1"].pk).update(due_at=timezone.now() - timedelta(hours=1))
    html = login(client, agent).get(INDEX).content.decode()
    assert html.count('class="wt-overdue"') == 1


def test_pagination(client, department, agent):
    from wagtail_tickets.admin.inbox import PAGE_SIZE

    for n in range(PAGE_SIZE + 3):
        factories.open_ticket(department, subject=f"Problem {n}")
    response = login(client, agent).get(INDEX)
    first_page = codes(response)
    assert len(first_page) == PAGE_SIZE
    second_page = codes(client.get(INDEX + "?p=2"))
    assert len(second_page) == 3
    assert not set(first_page) & set(second_page)


# --- sorting ----------------------------------------------------------------------------


SORT_KEYS = [
    "code",
    "subject",
    "customer",
    "department",
    "status",
    "priority",
    "assignee",
    "created_at",
    "last_message_at",
    "due_at",
]


@pytest.mark.parametrize("key", SORT_KEYS)
def test_every_column_sorts_both_ways(client, desk, superuser, key):
    login(client, superuser)
    up = codes(client.get(f"{INDEX}?ordering={key}"))
    down = codes(client.get(f"{INDEX}?ordering=-{key}"))
    assert sorted(up) == sorted(down) and len(up) == 3


def test_sort_orders(client, desk, superuser):
    login(client, superuser)
    by_subject = codes(client.get(f"{INDEX}?ordering=subject"))
    assert by_subject == [desk["sale"].code, desk["tech1"].code, desk["tech2"].code]
    assert codes(client.get(f"{INDEX}?ordering=-subject")) == by_subject[::-1]
    # default: last reply, newest first
    workflow.post_reply(desk["tech1"], body="Any news?", author_name="Alice")
    assert codes(client.get(INDEX + "?all=1"))[0] == desk["tech1"].code


def test_priority_sorts_by_manager_order(client, desk, superuser):
    low, high = (
        Priority.objects.order_by("sort_order")[0],
        Priority.objects.order_by("sort_order").last(),
    )
    workflow.update_fields(desk["tech2"], priority=high)
    workflow.update_fields(desk["tech1"], priority=low)
    login(client, superuser)
    assert codes(client.get(f"{INDEX}?ordering=-priority"))[0] == desk["tech2"].code
    assert codes(client.get(f"{INDEX}?ordering=priority"))[0] != desk["tech2"].code


# --- filters ----------------------------------------------------------------------------


def test_filter_by_status_and_state(client, desk, agent):
    closed = Status.first_of_kind(Status.Kind.CLOSED)
    workflow.close(desk["tech2"], user=agent)
    login(client, agent)
    assert codes(client.get(f"{INDEX}?status={closed.pk}")) == [desk["tech2"].code]
    assert codes(client.get(f"{INDEX}?state=closed")) == [desk["tech2"].code]
    assert codes(client.get(f"{INDEX}?state=open")) == [desk["tech1"].code]


def test_filter_by_priority(client, desk, agent):
    high = Priority.objects.order_by("sort_order").last()
    workflow.update_fields(desk["tech1"], priority=high)
    response = login(client, agent).get(f"{INDEX}?priority={high.pk}")
    assert codes(response) == [desk["tech1"].code]


def test_department_filter_offers_only_visible_departments(client, desk, agent, department, sales):
    login(client, agent)
    response = client.get(INDEX)
    choices = response.context["filters"].form.fields["department"].choices
    assert [value for value, _label in choices if value] == [str(department.pk)]
    # a forged department id is an invalid choice: nothing leaks
    response = client.get(f"{INDEX}?department={sales.pk}")
    assert desk["sale"].code not in response.content.decode()
    assert codes(client.get(f"{INDEX}?department={department.pk}")) != []


def test_filter_by_assignee(client, desk, agent, department):
    colleague = factories.make_agent("colleague", departments=[department], first_name="Cole")
    workflow.assign(desk["tech1"], agent)
    workflow.assign(desk["tech2"], colleague)
    login(client, agent)
    assert codes(client.get(f"{INDEX}?assignee=me")) == [desk["tech1"].code]
    assert codes(client.get(f"{INDEX}?assignee={colleague.pk}")) == [desk["tech2"].code]
    workflow.assign(desk["tech2"], None)
    assert codes(client.get(f"{INDEX}?assignee=unassigned")) == [desk["tech2"].code]


def test_filter_by_customer(client, desk, agent, customer):
    login(client, agent)
    assert codes(client.get(f"{INDEX}?customer=builders")) == [desk["tech2"].code]
    assert codes(client.get(f"{INDEX}?customer=alice")) == [desk["tech1"].code]
    assert codes(client.get(f"{INDEX}?customer={customer.username}")) == [desk["tech1"].code]


def test_filter_by_dates(client, desk, agent):
    old = timezone.now() - timedelta(days=30)
    Ticket.objects.filter(pk=desk["tech1"].pk).update(created_at=old, last_message_at=old)
    login(client, agent)
    day = (old + timedelta(days=1)).date().isoformat()
    assert codes(client.get(f"{INDEX}?created_to={day}")) == [desk["tech1"].code]
    assert codes(client.get(f"{INDEX}?created_from={day}")) == [desk["tech2"].code]
    assert codes(client.get(f"{INDEX}?last_reply_to={day}")) == [desk["tech1"].code]
    assert codes(client.get(f"{INDEX}?last_reply_from={day}")) == [desk["tech2"].code]


def test_filter_overdue(client, desk, agent):
    past = timezone.now() - timedelta(hours=2)
    Ticket.objects.filter(pk__in=[desk["tech1"].pk, desk["tech2"].pk]).update(due_at=past)
    workflow.close(desk["tech2"], user=agent)  # closed tickets are never overdue
    Ticket.objects.filter(pk=desk["tech2"].pk).update(due_at=past)
    assert codes(login(client, agent).get(f"{INDEX}?overdue=1")) == [desk["tech1"].code]


def test_filter_starred_is_per_agent(client, desk, agent, department):
    colleague = factories.make_agent("colleague", departments=[department])
    Star.objects.create(user=colleague, ticket=desk["tech2"])
    Star.objects.create(user=agent, ticket=desk["tech1"])
    assert codes(login(client, agent).get(f"{INDEX}?starred=1")) == [desk["tech1"].code]


def test_quick_views_are_links(client, desk, agent):
    html = login(client, agent).get(INDEX).content.decode()
    for query in (
        "assignee=me&amp;state=open",
        "assignee=unassigned&amp;state=open",
        "overdue=1",
        "starred=1",
    ):
        assert f'href="{INDEX}?{query}"' in html


def test_dashboard_links_work(client, desk, agent):
    # The dashboard panel links use exactly these.
    login(client, agent)
    for query in ("assignee=me", "assignee=unassigned", "overdue=1"):
        assert client.get(f"{INDEX}?{query}").status_code == 200


def test_results_view_for_ajax_filtering(client, desk, agent):
    response = login(client, agent).get(
        reverse("helpdesk_inbox:index_results") + "?state=open&_w_filter_fragment=1"
    )
    assert response.status_code == 200
    assert desk["tech1"].code in response.content.decode()


# --- search -----------------------------------------------------------------------------


@pytest.fixture
def indexed(desk, agent):
    workflow.post_reply(
        desk["tech1"], body="The toner cartridge leaks everywhere", author_name="Alice"
    )
    factories.index_tickets(*desk.values())
    return desk


@pytest.mark.parametrize(
    "query,key",
    [
        ("jammed", "tech1"),  # subject
        ("cartridge", "tech1"),  # a message body
        ("builders", "tech2"),  # customer e-mail
        ("Bob", "tech2"),  # customer name
    ],
)
def test_keyword_search(client, indexed, agent, query, key):
    response = login(client, agent).get(f"{INDEX}?q={query}")
    assert codes(response) == [indexed[key].code]


def test_search_never_shows_other_departments(client, indexed, agent):
    assert codes(login(client, agent).get(f"{INDEX}?q=Invoice")) == []


def test_search_with_filters(client, indexed, agent):
    workflow.close(indexed["tech1"], user=agent)
    login(client, agent)
    assert codes(client.get(f"{INDEX}?q=jammed&state=open")) == []
    assert codes(client.get(f"{INDEX}?q=jammed&state=closed")) == [indexed["tech1"].code]


@pytest.fixture
def many_matches(department, sales, agent):
    """PAGE_SIZE + 3 tickets of the agent's department mention "router", created a day
    apart (newest last), and two tickets of another department do too."""
    from wagtail_tickets.admin.inbox import PAGE_SIZE

    now = timezone.now()
    mine = []
    for n in range(PAGE_SIZE + 3):
        ticket = factories.open_ticket(department, subject=f"Router {n} reboots")
        Ticket.objects.filter(pk=ticket.pk).update(last_message_at=now - timedelta(days=40 - n))
        mine.append(ticket)
    theirs = [factories.open_ticket(sales, subject=f"Router order {n}") for n in range(2)]
    factories.index_tickets(*mine, *theirs)
    return [t.code for t in reversed(mine)], PAGE_SIZE


def matches_heading(response):
    return re.search(r"There (?:is|are) ([\d,]+) match", response.content.decode())


def test_search_pages_count_and_order_the_visible_matches(client, many_matches, agent):
    newest_first, page_size = many_matches
    login(client, agent)
    first = client.get(f"{INDEX}?q=router")
    assert codes(first) == newest_first[:page_size]
    assert matches_heading(first).group(1) == str(len(newest_first))
    second = client.get(f"{INDEX}?q=router&p=2")
    assert codes(second) == newest_first[page_size:]
    assert matches_heading(second).group(1) == str(len(newest_first))
    oldest_first = client.get(f"{INDEX}?q=router&ordering=last_message_at&p=2")
    assert codes(oldest_first) == list(reversed(newest_first))[page_size:]


def test_search_page_beyond_the_last_shows_the_last(client, many_matches, agent):
    newest_first, page_size = many_matches
    response = login(client, agent).get(f"{INDEX}?q=router&p=99")
    assert response.status_code == 200
    assert codes(response) == newest_first[page_size:]
    # As in every Wagtail listing: a page that is not a number is the first, one below 1
    # the last.
    assert codes(client.get(f"{INDEX}?q=router&p=x")) == newest_first[:page_size]
    assert codes(client.get(f"{INDEX}?q=router&p=0")) == newest_first[page_size:]


def test_search_without_matches(client, many_matches, agent):
    response = login(client, agent).get(f"{INDEX}?q=xylophone")
    assert response.status_code == 200
    assert codes(response) == []
    assert matches_heading(response) is None


def test_search_results_show_my_stars(client, many_matches, agent):
    newest_first, _page_size = many_matches
    Star.objects.create(user=agent, ticket=Ticket.objects.get(code=newest_first[1]))
    html = login(client, agent).get(f"{INDEX}?q=router").content.decode()
    assert html.count('class="wt-star" aria-pressed="true"') == 1


def test_exact_code_comes_first(client, department, agent):
    tickets = [factories.open_ticket(department, subject=f"Problem {n}") for n in range(3)]
    # another ticket mentions the code in its body
    target = tickets[1]
    workflow.post_reply(tickets[2], body=f"Same as {target.code}", author_name="Alice")
    factories.index_tickets(*tickets)
    response = login(client, agent).get(f"{INDEX}?q={target.code.lower()}")
    found = codes(response)
    assert found[0] == target.code
    # Found both by its code and through the index, which holds the code: still one row.
    assert found.count(target.code) == 1
    assert matches_heading(response).group(1) == str(len(found))


def test_exact_code_found_before_indexing(client, department, agent):
    ticket = factories.open_ticket(department, subject="Not indexed yet")
    assert codes(login(client, agent).get(f"{INDEX}?q={ticket.code}")) == [ticket.code]


def test_index_built_by_workflow_signals(
    client, department, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.open_ticket(
            department, subject="Kettle", body="The kettle whistles oddly"
        )
    assert codes(login(client, agent).get(f"{INDEX}?q=whistles")) == [ticket.code]


# --- saved searches ---------------------------------------------------------------------


def save(client, name, query_string, **extra):
    data = {"name": name, "query_string": query_string, **extra}
    return client.post(reverse("helpdesk_inbox:save_search"), data)


def test_save_search_keeps_filters_and_sort_not_page(client, desk, agent):
    login(client, agent)
    response = save(client, "Mine", "assignee=me&ordering=-created_at&p=3")
    saved = SavedSearch.objects.get(owner=agent)
    assert saved.query_string == "assignee=me&ordering=-created_at"
    assert not saved.shared and not saved.is_default
    assert response.status_code == 302
    assert response["Location"] == f"{INDEX}?assignee=me&ordering=-created_at"


def test_save_search_needs_a_name(client, desk, agent):
    login(client, agent)
    save(client, "", "state=open")
    assert not SavedSearch.objects.exists()


def test_default_search_is_applied(client, desk, agent):
    login(client, agent)
    save(client, "Open", "state=open", is_default="on")
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response["Location"] == f"{INDEX}?state=open"
    # any explicit parameter, or ?all=1, shows what was asked for
    assert client.get(f"{INDEX}?all=1").status_code == 200
    assert client.get(f"{INDEX}?ordering=code").status_code == 200


def test_one_default_per_agent(client, desk, agent):
    login(client, agent)
    save(client, "Open", "state=open", is_default="on")
    save(client, "Mine", "assignee=me", is_default="on")
    assert SavedSearch.objects.get(is_default=True).name == "Mine"
    assert client.get(INDEX)["Location"] == f"{INDEX}?assignee=me"


def test_shared_searches_visible_private_hidden(client, desk, agent, department):
    from django.test import Client

    colleague = factories.make_agent("colleague", departments=[department])
    other = login(Client(), colleague)
    save(other, "Team queue", "state=open", shared="on")
    save(other, "My secret", "starred=1")
    html = login(client, agent).get(f"{INDEX}?all=1").content.decode()
    assert "Team queue" in html
    assert "My secret" not in html
    # someone else's default is not mine
    SavedSearch.objects.filter(name="Team queue").update(is_default=True)
    assert client.get(INDEX).status_code == 200


def test_saved_search_links(client, desk, agent):
    login(client, agent)
    save(client, "Open", "state=open")
    html = client.get(f"{INDEX}?all=1").content.decode()
    assert f'href="{INDEX}?state=open"' in html


def test_save_search_refused_outside_the_desk(client, desk, customer):
    editor = factories.make_admin_user("editor")
    login(client, editor)
    assert save(client, "x", "state=open").status_code == 403
    assert not SavedSearch.objects.exists()


# --- stars ------------------------------------------------------------------------------


def test_star_toggles(client, desk, agent):
    login(client, agent)
    url = reverse("helpdesk_inbox:star", args=[desk["tech1"].pk])
    response = client.post(url, {"next": f"{INDEX}?state=open"})
    assert response.status_code == 302 and response["Location"] == f"{INDEX}?state=open"
    assert Star.objects.filter(user=agent, ticket=desk["tech1"]).exists()
    html = client.get(INDEX).content.decode()
    assert html.count('class="wt-star" aria-pressed="true"') == 1
    client.post(url)
    assert not Star.objects.exists()


def test_star_ignores_foreign_next(client, desk, agent):
    login(client, agent)
    url = reverse("helpdesk_inbox:star", args=[desk["tech1"].pk])
    response = client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == INDEX


def test_cannot_star_another_departments_ticket(client, desk, agent):
    login(client, agent)
    response = client.post(reverse("helpdesk_inbox:star", args=[desk["sale"].pk]))
    assert response.status_code in (302, 404)
    assert not Star.objects.exists()


def test_star_needs_post(client, desk, agent):
    login(client, agent)
    assert client.get(reverse("helpdesk_inbox:star", args=[desk["tech1"].pk])).status_code == 405


def test_star_refused_outside_the_desk(client, desk):
    login(client, factories.make_admin_user("editor"))
    assert client.post(reverse("helpdesk_inbox:star", args=[desk["tech1"].pk])).status_code == 403
    assert not Star.objects.exists()


# --- a view with more tickets than are counted -------------------------------------------


@pytest.fixture
def small_cap(monkeypatch):
    """The count stops at 5 and pages hold 2, so that a handful of tickets overflow."""
    from wagtail_tickets.admin.inbox import InboxIndexView
    from wagtail_tickets.admin.inbox_pages import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 5)
    monkeypatch.setattr(InboxIndexView, "paginate_by", 2)


def test_a_view_over_the_cap_says_so_and_pages_through_the_first_tickets(
    client, small_cap, department, agent, django_assert_max_num_queries
):
    now = timezone.now()
    tickets = []
    for n in range(8):
        ticket = factories.open_ticket(department, subject=f"Outage {n}")
        Ticket.objects.filter(pk=ticket.pk).update(last_message_at=now - timedelta(hours=10 - n))
        tickets.append(ticket.code)
    newest_first = list(reversed(tickets))
    login(client, agent)
    first = client.get(f"{INDEX}?state=open")
    page = first.content.decode()
    assert codes(first) == newest_first[:2]
    assert re.search(r"There are 4\+ matches", page)
    assert "4+ tickets" in page
    assert "Only the first 5 tickets of this view can be paged through" in page
    # The first five, in the view's order, two a page; sorting the other way reaches
    # the oldest.
    assert codes(client.get(f"{INDEX}?state=open&p=3")) == newest_first[4:5]
    assert codes(client.get(f"{INDEX}?state=open&ordering=last_message_at")) == tickets[:2]
    # Every count of the page (the view's and the menu's) reads a bounded number of rows.
    with django_assert_max_num_queries(30) as captured:
        client.get(f"{INDEX}?state=open")
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert any("LIMIT 5)" in sql for sql in counts), counts
    assert all(re.search(r"LIMIT \d+\) wt_capped", sql) for sql in counts), counts


def test_a_view_under_the_cap_gives_the_exact_count(client, small_cap, department, agent):
    for n in range(3):
        factories.open_ticket(department, subject=f"Outage {n}")
    page = login(client, agent).get(f"{INDEX}?state=open").content.decode()
    assert re.search(r"There are 3 matches", page)
    assert "3 tickets" in page
    assert "can be paged through" not in page
