"""The analytics' figures equal plain Python computations over random histories, with
days in the site's time zone across daylight-saving changes; the rollups the workflow
keeps equal a rebuild from the tickets."""

import random
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests import factories
from tests.analytics.history import History, Truth
from wagtail_tickets import workflow
from wagtail_tickets.analytics import queries, rollups
from wagtail_tickets.analytics.periods import Period, today
from wagtail_tickets.analytics.scope import Scope
from wagtail_tickets.models import (
    ActivityRollup,
    DepartmentPage,
    DurationRollup,
    Message,
    Status,
    Ticket,
    TopicRollup,
)

pytestmark = pytest.mark.django_db

SEEDS = [11, 22, 33]
ZONES = ["Europe/Berlin", "America/New_York"]


def rollup_rows():
    """The rollups' rows that hold anything, as comparable tuples."""
    counters = [f.name for f in ActivityRollup._meta.fields if f.name not in ("id",)]
    activity = {tuple(row) for row in ActivityRollup.objects.values_list(*counters) if any(row[4:])}
    durations = set(
        DurationRollup.objects.exclude(count=0).values_list(
            "metric", "level", "grain", "day", "department_id", "agent_id", "bucket", "count"
        )
    )
    topics = set(
        TopicRollup.objects.exclude(resolved=0).values_list(
            "grain", "day", "department_id", "status_id", "subject_key", "resolved", "last_resolved"
        )
    )
    return activity, durations, topics


def periods(rng):
    now = today()
    chosen = [Period.last_days(days) for days in (7, 30, 90, 365)]
    for _n in range(3):
        start = now - timedelta(days=rng.randint(1, 80))
        chosen.append(Period(start, start + timedelta(days=rng.randint(0, 40))))
    return chosen


def scopes(history, rng):
    known = frozenset(DepartmentPage.objects.values_list("pk", flat=True))
    # What the filters offer: departments and staff that exist.
    departments = [d.pk for d in history.departments if d.pk in known]
    agents = [a.pk for a in history.agents if get_user_model().objects.filter(pk=a.pk).exists()]
    for period in periods(rng):
        yield Scope(period, known_departments=known)
        yield Scope(period, department=rng.choice(departments), known_departments=known)
        yield Scope(period, agent=rng.choice(agents), known_departments=known)
        limited = tuple(rng.sample(departments, min(2, len(departments))))
        yield Scope(period, departments=limited, known_departments=known)
        yield Scope(
            period,
            departments=limited,
            department=rng.choice(departments),
            agent=rng.choice(agents),
            known_departments=known,
        )


def check_figures(history, rng, authors=None):
    truth = Truth(authors=authors)
    now = today()
    for scope in scopes(history, rng):
        expected = truth.overview(scope, now)
        shown = queries.overview(scope)
        context = (scope.period, scope.department, scope.agent, scope.departments)
        for key in ("opened", "resolved", "backlog_now", "sla_total", "sla_met"):
            assert shown[key] == expected.get(key, 0), (key, context)
        assert shown["first_response_median"] == expected["first_response_median"], context
        assert shown["resolution_median"] == expected["resolution_median"], context
        assert shown["by_score"] == {s: expected["scores"].get(s, 0) for s in range(1, 6)}, context
        assert [
            (row["first"], row["last"], row["opened"], row["resolved"], row["backlog"])
            for row in shown["series"]
        ] == expected["series"], context

        agents = {row["agent_id"]: row for row in queries.agents(scope)}
        expected_agents = truth.agents(scope)
        assert set(agents) == set(expected_agents), context
        for agent, row in expected_agents.items():
            assert {key: agents[agent][key] for key in row} == row, (agent, context)

        titles = {pk: f"#{pk}" for pk in scope.known_departments}
        departments = {row["department_id"]: row for row in queries.departments(scope, titles)}
        expected_departments = truth.departments(scope)
        assert set(departments) == set(expected_departments), context
        for dept, row in expected_departments.items():
            assert {key: departments[dept][key] for key in row} == row, (dept, context)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("seed", SEEDS)
def test_figures_equal_plain_computation_and_a_rebuild(settings, seed, zone):
    settings.TIME_ZONE = zone
    history = History(seed)
    assert history.transitions, "the history must cross a daylight-saving change"
    history.build()
    check_figures(history, random.Random(seed))

    kept = rollup_rows()
    rollups.rebuild()
    assert rollup_rows() == kept
    check_figures(history, random.Random(seed + 1))


def test_deleted_departments_and_agents_count_as_none(settings):
    """Their tickets keep their figures, under "no department" and "no agent", whether
    the rollups were kept by the workflow or rebuilt; and later changes stay exact."""
    settings.TIME_ZONE = "Europe/Berlin"
    history = History(44, tickets=20)
    tickets = history.build()
    gone_department = history.departments[0]
    gone_agent = history.agents[1]
    authors = dict(Message.objects.filter(is_staff_reply=True).values_list("pk", "author_id"))
    DepartmentPage.objects.get(pk=gone_department.pk).delete()
    get_user_model().objects.filter(pk=gone_agent.pk).delete()
    check_figures(history, random.Random(44), authors)
    # A change to a ticket of the deleted department takes back what it had added.
    moved = next(
        (t for t in tickets if Ticket.objects.filter(pk=t.pk, department=None).exists()), None
    )
    if moved is not None:
        moved.refresh_from_db()
        workflow.change_status(moved, Status.first_of_kind(Status.Kind.RESOLVED))
    check_figures(history, random.Random(45), authors)
    # A rebuild reads the messages as saved: the deleted agent's replies have no author,
    # like those written without an account, so it counts them as one agent's.
    rollups.rebuild()
    check_figures(history, random.Random(46))


def test_rebuild_command_restores_the_rollups(department, agent, capsys):
    ticket = factories.open_ticket(department, subject="Printer on fire")
    workflow.rate(factories.staff_reply(ticket, agent, "Unplug it."), score=5)
    kept = rollup_rows()
    ActivityRollup.objects.all().delete()
    DurationRollup.objects.all().delete()
    Ticket.objects.update(analytics_facts={})
    call_command("helpdesk_rebuild_analytics")
    assert "Analytics rebuilt from 1 ticket in" in capsys.readouterr().out
    assert rollup_rows() == kept


def test_a_reply_to_a_resolved_ticket_leaves_its_topic_rows_alone(department, agent):
    """Its topic rows do not change, so they are not written; the figures still equal
    a rebuild's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = factories.open_ticket(department, subject="Printer on fire")
    factories.staff_reply(ticket, agent, "Unplug it.")
    workflow.change_status(ticket, Status.first_of_kind(Status.Kind.RESOLVED))
    assert TopicRollup.objects.filter(resolved=1).exists()
    with CaptureQueriesContext(connection) as queries:
        workflow.post_reply(ticket, body="One more thing.", author=agent, by_staff=True)
    assert Ticket.objects.get(pk=ticket.pk).status.kind == Status.Kind.RESOLVED
    written = [q["sql"] for q in queries if TopicRollup._meta.db_table in q["sql"]]
    assert written == []
    kept = rollup_rows()
    rollups.rebuild()
    assert rollup_rows() == kept
