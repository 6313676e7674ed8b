"""The "Frequent requests" report: groups, filters, visibility per role, coverage by
articles, the create-article action, exports and its query ceiling."""

import csv
import io
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.admin.menu import admin_menu
from wagtail.models import GroupPagePermission

from tests import factories
from wagtail_tickets import html_dates, workflow
from wagtail_tickets.admin import reports
from wagtail_tickets.admin.menu import HelpdeskViewSetGroup
from wagtail_tickets.models import ArticlePage, KnowledgeBaseIndexPage, Status

pytestmark = pytest.mark.django_db

URL = "/admin/helpdesk/reports/frequent-requests/"
RESULTS_URL = "/admin/helpdesk/reports/frequent-requests/results/"
LOGIN_KEY = "accoun log"
INVOICE_KEY = "blank invoic pdf"
PRINTER_KEY = "fire printe"


def resolve(ticket, *, days_ago=0, closed=False):
    when = timezone.now() - timedelta(days=days_ago)
    if closed:
        workflow.close(ticket, at=when)
    else:
        workflow.change_status(ticket, Status.first_of_kind(Status.Kind.RESOLVED), at=when)
    return ticket


def resolved_ticket(department, subject, *, days_ago=1, closed=False, replies=0, agent=None):
    opened = timezone.now() - timedelta(days=days_ago + 1)
    ticket = factories.open_ticket(department, subject=subject, at=opened)
    if replies:
        factories.add_replies(ticket, replies, staff=agent)
    return resolve(ticket, days_ago=days_ago, closed=closed)


@pytest.fixture
def sales(helpdesk):
    return factories.make_department(helpdesk, title="Sales", prefix="SAL")


@pytest.fixture
def sales_agent(sales):
    return factories.make_agent("salesagent", departments=[sales])


@pytest.fixture
def knowledge_base(helpdesk):
    page = KnowledgeBaseIndexPage(title="Help articles", slug="help-articles")
    helpdesk.add_child(instance=page)
    page.save_revision().publish()
    return KnowledgeBaseIndexPage.objects.get(pk=page.pk)


def add_article(knowledge_base, title, *, live=True, **fields):
    article = ArticlePage(title=title, slug=f"article-{ArticlePage.objects.count() + 1}", **fields)
    knowledge_base.add_child(instance=article)
    if live:
        article.save_revision().publish()
    else:
        article.live = False
        article.save()
    return ArticlePage.objects.get(pk=article.pk)


@pytest.fixture
def data(department, sales, agent):
    """Technical support: 3 log-in variants (one closed; the second has the most
    messages; a fourth variant merged into the first does not count) + 2 blank invoices
    + 1 printer fire, a log-in ticket resolved 60 days ago, open log-in and scanner
    tickets, a resolved ticket without topic words. Sales: 2 blank invoices."""
    login_1 = factories.open_ticket(department, subject="Can't log in to my account")
    merged = factories.open_ticket(department, subject="I can't log in to my account")
    workflow.merge(login_1, [merged], user=factories.grant(agent, "change_ticket_fields"))
    resolve(login_1, days_ago=3)
    login_2 = resolved_ticket(
        department, "Can't log into my account", days_ago=2, replies=4, agent=agent
    )
    login_3 = resolved_ticket(department, "Can not log in to account", days_ago=1, closed=True)
    old_login = resolved_ticket(department, "Can't log in to my account!", days_ago=60)
    invoice_1 = resolved_ticket(department, "Invoice PDF is blank", days_ago=5)
    invoice_2 = resolved_ticket(department, "The invoice PDF is blank", days_ago=4)
    printer = resolved_ticket(department, "Printer is on fire", days_ago=1)
    resolved_ticket(department, "Hi!", days_ago=1)
    for _n in range(2):
        factories.open_ticket(department, subject="Can't log in to my account")
        factories.open_ticket(department, subject="Scanner is jammed")
    sales_invoice_1 = resolved_ticket(sales, "Invoice PDF blank", days_ago=2)
    sales_invoice_2 = resolved_ticket(sales, "invoice pdf is blank!!", days_ago=1)
    return {
        "login": [login_1, login_2, login_3],
        "merged": merged,
        "old_login": old_login,
        "invoice": [invoice_1, invoice_2],
        "printer": printer,
        "sales_invoice": [sales_invoice_1, sales_invoice_2],
    }


