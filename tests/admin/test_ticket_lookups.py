"""The statuses and priorities the ticket screen offers, read from Django's cache."""

import re

import pytest
from django.urls import reverse

from tests import factories
from wagtail_tickets.models import Priority, Status
from wagtail_tickets.models.tickets import cached_rows

pytestmark = pytest.mark.django_db


def detail(client, ticket):
    response = client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def options(html, name):
    """{value: label} of the <select name=...> on the page."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return {
        value: label.strip()
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select[1])
    }


@pytest.fixture
def fields_agent(agent):
    return factories.grant(agent, "change_ticket_fields", "assign_ticket")


def test_rows_come_from_the_cache_after_the_first_read(db, django_assert_num_queries):
    Priority.objects.create(name="Whenever", sort_order=99)
    cached_rows(Priority)
    with django_assert_num_queries(0):
        rows = cached_rows(Priority)
    assert rows == list(Priority.objects.order_by("sort_order", "pk"))
    assert rows[-1].name == "Whenever"


def test_the_screen_reads_no_status_or_priority_rows_once_cached(
    client, ticket, fields_agent, site_settings, django_assert_max_num_queries
):
    client.force_login(fields_agent)
    detail(client, ticket)
    with django_assert_max_num_queries(30) as captured:
        html = detail(client, ticket)
    tables = " ".join(query["sql"] for query in captured.captured_queries)
    # The ticket's own status and priority come joined to it; the choices do not.
    assert 'FROM "wagtail_tickets_priority"' not in tables
    assert 'FROM "wagtail_tickets_status"' not in tables
    assert set(options(html, "fields-priority")) == {
        str(pk) for pk in Priority.objects.values_list("pk", flat=True)
    }


def test_a_managers_changes_show_at_once(client, ticket, fields_agent, site_settings):
    client.force_login(fields_agent)
    detail(client, ticket)  # fills the cache
    priority = Priority.objects.exclude(pk=ticket.priority_id).first()
    priority.name = "Drop everything"
    priority.save()
    on_hold = Status.objects.create(name="On hold", kind=Status.Kind.WAITING, sort_order=0)
    gone = Status.objects.filter(kind=Status.Kind.RESOLVED).first()
    gone_name = str(gone)
    gone.delete()

    html = detail(client, ticket)
    assert options(html, "fields-priority")[str(priority.pk)] == "Drop everything"
    for name in ("fields-status", "new_status"):
        statuses = options(html, name)
        assert statuses[str(on_hold.pk)] == "On hold"
        assert str(gone.pk) not in statuses and gone_name not in statuses.values()


def test_status_choices_follow_the_managers_order(client, ticket, fields_agent, site_settings):
    client.force_login(fields_agent)
    detail(client, ticket)
    last = Status.objects.order_by("sort_order", "pk").last()
    last.sort_order = 0
    last.save()
    Status.objects.exclude(pk=last.pk).update(sort_order=5)
    labels = list(options(detail(client, ticket), "fields-status").values())
    assert labels[0] == str(last)


def test_department_choices_per_role(client, ticket, agent, superuser, helpdesk, site_settings):
    foreign = factories.make_department(helpdesk, title="Foreign", prefix="FOR")
    fields_agent = factories.grant(agent, "change_ticket_fields")
    client.force_login(fields_agent)
    mine = options(detail(client, ticket), "fields-department")
    assert mine == {str(ticket.department_id): "Technical support"}

    client.force_login(superuser)
    every = options(detail(client, ticket), "fields-department")
    assert every == {str(ticket.department_id): "Technical support", str(foreign.pk): "Foreign"}
