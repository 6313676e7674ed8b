"""A burst of simultaneous requests against a SQLite database file, one connection per
thread, as several app server processes would make them.

Run by tests/test_limits_concurrency.py with WT_SQLITE_PATH naming a copy of the test
database (and WT_SQLITE_MODE the transaction mode); prints the status codes as JSON.

    python -m tests.scripts.sqlite_burst URL COUNT
"""

import json
import os
import sys
import threading

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def main(url, count):
    barrier = threading.Barrier(count)
    statuses, lock = [], threading.Lock()

    def submit(index):
        client = Client(raise_request_exception=False)
        try:
            barrier.wait(timeout=60)
            response = client.post(
                url,
                {
                    "name": f"Visitor {index}",
                    "email": f"visitor{index}@example.com",
                    "subject": f"Burst {index}",
                    "message": "Everyone writes at once.",
                },
                REMOTE_ADDR="203.0.113.50",
            )
            status = response.status_code
        except Exception as error:  # reported with the statuses
            status = repr(error)
        finally:
            connection.close()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    print(json.dumps(statuses))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