def get(client, user, query="", url=URL):
    client.force_login(user)
    response = client.get(url + query)
    assert response.status_code == 200
    return response


def rows(response):
    """The report's rows as the user sees them."""
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    table = soup.find("table", class_="listing")
    if table is None:
        return []
    result = []
    for tr in table.find("tbody").find_all("tr"):
        cells = tr.find_all("td")
        topic, department, count, last, covered, ticket, action = cells
        covered_link = covered.find("a")
        ticket_link = ticket.find("a")
        action_link = action.find("a")
        result.append(
            {
                "topic": topic.find(class_="title-wrapper").get_text(strip=True),
                "key": topic["data-topic-key"],
                "department": department.get_text(strip=True),
                "count": int(count.get_text(strip=True)),
                "resolved": last.find("time")["datetime"] if last.find("time") else None,
                "covered": covered.get_text(strip=True),
                "covered_href": covered_link["href"] if covered_link else None,
                "ticket": ticket.get_text(strip=True),
                "ticket_href": ticket_link["href"] if ticket_link else None,
                "action_href": action_link["href"] if action_link else None,
            }
        )
    return result


def counts(response):
    return {(row["department"], row["key"]): row["count"] for row in rows(response)}


@pytest.fixture
def create_article_href():
    """pk -> the href the action must have: the ticket -> article conversion."""
    return lambda pk: reverse("helpdesk_tickets:create_article", args=[pk])


# --- groups -------------------------------------------------------------------------------


def test_groups_count_resolved_and_closed_tickets_by_department_and_topic(client, data, superuser):
    response = get(client, superuser)
    assert counts(response) == {
        ("Technical support", LOGIN_KEY): 3,
        ("Technical support", INVOICE_KEY): 2,
        ("Sales", INVOICE_KEY): 2,
    }
    # Most frequent first.
    assert [row["count"] for row in rows(response)] == [3, 2, 2]
    assert "3 topics" in response.content.decode()


def test_group_shows_the_best_ticket_and_its_subject(client, data, superuser):
    best = data["login"][1]
    row = next(row for row in rows(get(client, superuser)) if row["key"] == LOGIN_KEY)
    assert row["topic"] == best.subject
    assert row["ticket"] == best.code
    assert row["ticket_href"] == reverse("helpdesk_tickets:detail", args=[best.pk])
    latest = data["login"][2]
    latest.refresh_from_db()
    # HTML's form of a date and time: whole seconds (issue 16, point 21).
    assert row["resolved"] == html_dates.html_datetime(latest.resolved_at)


def test_best_ticket_ties_go_to_the_latest_resolved(client, data, superuser):
    newer = data["invoice"][1]
    row = next(
        row
        for row in rows(get(client, superuser))
        if row["key"] == INVOICE_KEY and row["department"] == "Technical support"
    )
    assert row["ticket"] == newer.code


def test_period_filter(client, data, superuser):
    assert counts(get(client, superuser, "?period=90"))[("Technical support", LOGIN_KEY)] == 4
    assert counts(get(client, superuser, "?period=30"))[("Technical support", LOGIN_KEY)] == 3
    week = counts(get(client, superuser, "?period=7"))
    assert week[("Technical support", LOGIN_KEY)] == 3
    assert ("Technical support", INVOICE_KEY) in week


def test_period_of_seven_days_leaves_out_older_tickets(client, department, superuser):
    resolved_ticket(department, "Invoice PDF is blank", days_ago=10)
    resolved_ticket(department, "Invoice PDF is blank", days_ago=2)
    resolved_ticket(department, "Invoice PDF is blank", days_ago=1)
    assert counts(get(client, superuser, "?period=7")) == {("Technical support", INVOICE_KEY): 2}
    assert counts(get(client, superuser)) == {("Technical support", INVOICE_KEY): 3}


def test_minimum_count_filter(client, data, superuser):
    assert counts(get(client, superuser, "?minimum=3")) == {("Technical support", LOGIN_KEY): 3}
    singles = counts(get(client, superuser, "?minimum=1"))
    assert singles[("Technical support", PRINTER_KEY)] == 1
    # Open tickets never count, not even as a group of their own.
    assert not any("scann" in key for _dept, key in singles)
    assert ("Technical support", "") not in singles


