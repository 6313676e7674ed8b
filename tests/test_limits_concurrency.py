"""Write limits under concurrency: simultaneous requests from many connections.

On PostgreSQL (threads, each with its own connection, as separate app servers) the
per-address, per-account, per-ticket and single-use-token limits hold exactly. On
SQLite a burst against a database file (in a child process, one connection per thread)
is answered cleanly: never a 500, never more tickets than the limit.
"""

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from tests import factories
from wagtail_tickets import captcha
from wagtail_tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BURST = 20
LIMIT = 10
REPO = Path(__file__).resolve().parent.parent


def at_once(count, work):
    """Run ``work(index)`` in ``count`` threads released together; return the results."""
    barrier = threading.Barrier(count)
    results, errors, lock = [], [], threading.Lock()

    def run(index):
        try:
            barrier.wait(timeout=30)
            result = work(index)
            with lock:
                results.append(result)
        except BaseException as error:  # noqa: B036 - reported to the test below
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert not errors, errors
    return results


def _submission(index):
    return {
        "name": f"Visitor {index}",
        "email": f"visitor{index}@example.com",
        "subject": f"Burst {index}",
        "message": "Everyone writes at once.",
    }


@pytest.fixture
def department():
    helpdesk = factories.make_helpdesk()
    return factories.make_department(helpdesk, title="Technical support", prefix="TECH")


# --- PostgreSQL --------------------------------------------------------------------------


@pytest.mark.postgres
def test_twenty_simultaneous_anonymous_submissions_store_exactly_the_limit(department):
    factories.site_settings(captcha_mode="none", anonymous_tickets_per_hour=LIMIT)

    def submit(index):
        response = Client().post(department.url, _submission(index), REMOTE_ADDR="203.0.113.9")
        return response.status_code

    statuses = at_once(BURST, submit)
    assert sorted(statuses) == [302] * LIMIT + [429] * (BURST - LIMIT)
    assert Ticket.objects.count() == LIMIT


@pytest.mark.postgres
def test_simultaneous_submissions_of_one_account_hold_its_limit(department):
    factories.site_settings(captcha_mode="none", tickets_per_user_per_hour=LIMIT)
    customer = factories.make_user("alice")

    def submit(index):
        client = Client()
        client.force_login(customer)
        response = client.post(department.url, {"subject": f"S{index}", "message": "x"})
        return response.status_code

    statuses = at_once(BURST, submit)
    assert sorted(statuses) == [302] * LIMIT + [429] * (BURST - LIMIT)
    assert Ticket.objects.filter(customer=customer).count() == LIMIT


@pytest.mark.postgres
def test_a_start_token_sent_many_times_at_once_files_one_ticket(department):
    factories.site_settings(captcha_mode="honeypot", min_fill_seconds=0)
    token = captcha.signed_start()

    def submit(index):
        data = {**_submission(index), "form_started": token, "website": ""}
        return Client().post(department.url, data, REMOTE_ADDR=f"198.51.100.{index}").status_code

    statuses = at_once(BURST, submit)
    assert sorted(statuses) == [302] + [400] * (BURST - 1)
    assert Ticket.objects.count() == 1


@pytest.mark.postgres
def test_simultaneous_replies_to_one_ticket_hold_the_per_minute_limit(department, settings):
    settings.WAGTAIL_TICKETS_CUSTOMER_REPLIES_PER_MINUTE = 5
    ticket, raw = factories.open_ticket_with_token(department)
    url = f"{ticket.helpdesk.url}tickets/{ticket.code}/"
    access = f"{ticket.helpdesk.url}access/{raw}/"

    def reply(index):
        client = Client()
        client.get(access)
        return client.post(url, {"action": "reply", "message": f"Reply {index}"}).status_code

    statuses = at_once(BURST, reply)
    assert sorted(statuses) == [302] * 4 + [429] * (BURST - 4)  # the first message counts
    assert Message.objects.filter(ticket=ticket).count() == 5


# --- SQLite --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["IMMEDIATE", "DEFERRED"])
def test_a_sqlite_burst_never_answers_500_and_holds_the_limit(department, tmp_path, mode):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    factories.site_settings(captcha_mode="none", anonymous_tickets_per_hour=LIMIT)
    copy = tmp_path / "burst.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(copy)
    connection.connection.backup(target)
    target.close()

    env = {
        **os.environ,
        "WT_SQLITE_PATH": str(copy),
        "WT_SQLITE_MODE": mode,
        "WT_MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("WT_DB", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.scripts.sqlite_burst", department.url, str(BURST)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    statuses = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(statuses) == BURST
    assert all(isinstance(status, int) for status in statuses), statuses
    assert not [status for status in statuses if status >= 500 and status != 503], statuses
    stored = sqlite3.connect(copy).execute("SELECT COUNT(*) FROM wagtail_tickets_ticket")
    count = stored.fetchone()[0]
    assert count == statuses.count(302)
    assert count <= LIMIT
    if mode == "IMMEDIATE":
        # Writers queue for the lock: every request is answered, none turned away.
        assert sorted(statuses) == [302] * LIMIT + [429] * (BURST - LIMIT)
