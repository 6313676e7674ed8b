"""Row locks taken by the workflow hold only the rows they are meant for (PostgreSQL).

Django's foreign keys on PostgreSQL are checked at commit with a share lock on the row
referred to. A workflow lock that also covered the rows its query joins (a ticket's
status and priority, an agent's user row) made every other ticket or reply referring to
them wait for it, and under load two such waits deadlocked (a reply's analytics write
against a submission's commit). Each test holds a workflow lock open in this thread and
commits an ordinary write in another, which must not wait.
"""

import threading

import pytest
from django.db import connection, transaction

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import DepartmentPage, Ticket
from wagtail_tickets.workflow.assignment import pick_assignee
from wagtail_tickets.workflow.tickets import _lock

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def commit_elsewhere(write):
    """Run ``write()`` in its own connection and transaction, giving up on any lock
    after two seconds; return the error it raised, or None once it committed."""
    outcome = {}

    def run():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                write()
        except BaseException as error:  # noqa: B036 - reported to the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the other writer hung"
    return outcome.get("error")


@pytest.fixture
def department():
    helpdesk = factories.make_helpdesk()
    return factories.make_department(
        helpdesk,
        title="Technical support",
        prefix="TECH",
        assignment_strategy=DepartmentPage.Assignment.ROUND_ROBIN,
    )


def test_a_locked_ticket_leaves_its_status_and_priority_to_other_tickets(department):
    first = factories.open_ticket(department, subject="First")
    with transaction.atomic():
        locked = _lock(first)
        error = commit_elsewhere(lambda: factories.open_ticket(department, subject="Second"))
        assert locked.status_id is not None
    assert error is None, f"a new ticket waited for another ticket's lock: {error!r}"
    assert Ticket.objects.filter(subject="Second").exists()


@pytest.mark.parametrize(
    "strategy", [DepartmentPage.Assignment.ROUND_ROBIN, DepartmentPage.Assignment.LEAST_OPEN]
)
def test_picking_an_assignee_leaves_the_agents_free_to_reply(department, strategy):
    agent = factories.make_agent("agent", departments=[department])
    ticket = factories.open_ticket(department)
    department.assignment_strategy = strategy
    department.save(update_fields=["assignment_strategy"])
    with transaction.atomic():
        assert pick_assignee(department).user == agent
        error = commit_elsewhere(
            lambda: workflow.post_reply(
                Ticket.objects.get(pk=ticket.pk), body="On it.", author=agent, by_staff=True
            )
        )
    assert error is None, f"an agent's reply waited for the assignment lock: {error!r}"
    assert ticket.messages.filter(author=agent).count() == 1
