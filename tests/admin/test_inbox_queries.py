"""Query ceilings of the inbox (DESIGN §8): the same for 3 tickets as for 60.

What a page costs for an agent (the test transaction adds no SAVEPOINTs here):
session, user, the user's own and group permissions (Wagtail's admin access; the
desk's "view all departments" check reuses them), the desk profile, the default
saved search (only when the query string is empty), the open-ticket count of the
Helpdesk menu, the filter choices (statuses, priorities, the user's departments,
the staff: 4), COUNT, the page of tickets (status, priority, department, assignee
joined, the user's stars as a column), the saved searches list. Searching adds
nothing: the search backend's matches are a subquery of one query that counts them
and keys the page, and the page's rows are then read by key.
"""

import pytest

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import Star, Status

pytestmark = pytest.mark.django_db

INDEX = "/admin/helpdesk_inbox/"
CEILING = 15


def fill(department, customer, agent, count):
    tickets = []
    for n in range(count):
        ticket = factories.open_ticket(
            department, customer=customer, subject=f"Paper jam {n}", body=f"Tray {n} is stuck"
        )
        if n % 2:
            workflow.assign(ticket, agent)
        if n % 3 == 0:
            Star.objects.create(user=agent, ticket=ticket)
        tickets.append(ticket)
    factories.index_tickets(*tickets)
    return tickets


def measure(client, url, django_assert_max_num_queries):
    client.get(url)  # warm caches (content types, permissions policy)
    with django_assert_max_num_queries(CEILING) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), response


@pytest.mark.parametrize(
    "query",
    [
        "?all=1",
        "?state=open&assignee=me&department={department}",
        "?q=paper",
        "?q=jam&status={status}&ordering=-created_at",
    ],
    ids=["first-page", "filtered", "searched", "searched-filtered-sorted"],
)
def test_inbox_queries_constant(
    client, department, customer, agent, query, django_assert_max_num_queries
):
    query = query.format(department=department.pk, status=Status.default().pk)
    factories.make_agent("colleague", departments=[department])  # a name in the choices
    factories.site_settings(captcha_mode="none")
    fill(department, customer, agent, 3)
    client.force_login(agent)
    small, response = measure(client, INDEX + query, django_assert_max_num_queries)
    assert response.context["paginator"].count >= 1

    fill(department, customer, agent, 57)
    large, response = measure(client, INDEX + query, django_assert_max_num_queries)
    assert small == large
    rows = len(response.context["object_list"])
    assert rows > 3


def test_inbox_queries_superuser_default_search(
    client, department, customer, superuser, django_assert_max_num_queries
):
    fill(department, customer, superuser, 3)
    client.force_login(superuser)
    from wagtail_tickets.models import SavedSearch

    SavedSearch.objects.create(
        owner=superuser, name="Open", query_string="state=open", is_default=True
    )
    response = client.get(INDEX)
    assert response.status_code == 302
    small, _ = measure(client, INDEX + "?state=open", django_assert_max_num_queries)
    fill(department, customer, superuser, 57)
    large, _ = measure(client, INDEX + "?state=open", django_assert_max_num_queries)
    assert small == large
