"""The Helpdesk panel on the Wagtail dashboard: content per role, links, query ceiling."""

import datetime
import re

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests import factories
from wagtail_tickets import permissions, workflow
from wagtail_tickets.admin import dashboard
from wagtail_tickets.admin.dashboard import HelpdeskPanel
from wagtail_tickets.models import Ticket

pytestmark = pytest.mark.django_db

#: Counts (1) + my open tickets (1) + unassigned (1) + overdue (1); the desk profile is
#: already loaded by the admin's menu on a real page. Two spare for safety of the ceiling.
PANEL_QUERIES = 6


def home(client, user):
    client.force_login(user)
    return client.get(reverse("wagtailadmin_home"))


def panel_html(response):
    content = response.content.decode()
    match = re.search(
        r'<section class="w-panel[^"]*wt-dashboard".*?</section>\s*</div>', content, re.S
    )
    return match.group(0) if match else None


def section(html, key):
    match = re.search(rf'data-wt-section="{key}">(.*?)</section>', html, re.S)
    assert match, key
    # "Heading (3)" whatever the whitespace the template puts between them
    return re.sub(r"\s*<span class=\"wt-dashboard__count\">", " ", match.group(1))


def rows(html):
    return html.count("<tr>") - 1  # minus the header row


def overdue(ticket, hours=2):
    Ticket.objects.filter(pk=ticket.pk).update(
        due_at=timezone.now() - datetime.timedelta(hours=hours)
    )


@pytest.fixture
def desk(department, other_agent, agent, customer):
    """Tickets in the agent's department and in another one."""
    other_department = other_agent.helpdesk_profile.departments.get()
    mine = factories.open_ticket(department, customer=customer, subject="Mine to answer")
    workflow.assign(mine, agent)
    unassigned = factories.open_ticket(department, customer=customer, subject="Nobody's yet")
    late = factories.open_ticket(department, customer=customer, subject="Running late")
    overdue(late)
    closed = factories.open_ticket(department, customer=customer, subject="All done")
    workflow.assign(closed, agent)
    workflow.close(closed)
    elsewhere = factories.open_ticket(other_department, customer=customer, subject="Sales lead")
    overdue(elsewhere)
    return {
        "mine": mine,
        "unassigned": unassigned,
        "late": late,
        "closed": closed,
        "elsewhere": elsewhere,
    }


def test_agent_sees_their_departments_only(client, agent, desk):
    html = panel_html(home(client, agent))
    assert html is not None
    mine = section(html, "mine")
    assert "Mine to answer" in mine and "My open tickets (1)" in mine
    assert "All done" not in mine
    unassigned = section(html, "unassigned")
    assert "Unassigned in my departments (2)" in unassigned
    assert "Nobody&#x27;s yet" in unassigned and "Running late" in unassigned
    late = section(html, "overdue")
    assert "Overdue (1)" in late and "Running late" in late and "overdue by" in late
    assert "Sales lead" not in html


def test_other_agent_sees_their_own_department(client, other_agent, desk):
    html = panel_html(home(client, other_agent))
    assert "Sales lead" in html
    assert "Mine to answer" not in html and "Running late" not in html
    assert "Overdue (1)" in section(html, "overdue")


def test_superuser_sees_every_department(client, superuser, desk):
    html = panel_html(home(client, superuser))
    assert "My open tickets (0)" in section(html, "mine")
    assert "Unassigned in my departments (3)" in section(html, "unassigned")
    assert "Overdue (2)" in section(html, "overdue")
    assert "Sales lead" in html and "Running late" in html


def test_view_all_departments_with_own_departments_counts_their_unassigned(
    client, desk, department
):
    lead = factories.make_manager(
        "lead", codenames=["view_all_departments"], departments=[department]
    )
    html = panel_html(home(client, lead))
    assert "Unassigned in my departments (2)" in section(html, "unassigned")
    assert "Overdue (2)" in section(html, "overdue")  # sees every department


def test_view_all_departments_without_a_profile_gets_the_panel(client, desk):
    lead = factories.make_manager("lead", codenames=["view_all_departments"])
    html = panel_html(home(client, lead))
    assert html is not None
    assert "Unassigned in my departments (3)" in section(html, "unassigned")


def test_no_panel_for_admin_users_outside_the_desk(client, desk):
    editor = factories.make_manager("editor")
    response = home(client, editor)
    assert response.status_code == 200
    assert panel_html(response) is None
    assert "Running late" not in response.content.decode()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))


def test_links_to_ticket_screen_and_inbox_views(client, agent, desk):
    html = panel_html(home(client, agent))
    assert reverse("helpdesk_tickets:detail", args=[desk["mine"].pk]) in html
    inbox = reverse("helpdesk_inbox:index")
    assert f"{inbox}?assignee=me" in html
    assert f"{inbox}?assignee=unassigned" in html
    assert f"{inbox}?overdue=1" in html


