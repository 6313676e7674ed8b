"""The test-mail limit holds when one editor's requests arrive at once (PostgreSQL: real
row locks and commits)."""

import threading

import pytest
from django.db import connection

from tests import factories
from wagtail_tickets.admin import notification_templates as screens
from wagtail_tickets.mail import events

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THREADS = 10
LIMIT = 3


def test_concurrent_test_mails_take_at_most_the_limit(settings):
    settings.WAGTAIL_TICKETS_NOTIFICATION_TEST_MAILS_PER_HOUR = LIMIT
    editor = factories.make_manager("racer", codenames=["manage_notification_templates"])
    event = events.get("staff_replied")
    barrier = threading.Barrier(THREADS)
    results, errors, lock = [], [], threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=30)
            taken = screens.take_test_slot(editor, event, "en")
            with lock:
                results.append(taken)
        except BaseException as error:  # noqa: B036 - reported below
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert results.count(True) == LIMIT and len(results) == THREADS