def test_department_filter(client, data, superuser, sales):
    assert counts(get(client, superuser, f"?department={sales.pk}")) == {("Sales", INVOICE_KEY): 2}


def test_sorting_by_last_resolution(client, data, superuser):
    oldest_first = rows(get(client, superuser, "?ordering=last_resolved"))
    newest_first = rows(get(client, superuser, "?ordering=-last_resolved"))
    assert len(oldest_first) == 3
    assert (oldest_first[0]["department"], oldest_first[0]["key"]) == (
        "Technical support",
        INVOICE_KEY,
    )
    assert [row["resolved"] for row in oldest_first] == sorted(
        row["resolved"] for row in oldest_first
    )
    assert newest_first == oldest_first[::-1]


def test_invalid_filter_values_fall_back_to_the_defaults(client, data, superuser):
    response = get(client, superuser, "?period=5&minimum=none&department=x")
    assert counts(response) == counts(get(client, superuser))


def test_reopened_ticket_no_longer_counts(client, data, superuser):
    workflow.reopen(data["login"][0])
    assert counts(get(client, superuser))[("Technical support", LOGIN_KEY)] == 2


def test_only_statuses_of_the_resolved_or_closed_kind_count(client, data, superuser):
    # A manager turns the "resolved" status into a waiting one: its tickets are active
    # again although they keep their resolution date.
    for status in Status.objects.filter(kind=Status.Kind.RESOLVED):
        status.kind = Status.Kind.WAITING
        status.save()  # as the status editor does; saving clears the cached statuses
    assert counts(get(client, superuser, "?minimum=1")) == {("Technical support", LOGIN_KEY): 1}


def test_subjects_are_escaped(client, department, superuser):
    for _n in range(2):
        resolved_ticket(department, "<script>alert(1)</script> invoice pdf blank")
    response = get(client, superuser)
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert rows(response)[0]["topic"] == "<script>alert(1)</script> invoice pdf blank"


def test_empty_report_says_so(client, superuser, department):
    response = get(client, superuser)
    assert rows(response) == []
    assert "There are no frequent requests to display." in response.content.decode()


def test_tickets_of_a_deleted_department_form_their_own_groups(client, data, superuser, sales):
    sales.delete()
    row = next(row for row in rows(get(client, superuser)) if row["department"] == "—")
    assert (row["key"], row["count"]) == (INVOICE_KEY, 2)
    assert row["ticket"] == data["sales_invoice"][1].code


# --- who sees what ------------------------------------------------------------------------


def test_agent_sees_only_their_departments_groups(client, data, agent, sales):
    response = get(client, agent)
    assert counts(response) == {
        ("Technical support", LOGIN_KEY): 3,
        ("Technical support", INVOICE_KEY): 2,
    }
    # The other department is neither a choice nor reachable by its id.
    assert f'value="{sales.pk}"' not in response.content.decode()
    assert counts(get(client, agent, f"?department={sales.pk}")) == counts(response)


def test_agent_of_another_department_sees_only_theirs(client, data, sales_agent):
    assert counts(get(client, sales_agent)) == {("Sales", INVOICE_KEY): 2}


def test_holder_of_view_all_departments_sees_every_group(client, data):
    manager = factories.make_manager("lead", codenames=["view_all_departments"])
    assert len(counts(get(client, manager))) == 3


def test_admin_user_without_desk_profile_gets_403(client, data):
    editor = factories.make_admin_user("editor")
    client.force_login(editor)
    assert client.get(URL).status_code == 403
    assert client.get(RESULTS_URL).status_code == 403
    assert client.get(URL + "?export=csv").status_code == 403


def test_anonymous_is_sent_to_login(client, data):
    response = client.get(URL + "?export=csv")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_customer_is_kept_out(client, data, customer):
    client.force_login(customer)
    response = client.get(URL)
    assert response.status_code == 302
    assert data["login"][1].code not in response.content.decode()


def menu_names(user):
    reverse("wagtailadmin_home")
    request = RequestFactory().get("/admin/")
    request.user = user
    group = next(
        item
        for item in admin_menu.menu_items_for_request(request)
        if item.name == HelpdeskViewSetGroup.menu_name
    )
    return [item.name for item in group.menu.menu_items_for_request(request)]


