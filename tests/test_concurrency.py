"""Ticket codes under concurrent submissions, on PostgreSQL (real row locks, real commits).

Each thread has its own database connection, as separate app servers would.
"""

import re
import threading

import pytest
from django.db import connection
from django.test import Client

from tests import factories
from wagtail_tickets.models import DepartmentCounter, Message, Ticket

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THREADS = 8
PER_THREAD = 5
TOTAL = THREADS * PER_THREAD


def run_in_threads(work):
    """Start ``work(index)`` in THREADS threads at the same moment; return their results."""
    barrier = threading.Barrier(THREADS)
    results, errors = [], []
    lock = threading.Lock()

    def worker(index):
        try:
            barrier.wait(timeout=30)
            produced = work(index)
            with lock:
                results.extend(produced)
        except BaseException as error:  # noqa: B036 - reported to the test below
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert not errors, errors
    return results


def expected_codes(prefix):
    return {f"{prefix}-{number:06d}" for number in range(1, TOTAL + 1)}


@pytest.fixture
def department():
    helpdesk = factories.make_helpdesk()
    return factories.make_department(helpdesk, title="Technical support", prefix="TECH")


def test_concurrent_open_ticket_gives_every_ticket_a_unique_code_without_gaps(department):
    assert connection.vendor == "postgresql"
    assert not DepartmentCounter.objects.exists(), "the counter row is created in the race"

    def submit(index):
        codes = []
        for n in range(PER_THREAD):
            ticket = factories.open_ticket(
                department,
                name=f"Visitor {index}",
                email=f"visitor{index}@example.com",
                subject=f"Problem {index}.{n}",
            )
            codes.append(ticket.code)
        return codes

    returned = run_in_threads(submit)

    assert len(returned) == TOTAL
    assert len(set(returned)) == TOTAL, "two submissions got the same code"
    saved = list(Ticket.objects.values_list("code", flat=True))
    assert len(saved) == TOTAL
    assert set(saved) == set(returned) == expected_codes("TECH")
    assert DepartmentCounter.objects.get(prefix="TECH").last_number == TOTAL
    assert Message.objects.count() == TOTAL
    assert set(Ticket.objects.values_list("message_count", flat=True)) == {1}


def test_concurrent_submissions_through_the_department_page(department):
    factories.site_settings(captcha_mode="none", anonymous_tickets_per_hour=TOTAL * 2)
    url = department.url

    def submit(index):
        client = Client()
        codes = []
        for n in range(PER_THREAD):
            response = client.post(
                url,
                {
                    "name": f"Visitor {index}",
                    "email": f"visitor{index}@example.com",
                    "subject": f"Problem {index}.{n}",
                    "message": "It broke while everyone was writing to you.",
                },
            )
            assert response.status_code == 302, response.content.decode()[:2000]
            thanks = client.get(response["Location"])
            assert thanks.status_code == 200
            match = re.search(r'id="wt-ticket-code">([A-Z0-9]+-\d+)<', thanks.content.decode())
            assert match, "the thanks page shows the code"
            codes.append(match.group(1))
        return codes

    shown = run_in_threads(submit)

    assert len(shown) == TOTAL
    assert len(set(shown)) == TOTAL, "two visitors were shown the same code"
    saved = set(Ticket.objects.values_list("code", flat=True))
    assert saved == set(shown) == expected_codes("TECH")
    assert Ticket.objects.count() == TOTAL


def test_concurrent_submissions_to_two_departments_keep_separate_sequences(department):
    sales = factories.make_department(department.get_parent(), title="Sales", prefix="SAL")

    def submit(index):
        target = department if index % 2 else sales
        return [
            factories.open_ticket(target, subject=f"{index}.{n}").code
            for n in range(PER_THREAD * 2)
        ]

    returned = run_in_threads(submit)
    assert len(set(returned)) == TOTAL * 2
    assert set(Ticket.objects.values_list("code", flat=True)) == expected_codes(
        "TECH"
    ) | expected_codes("SAL")


def test_concurrent_replies_on_one_ticket_each_count_once(department):
    """The message count and the time spent are added on the locked row: no reply's
    addition is lost, and each caller sees the count its own reply made."""
    from wagtail_tickets import workflow

    agent = factories.make_agent("racer", departments=[department])
    ticket = factories.open_ticket(department, subject="Busy")

    def reply(index):
        counts = []
        for n in range(PER_THREAD):
            copy = Ticket.objects.get(pk=ticket.pk)
            workflow.post_reply(
                copy,
                body=f"Reply {index}.{n}",
                author=agent,
                by_staff=True,
                is_internal=bool(n % 2),
                time_spent_minutes=2,
            )
            counts.append(copy.message_count)
        return counts

    counts = run_in_threads(reply)

    saved = Ticket.objects.get(pk=ticket.pk)
    assert saved.message_count == 1 + TOTAL == Message.objects.filter(ticket=saved).count()
    assert saved.time_spent_minutes == 2 * TOTAL
    assert sorted(counts) == list(range(2, TOTAL + 2)), "each reply saw its own count"
