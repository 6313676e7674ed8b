"""A notification travels through django-tasks-db's worker, as in production.

A request (the visitor's ticket form) only enqueues; ``manage.py db_worker``, a separate
process, runs the task and the mail lands. The worker needs to see the request's
database, so this test runs its steps in processes of their own against a file SQLite
database (tests/worker_settings.py) rather than in the test's in-memory database.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

REQUEST = r"""
import django
django.setup()
from django.test import Client
from django_tasks_db.models import DBTaskResult
from tests import factories
from wagtail_tickets.models import HelpdeskSettings

helpdesk = factories.make_helpdesk()
department = factories.make_department(helpdesk, title="Support", prefix="SUP")
factories.site_settings(captcha_mode="none")
response = Client().post(
    department.url,
    {"name": "Ann", "email": "ann@example.com", "subject": "Worker test", "message": "Hi"},
)
assert response.status_code == 302, response.status_code
queued = list(DBTaskResult.objects.values_list("task_path", "status"))
print("QUEUED", queued)
"""


def run(args, env, timeout=300):
    result = subprocess.run(
        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def test_notification_is_delivered_by_the_worker(tmp_path):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.worker_settings",
        WT_WORKER_DB=str(tmp_path / "worker.sqlite3"),
        WT_WORKER_MAIL_DIR=str(mail_dir),
        WT_WORKER_MEDIA=str(tmp_path / "media"),
        PYTHONPATH=str(ROOT),
    )
    env.pop("WT_DB", None)
    admin = [sys.executable, "-m", "django"]
    run([*admin, "migrate", "--verbosity", "0"], env)

    queued = run([sys.executable, "-c", REQUEST], env)
    assert "wagtail_tickets.tasks.send_notification" in queued and "READY" in queued
    assert not list(mail_dir.iterdir()), "the request only enqueued: no mail yet"

    run([*admin, "db_worker", "--batch", "--no-startup-delay"], env)
    mails = "\n".join(path.read_text() for path in mail_dir.iterdir())
    assert "To: ann@example.com" in mails, mails[:2000]
    # The anonymous confirmation names the ticket by its code (it repeats nothing typed).
    assert "SUP-000001" in mails