def test_menu_item_for_desk_users_only(agent, superuser):
    assert "helpdesk_frequent_requests" in menu_names(agent)
    assert "helpdesk_frequent_requests" in menu_names(superuser)
    assert "helpdesk_frequent_requests" not in menu_names(factories.make_admin_user("editor"))


def test_results_view_for_filter_refreshes(client, data, agent):
    response = get(client, agent, "?minimum=3", url=RESULTS_URL)
    assert counts(response) == {("Technical support", LOGIN_KEY): 3}
    assert "<html" not in response.content.decode()


# --- coverage by articles -----------------------------------------------------------------


def test_article_with_the_same_topic_key_covers_the_group(client, data, superuser, knowledge_base):
    article = add_article(knowledge_base, "Logging in to your account")
    by_key = {row["key"]: row for row in rows(get(client, superuser))}
    assert by_key[LOGIN_KEY]["covered"] == article.title
    assert by_key[LOGIN_KEY]["covered_href"] == reverse(
        "wagtailadmin_pages:edit", args=[article.pk]
    )
    assert by_key[INVOICE_KEY]["covered"] == "—"


def test_article_from_a_source_ticket_covers_its_topic(client, data, superuser, knowledge_base):
    add_article(knowledge_base, "Exporting documents", source_ticket=data["sales_invoice"][0])
    covered = {
        (row["department"], row["key"]): row["covered"] for row in rows(get(client, superuser))
    }
    # Articles serve every department: the topic is covered wherever it is asked.
    assert covered[("Sales", INVOICE_KEY)] == "Exporting documents"
    assert covered[("Technical support", INVOICE_KEY)] == "Exporting documents"
    assert covered[("Technical support", LOGIN_KEY)] == "—"


def test_title_match_is_shown_before_an_article_from_a_source_ticket(
    client, data, superuser, knowledge_base
):
    add_article(knowledge_base, "Exporting documents", source_ticket=data["invoice"][0])
    add_article(knowledge_base, "Blank invoice PDFs")
    covered = {row["covered"] for row in rows(get(client, superuser)) if row["key"] == INVOICE_KEY}
    assert covered == {"Blank invoice PDFs"}


def test_draft_article_does_not_cover(client, data, superuser, knowledge_base):
    add_article(knowledge_base, "Logging in to your account", live=False)
    add_article(knowledge_base, "Notes", live=False, source_ticket=data["invoice"][0])
    assert {row["covered"] for row in rows(get(client, superuser))} == {"—"}


def test_only_not_covered_filter(client, data, superuser, knowledge_base):
    add_article(knowledge_base, "Invoice PDF is blank")
    assert counts(get(client, superuser, "?uncovered=on")) == {("Technical support", LOGIN_KEY): 3}


# --- the create-article action ------------------------------------------------------------


def test_action_targets_the_best_ticket_of_uncovered_groups(
    client, data, superuser, knowledge_base, create_article_href
):
    add_article(knowledge_base, "Invoice PDF is blank")
    by_key = {row["key"]: row for row in rows(get(client, superuser))}
    assert by_key[LOGIN_KEY]["action_href"] == create_article_href(data["login"][1].pk)
    assert by_key[INVOICE_KEY]["action_href"] is None
    # The link opens the conversion's form.
    assert client.get(by_key[LOGIN_KEY]["action_href"]).status_code == 200


def test_action_needs_permission_to_add_pages_under_a_knowledge_base(
    client, data, agent, helpdesk, knowledge_base, create_article_href
):
    assert {row["action_href"] for row in rows(get(client, agent))} == {None}

    add_page = Permission.objects.get(content_type__app_label="wagtailcore", codename="add_page")
    editors = Group.objects.create(name="KB editors")
    agent.groups.add(editors)
    # Permission on some other branch of the tree does not help...
    elsewhere = factories.make_department(helpdesk, title="Billing", prefix="BIL")
    GroupPagePermission.objects.create(group=editors, page=elsewhere, permission=add_page)
    assert {row["action_href"] for row in rows(get(client, agent))} == {None}
    # ...permission on an ancestor of a knowledge base does.
    GroupPagePermission.objects.create(group=editors, page=helpdesk, permission=add_page)
    hrefs = {row["key"]: row["action_href"] for row in rows(get(client, agent))}
    assert hrefs[LOGIN_KEY] == create_article_href(data["login"][1].pk)