def test_links_fall_back_to_text_without_the_inbox(client, agent, desk, monkeypatch):
    monkeypatch.setattr(dashboard, "_reverse", lambda *args, **kwargs: None)
    html = panel_html(home(client, agent))
    assert "Mine to answer" in html
    assert "/helpdesk_tickets/" not in html


def test_reverse_guard():
    assert dashboard._reverse("no_such_namespace:detail", 1) is None
    assert dashboard._reverse("wagtailadmin_home", query="a=1") == "/admin/?a=1"


def test_lists_are_capped_and_ordered(client, agent, department, customer):
    for n in range(12):
        ticket = factories.open_ticket(department, customer=customer, subject=f"Assigned {n}")
        workflow.assign(ticket, agent)
    for n in range(7):
        ticket = factories.open_ticket(department, customer=customer, subject=f"Late {n}")
        Ticket.objects.filter(pk=ticket.pk).update(
            due_at=timezone.now() - datetime.timedelta(hours=10 - n)
        )
    html = panel_html(home(client, agent))
    mine = section(html, "mine")
    assert "My open tickets (12)" in mine
    assert rows(mine) == 10
    # newest activity first
    assert mine.index("Assigned 11") < mine.index("Assigned 2")
    assert "Assigned 0<" not in mine and "Assigned 1<" not in mine
    late = section(html, "overdue")
    assert "Overdue (7)" in late and rows(late) == 5
    assert late.index("Late 0") < late.index("Late 1")  # most overdue first
    assert "See them all in the inbox" in late


def render_panel(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return HelpdeskPanel().render_html({"request": request})


@pytest.mark.parametrize("role", ["agent", "superuser"])
def test_query_count_is_constant(
    role, request, department, customer, agent, django_assert_max_num_queries
):
    user = request.getfixturevalue(role)

    def make(count):
        for n in range(count):
            ticket = factories.open_ticket(department, customer=customer, subject=f"T{n}")
            if n % 3 == 0:
                workflow.assign(ticket, agent)
            if n % 4 == 0:
                overdue(ticket)

    def measure():
        fresh = type(user).objects.get(pk=user.pk)
        fresh.has_perm("wagtailadmin.access_admin")  # as the admin's access check does
        permissions.desk_membership(fresh)  # as the admin menu does on every admin page
        with django_assert_max_num_queries(PANEL_QUERIES) as captured:
            html = render_panel(fresh)
        return html, len(captured.captured_queries)

    make(2)
    measure()  # the first use caches the active statuses' ids (models.tickets.status_ids)
    _html, few = measure()
    make(38)
    html, many = measure()
    assert few == many
    assert many <= 4
    assert "T37" in html or "T36" in html


def test_whole_dashboard_query_count_is_constant(
    client, agent, department, customer, django_assert_max_num_queries
):
    client.force_login(agent)
    url = reverse("wagtailadmin_home")
    factories.open_ticket(department, customer=customer)
    factories.open_ticket(department, customer=customer)
    client.get(url)
    with django_assert_max_num_queries(60) as few:
        client.get(url)
    for n in range(38):
        ticket = factories.open_ticket(department, customer=customer, subject=f"More {n}")
        if n % 2:
            workflow.assign(ticket, agent)
    with django_assert_max_num_queries(60) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_counts_stop_at_the_cap(client, agent, department, customer, monkeypatch):
    """Counts read at most COUNT_CAP rows, so the panel and the menu badge cost the same
    with 50,000 active tickets; at the cap they say "cap - 1 +"."""
    from wagtail_tickets.admin import counts

    monkeypatch.setattr(counts, "COUNT_CAP", 3)
    for n in range(2):
        factories.open_ticket(department, customer=customer, subject=f"Few {n}")
    html = panel_html(home(client, agent))
    assert "Unassigned in my departments (2)" in re.sub(r"\s+", " ", section(html, "unassigned"))
    for n in range(4):
        factories.open_ticket(department, customer=customer, subject=f"Many {n}")
    response = home(client, agent)
    html = panel_html(response)
    assert "(2+)" in section(html, "unassigned")
    assert rows(section(html, "unassigned")) == dashboard.UNASSIGNED_LIMIT
    assert "See them all in the inbox" in section(html, "unassigned")
    assert "Helpdesk (2+)" in response.content.decode()  # the menu badge


def test_capped_counts_are_one_query(agent, department, customer, django_assert_num_queries):
    from wagtail_tickets.admin.counts import capped_counts

    for n in range(5):
        factories.open_ticket(department, customer=customer, subject=f"T {n}")
    active = Ticket.objects.active()
    with django_assert_num_queries(1):
        result = capped_counts(
            4, all=active, none=active.filter(pk=0), one=active.filter(subject="T 1")
        )
    assert result == {"all": 4, "none": 0, "one": 1}
