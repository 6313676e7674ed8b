"""Ticket log entries obey department visibility wherever Wagtail shows logs."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import Ticket, TicketLogEntry

pytestmark = pytest.mark.django_db

TECH_SUBJECT = "Tech-only secret subject"
SALES_SUBJECT = "Sales-only secret subject"


@pytest.fixture
def scene(helpdesk, department):
    sales = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    tech_agent = factories.make_agent("techie", departments=[department])
    sales_agent = factories.make_agent("seller", departments=[sales])
    tech_ticket = factories.open_ticket(department, subject=TECH_SUBJECT)
    sales_ticket = factories.open_ticket(sales, subject=SALES_SUBJECT)
    workflow.post_reply(tech_ticket, body="On it.", author=tech_agent, by_staff=True)
    workflow.post_reply(sales_ticket, body="Sure.", author=sales_agent, by_staff=True)
    return tech_agent, sales_agent, tech_ticket, sales_ticket


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _report(client, **params):
    return client.get(reverse("wagtailadmin_reports:site_history"), params)


def _csv_rows(response):
    content = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(content)))


def test_ticket_entries_live_in_the_tickets_own_log_model(scene):
    _tech_agent, _sales_agent, tech_ticket, _sales_ticket = scene
    assert log_registry.get_log_model_for_instance(tech_ticket) is TicketLogEntry
    assert TicketLogEntry.objects.filter(ticket_id=tech_ticket.pk).exists()
    assert not ModelLogEntry.objects.filter(label__contains=TECH_SUBJECT).exists()


@pytest.mark.parametrize("as_csv", [False, True], ids=["page", "csv"])
def test_site_history_shows_each_agent_only_their_departments_tickets(scene, as_csv):
    tech_agent, sales_agent, tech_ticket, sales_ticket = scene
    for agent, own, other in (
        (tech_agent, tech_ticket, sales_ticket),
        (sales_agent, sales_ticket, tech_ticket),
    ):
        client = _client(agent)
        if as_csv:
            response = _report(client, export="csv")
            assert response.status_code == 200
            text = "\n".join(",".join(row) for row in _csv_rows(response))
        else:
            response = _report(client)
            assert response.status_code == 200
            text = response.content.decode()
        assert own.code in text and own.subject in text
        assert other.code not in text and other.subject not in text


def test_site_history_filters_offer_nothing_of_other_departments(scene):
    tech_agent, sales_agent, _tech_ticket, _sales_ticket = scene
    html = _report(_client(tech_agent)).content.decode()
    # The user filter lists who acted on visible tickets only.
    assert "techie" in html
    assert "seller" not in html
    # Filtering by the other agent finds nothing.
    filtered = _report(_client(tech_agent), user=str(sales_agent.pk)).content.decode()
    assert SALES_SUBJECT not in filtered


def test_managers_and_superusers_see_every_department(scene, superuser):
    _tech, _sales, tech_ticket, sales_ticket = scene
    manager = factories.make_manager("boss", codenames=["view_all_departments"])
    for user in (manager, superuser):
        rows = _csv_rows(_report(_client(user), export="csv"))
        text = "\n".join(",".join(row) for row in rows)
        assert tech_ticket.code in text and sales_ticket.code in text


def test_former_agent_sees_no_ticket_history(scene):
    from django.contrib.auth.models import Permission

    tech_agent, _sales, tech_ticket, _sales_ticket = scene
    tech_agent.user_permissions.remove(Permission.objects.get(codename="access_admin"))
    former = type(tech_agent).objects.get(pk=tech_agent.pk)
    assert not TicketLogEntry.objects.viewable_by_user(former).exists()
    response = _report(_client(former))
    assert tech_ticket.code not in response.content.decode()


def test_desk_history_of_another_departments_ticket_is_404(scene):
    tech_agent, _sales, tech_ticket, sales_ticket = scene
    client = _client(tech_agent)
    own = client.get(reverse("helpdesk_tickets:history", args=[tech_ticket.pk]))
    assert own.status_code == 200
    assert "Reply posted" in own.content.decode()
    other = client.get(reverse("helpdesk_tickets:history", args=[sales_ticket.pk]))
    assert other.status_code == 404


def test_entries_of_a_deleted_ticket_stay_for_those_who_see_all(scene, superuser):
    tech_agent, _sales, tech_ticket, _sales_ticket = scene
    code = tech_ticket.code
    Ticket.objects.filter(pk=tech_ticket.pk).delete()
    assert TicketLogEntry.objects.filter(label__startswith=code).exists()
    assert (
        not TicketLogEntry.objects.viewable_by_user(tech_agent)
        .filter(label__startswith=code)
        .exists()
    )
    assert (
        TicketLogEntry.objects.viewable_by_user(superuser).filter(label__startswith=code).exists()
    )


def test_migration_moves_existing_ticket_entries(scene, django_db_setup):
    """The data migration's forward step, run on entries written the old way."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("wagtail_tickets.migrations.0011_security")
    _tech, _sales, tech_ticket, _sales_ticket = scene
    TicketLogEntry.objects.all().delete()
    ModelLogEntry.objects.log_action(tech_ticket, "wagtail_tickets.ticket.create")
    migration.move_ticket_entries(apps, None)
    moved = TicketLogEntry.objects.get()
    assert moved.ticket_id == tech_ticket.pk
    assert moved.action == "wagtail_tickets.ticket.create"
    assert not ModelLogEntry.objects.filter(object_id=str(tech_ticket.pk)).exists()


def test_a_ticket_entry_with_an_unregistered_action_is_refused(scene):
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    tech_agent, _sales_agent, tech_ticket, _sales_ticket = scene
    entry = TicketLogEntry(
        ticket_id=tech_ticket.pk,
        label=str(tech_ticket),
        action="wagtail_tickets.no_such_action",
        timestamp=timezone.now(),
        user=tech_agent,
    )
    with pytest.raises(ValidationError):
        entry.save()
    assert not TicketLogEntry.objects.filter(action="wagtail_tickets.no_such_action").exists()


def test_logging_an_agents_action_checks_no_foreign_key_rows(scene, django_assert_num_queries):
    tech_agent, _sales_agent, tech_ticket, _sales_ticket = scene
    with django_assert_num_queries(1) as captured:
        TicketLogEntry.objects.log_action(
            tech_ticket, "wagtail_tickets.ticket.assign", user=tech_agent
        )
    assert captured.captured_queries[0]["sql"].startswith("INSERT")