def test_no_action_without_a_knowledge_base(client, data, superuser, create_article_href):
    assert {row["action_href"] for row in rows(get(client, superuser))} == {None}


def test_no_action_while_the_conversion_is_not_installed(
    client, data, superuser, knowledge_base, monkeypatch
):
    monkeypatch.setattr(reports, "CREATE_ARTICLE_URL_NAME", "helpdesk_tickets:not_installed")
    response = get(client, superuser)
    assert len(rows(response)) == 3
    assert {row["action_href"] for row in rows(response)} == {None}


# --- exports ------------------------------------------------------------------------------

HEADINGS = [
    "Topic (example subject)",
    "Topic key",
    "Department",
    "Tickets",
    "Last resolved",
    "Covered by article",
    "Article edit link",
    "Most detailed ticket",
]


def test_csv_export(client, data, agent, knowledge_base):
    article = add_article(knowledge_base, "Logging in to your account")
    client.force_login(agent)
    response = client.get(URL + "?export=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "frequent-requests" in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0] == HEADINGS
    body = {row[1]: row for row in table[1:]}
    assert set(body) == {LOGIN_KEY, INVOICE_KEY}
    login = body[LOGIN_KEY]
    assert login[0] == data["login"][1].subject
    assert login[2:4] == ["Technical support", "3"]
    assert login[5:] == [
        article.title,
        "http://testserver" + reverse("wagtailadmin_pages:edit", args=[article.pk]),
        data["login"][1].code,
    ]
    assert body[INVOICE_KEY][5:7] == ["", ""]


def test_csv_export_follows_the_filters(client, data, superuser):
    client.force_login(superuser)
    response = client.get(URL + "?export=csv&period=90&minimum=4")
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row[1], row[3]) for row in table[1:]] == [(LOGIN_KEY, "4")]


def test_xlsx_export(client, data, superuser):
    client.force_login(superuser)
    response = client.get(URL + "?export=xlsx")
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == HEADINGS
    assert [(row[1], row[2], row[3]) for row in values[1:]] == [
        (LOGIN_KEY, "Technical support", 3),
        (INVOICE_KEY, "Sales", 2),
        (INVOICE_KEY, "Technical support", 2),
    ]
    assert values[1][4] is not None  # last resolved, as a date cell


# --- query ceiling ------------------------------------------------------------------------

#: An agent's page: session, user, their own and group permissions, Wagtail's user
#: profile, the desk profile, the department choices, COUNT, the page of groups, the
#: best tickets, the covering articles, may-add-articles, then the admin chrome (locale,
#: page, collection and site permissions and the explorer's root page for the menus, the
#: open-ticket count).
CEILING = 18


def add_groups(department, groups, per_group):
    words = ["printer", "scanner", "router", "monitor", "keyboard", "webcam", "speaker"]
    for n in range(groups):
        subject = f"{words[n % len(words)]} {'x' * (n // len(words) + 3)} broken"
        for _m in range(per_group):
            resolved_ticket(department, subject)


@pytest.mark.parametrize("role", ["agent", "superuser"])
def test_query_count_is_constant_in_tickets_and_groups(
    client,
    data,
    department,
    agent,
    superuser,
    knowledge_base,
    create_article_href,
    role,
    django_assert_max_num_queries,
):
    user = {"agent": agent, "superuser": superuser}[role]
    if role == "agent":
        editors = Group.objects.create(name="KB editors")
        GroupPagePermission.objects.create(
            group=editors,
            page=knowledge_base,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename="add_page"
            ),
        )
        agent.groups.add(editors)
    add_article(knowledge_base, "Logging in to your account")
    client.force_login(user)
    client.get(URL)  # warm per-process caches (content types, site root)

    with django_assert_max_num_queries(CEILING) as small:
        response = client.get(URL)
    small_rows = rows(response)
    assert any(row["action_href"] for row in small_rows)

    add_groups(department, groups=12, per_group=3)
    with django_assert_max_num_queries(CEILING) as large:
        response = client.get(URL)
    large_rows = rows(response)
    assert len(large_rows) == len(small_rows) + 12
    assert len(large.captured_queries) == len(small.captured_queries)
