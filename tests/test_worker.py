"""A notification travels through django-tasks-db's worker, as in production.

A request (the visitor's ticket form) only enqueues; ``manage.py db_worker``, a separate
process, runs the task and the mail lands. The worker needs to see the request's
database, so this test runs its steps in processes of their own against a file SQLite
database (tests/worker_settings.py) rather than in the test's in-memory database.
"""

import os
import re
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


#: The task worker of one supervisor slot, as production starts it (the same id each time).
SLOT_WORKER = [
    sys.executable,
    "-m",
    "django",
    "helpdesk_worker",
    "--batch",
    "--no-startup-delay",
    "--worker-id",
    "mail-1",
]


def worker_env(tmp_path):
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
    return env, mail_dir


def received(mail_dir):
    """Every mail the worker wrote to the file backend's folder, as one text."""
    return "\n".join(path.read_text() for path in mail_dir.iterdir())


def queued_ticket(tmp_path):
    """A migrated worker database holding one new ticket with its mails queued;
    returns the environment, the mail folder and what the request printed."""
    env, mail_dir = worker_env(tmp_path)
    run([sys.executable, "-m", "django", "migrate", "--verbosity", "0"], env)
    return env, mail_dir, run([sys.executable, "-c", REQUEST], env)


def test_notification_is_delivered_by_the_worker(tmp_path):
    env, mail_dir, queued = queued_ticket(tmp_path)
    admin = [sys.executable, "-m", "django"]
    assert "wagtail_tickets.tasks.send_notification" in queued and "READY" in queued
    assert not list(mail_dir.iterdir()), "the request only enqueued: no mail yet"

    run([*admin, "db_worker", "--batch", "--no-startup-delay"], env)
    mails = received(mail_dir)
    assert "To: ann@example.com" in mails, mails[:2000]
    # The anonymous confirmation names the ticket by its code (it repeats nothing typed).
    assert "SUP-000001" in mails


KILLED = r"""
import django
django.setup()
from django.test import Client
from django_tasks_db.models import DBTaskResult
from wagtail_tickets.models import DepartmentPage

department = DepartmentPage.objects.get()
first = list(DBTaskResult.objects.values_list("pk", flat=True))
response = Client().post(
    department.url,
    {"name": "Bob", "email": "bob@example.com", "subject": "Second", "message": "Hi"},
)
assert response.status_code == 302, response.status_code
# All were being run: the first ticket's by this slot's worker, which was killed, the
# second's by another slot's worker, which is still alive.
DBTaskResult.objects.filter(pk__in=first).update(status="RUNNING", worker_ids=["mail-1"])
DBTaskResult.objects.exclude(pk__in=first).update(status="RUNNING", worker_ids=["mail-2"])
"""

OUTAGE = r"""
import django
django.setup()
from django.core.management import call_command
from django.db import InterfaceError
from django_tasks_db.management.commands import db_worker
from wagtail_tickets.management.commands import helpdesk_worker

helpdesk_worker.FIRST_WAIT = 0.01
real_run = db_worker.Worker.run
calls = []

def run_once_broken(self):
    calls.append(1)
    if len(calls) == 1:
        raise InterfaceError("connection already closed")  # the server restarted
    return real_run(self)

db_worker.Worker.run = run_once_broken
call_command("helpdesk_worker", "--batch", "--no-startup-delay", "--worker-id", "mail-1")
print("RUNS", len(calls))
"""


def test_helpdesk_worker_sends_what_its_killed_predecessor_left_running(tmp_path):
    env, mail_dir, _queued = queued_ticket(tmp_path)
    admin = [sys.executable, "-m", "django"]
    run([sys.executable, "-c", KILLED], env)

    # db_worker never runs a task left RUNNING: the mail would never go.
    run([*admin, "db_worker", "--batch", "--no-startup-delay", "--worker-id", "mail-1"], env)
    assert not list(mail_dir.iterdir())

    run(SLOT_WORKER, env)
    mails = received(mail_dir)
    assert "To: ann@example.com" in mails, mails[:2000]
    # The other slot's task is not taken from it: its worker may still be running it.
    assert "To: bob@example.com" not in mails
    left = run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django_tasks_db.models import DBTaskResult; "
            "print(sorted({(s, tuple(w)) for s, w in "
            "DBTaskResult.objects.values_list('status', 'worker_ids')}))",
        ],
        env,
    )
    assert left.strip() == "[('RUNNING', ('mail-2',)), ('SUCCESSFUL', ('mail-1', 'mail-1'))]"


def test_helpdesk_worker_carries_on_after_the_database_went_away(tmp_path):
    env, mail_dir, _queued = queued_ticket(tmp_path)
    out = run([sys.executable, "-c", OUTAGE], env)
    assert "RUNS 2" in out, out
    mails = received(mail_dir)
    assert "To: ann@example.com" in mails, mails[:2000]


IN_TASK = r"""
import django
django.setup()
from django.core.management import call_command
from django.db import OperationalError
from wagtail_tickets import notifications
from wagtail_tickets.management.commands import helpdesk_worker

helpdesk_worker.FIRST_WAIT = 0.01
real_send = notifications.ticket_opened
calls = []

def send_once_broken(*args, **kwargs):
    calls.append(1)
    if len(calls) == 1:
        # What SQLite says when another process holds the write lock too long.
        raise OperationalError("database is locked")
    return real_send(*args, **kwargs)

notifications.ticket_opened = send_once_broken
call_command("%s", "--batch", "--no-startup-delay", "--worker-id", "mail-1")
print("CALLS", len(calls))
"""

STATUSES = (
    "import django; django.setup(); from django_tasks_db.models import DBTaskResult; "
    "print(sorted(DBTaskResult.objects.values_list('status', flat=True)))"
)


def test_a_task_that_meets_a_database_failure_runs_again(tmp_path):
    env, mail_dir, _queued = queued_ticket(tmp_path)
    out = run([sys.executable, "-c", IN_TASK % "helpdesk_worker"], env)
    assert "CALLS 2" in out, out
    mails = received(mail_dir)
    assert "To: ann@example.com" in mails, mails[:2000]
    assert "FAILED" not in run([sys.executable, "-c", STATUSES], env)


def test_db_worker_loses_the_mail_of_a_task_that_met_a_database_failure(tmp_path):
    """What helpdesk_worker is for: the same failure under db_worker fails the task."""
    env, mail_dir, _queued = queued_ticket(tmp_path)
    out = run([sys.executable, "-c", IN_TASK % "db_worker"], env)
    assert "CALLS 1" in out, out
    assert not list(mail_dir.iterdir())
    assert "FAILED" in run([sys.executable, "-c", STATUSES], env)


KILLED_AFTER_ONE_MAIL = r"""
import os
import signal

import django
django.setup()
from django.core.mail.backends.filebased import EmailBackend
from django.core.management import call_command
from tests import factories
from wagtail_tickets.models import DepartmentPage

# The department's agent is told of the new ticket too: the event has two mails.
factories.make_agent("agent", departments=[DepartmentPage.objects.get()])
real_send = EmailBackend.send_messages
calls = []

def die_before_the_second(self, messages):
    calls.append(1)
    if len(calls) == 2:
        # The first mail is handed over and the task's row says nothing of success.
        os.kill(os.getpid(), signal.SIGKILL)
    return real_send(self, messages)

EmailBackend.send_messages = die_before_the_second
call_command("helpdesk_worker", "--batch", "--no-startup-delay", "--worker-id", "mail-1")
"""


def test_a_task_run_again_after_a_kill_skips_the_mails_already_handed_over(tmp_path):
    env, mail_dir, _queued = queued_ticket(tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_ONE_MAIL], env=env, cwd=ROOT, timeout=300
    )
    assert killed.returncode == -9
    assert len(list(mail_dir.iterdir())) == 1, "killed after handing over one mail of two"

    run(SLOT_WORKER, env)
    mails = [path.read_text() for path in mail_dir.iterdir()]
    recipients = sorted(
        line for mail in mails for line in mail.splitlines() if line.startswith("To: ")
    )
    # The confirmation and the agent's notice, each once: the run after the kill read
    # from the task's row which mail had gone.
    assert recipients == ["To: agent@example.com", "To: ann@example.com"], recipients
    assert "FAILED" not in run([sys.executable, "-c", STATUSES], env)


KILLED_AFTER_HANDING_OVER = r"""
import os
import signal

import django
django.setup()
from django.core.mail.backends.filebased import EmailBackend
from django.core.management import call_command
from tests import factories
from wagtail_tickets.models import DepartmentPage

factories.make_agent("agent", departments=[DepartmentPage.objects.get()])
real_send = EmailBackend.send_messages

def die_once_taken(self, messages):
    sent = real_send(self, messages)
    # The server has the mail; the worker dies before it can write that down.
    os.kill(os.getpid(), signal.SIGKILL)
    return sent

EmailBackend.send_messages = die_once_taken
call_command("helpdesk_worker", "--batch", "--no-startup-delay", "--worker-id", "mail-1")
"""

MAIL_IDS = (
    "import django; django.setup(); from wagtail_tickets.models import TicketMailId; "
    "print(sorted(TicketMailId.objects.filter(outgoing=True).values_list('mail_id', flat=True)))"
)


def test_a_mail_sent_again_after_a_kill_keeps_its_message_id(tmp_path):
    """SMTP's duplicate window (RFC 1047): killed after the server took a mail and before
    that was recorded, the task runs again and sends it again, as the same message."""
    env, mail_dir, _queued = queued_ticket(tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_HANDING_OVER], env=env, cwd=ROOT, timeout=300
    )
    assert killed.returncode == -9
    (first,) = [path.read_text() for path in mail_dir.iterdir()]
    assert run([sys.executable, "-c", MAIL_IDS], env).strip() == "[]"

    run(SLOT_WORKER, env)

    def header(mail, name):
        (value,) = [line for line in mail.splitlines() if line.startswith(name + ": ")]
        return value.split(": ", 1)[1]

    mails = [path.read_text() for path in mail_dir.iterdir()]
    by_recipient = {}
    for mail in mails:
        by_recipient.setdefault(header(mail, "To"), []).append(header(mail, "Message-ID"))
    again = header(first, "To")
    # The mail in flight at the kill went twice, both times as one message; the other once.
    assert by_recipient.pop(again) == [header(first, "Message-ID")] * 2
    assert [len(ids) for ids in by_recipient.values()] == [1]
    # Stored once each, so replies to either copy find the ticket.
    stored = run([sys.executable, "-c", MAIL_IDS], env).strip()
    expected = sorted([header(first, "Message-ID"), *by_recipient.popitem()[1]])
    assert stored == repr(expected)
    assert "FAILED" not in run([sys.executable, "-c", STATUSES], env)


ASK_FOR_LINKS = r"""
import django
django.setup()
from wagtail_tickets import tasks
from wagtail_tickets.models import HelpdeskPage

tasks.send_access_links.enqueue(
    email="ann@example.com", helpdesk_id=HelpdeskPage.objects.get().pk, language="en"
)
"""
LINKS_STORED = (
    "import django; django.setup(); from wagtail_tickets.models import AccessLink; "
    "print(sorted(AccessLink.objects.values_list('token_hash', flat=True)))"
)


def test_links_mailed_again_after_a_kill_are_the_links_that_work(tmp_path):
    """The "find my ticket" mail issues its links in the transaction that records it:
    killed after the server took it, the task runs again and must mail the same links
    (the first copy's would otherwise never have been stored), as the same message."""
    from email import message_from_bytes

    from wagtail_tickets.models.tickets import hash_token

    env, mail_dir, _queued = queued_ticket(tmp_path)
    run(SLOT_WORKER, env)  # the ticket's own mails
    before = set(mail_dir.iterdir())
    run([sys.executable, "-c", ASK_FOR_LINKS], env)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_HANDING_OVER], env=env, cwd=ROOT, timeout=300
    )
    assert killed.returncode == -9
    assert run([sys.executable, "-c", LINKS_STORED], env).strip() == "[]", "rolled back"
    run(SLOT_WORKER, env)

    copies = [message_from_bytes(path.read_bytes()) for path in set(mail_dir.iterdir()) - before]
    assert len(copies) == 2
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"]

    def links(mail):
        texts = [
            part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            for part in mail.walk()
            if part.get_content_type() == "text/plain"
        ]
        return re.findall(r"/access/([A-Za-z0-9_:-]+)/", "".join(texts))

    first, second = links(copies[0]), links(copies[1])
    assert first and first == second
    stored = run([sys.executable, "-c", LINKS_STORED], env).strip()
    assert stored == repr(sorted(hash_token(token) for token in first))
    assert "FAILED" not in run([sys.executable, "-c", STATUSES], env)


CUSTOMER_REPLIES = r"""
import django
django.setup()
from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import DepartmentPage, Ticket

factories.make_agent("agent", departments=[DepartmentPage.objects.get()])
ticket = Ticket.objects.get()
workflow.post_reply(
    ticket, body="Any news on this?", author_name="Ann", author_email="ann@example.com"
)
"""

KILLED_AFTER_THE_BOOKKEEPING = r"""
import os
import signal

import django
django.setup()
from django.core.management import call_command
from django.db import transaction
from wagtail_tickets.models import ReplyDigest

real_save = ReplyDigest.save

def save_then_die_at_commit(self, *args, **kwargs):
    real_save(self, *args, **kwargs)
    # The replies are recorded as mailed; the worker dies as that commits.
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))

ReplyDigest.save = save_then_die_at_commit
call_command("helpdesk_worker", "--batch", "--no-startup-delay", "--worker-id", "mail-1")
"""


def test_a_customer_reply_is_mailed_though_the_worker_died_after_recording_it(tmp_path):
    env, mail_dir, _queued = queued_ticket(tmp_path)
    run(SLOT_WORKER, env)  # the new ticket's mails
    before = set(mail_dir.iterdir())
    run([sys.executable, "-c", CUSTOMER_REPLIES], env)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_THE_BOOKKEEPING], env=env, cwd=ROOT, timeout=300
    )
    assert killed.returncode == -9
    run(SLOT_WORKER, env)
    mails = [path.read_text() for path in set(mail_dir.iterdir()) - before]
    to_agent = [m for m in mails if "To: agent@example.com" in m]
    assert len(to_agent) == 1, mails
    assert "Any news on this?" in to_agent[0]
    assert "FAILED" not in run([sys.executable, "-c", STATUSES], env)


SECOND_REPLY = r"""
import django
django.setup()
from wagtail_tickets import workflow
from wagtail_tickets.models import Ticket

workflow.post_reply(
    Ticket.objects.get(), body="Still waiting.", author_name="Ann", author_email="ann@example.com"
)
"""
DIGESTS = (
    "import django; django.setup(); from django_tasks_db.models import DBTaskResult; "
    "print(list(DBTaskResult.objects.filter(task_path__endswith='send_reply_digest')"
    ".values_list('status', flat=True)))"
)


def test_a_held_reply_keeps_its_digest_though_the_worker_died_after_recording_it(tmp_path):
    env, mail_dir, _queued = queued_ticket(tmp_path)
    run(SLOT_WORKER, env)
    run([sys.executable, "-c", CUSTOMER_REPLIES], env)
    run(SLOT_WORKER, env)  # mailed at once; the window opens
    # A second reply inside the window is held for the digest at the window's end.
    run([sys.executable, "-c", SECOND_REPLY], env)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_THE_BOOKKEEPING], env=env, cwd=ROOT, timeout=300
    )
    assert killed.returncode == -9
    run(SLOT_WORKER, env)
    assert run([sys.executable, "-c", DIGESTS], env).strip() == "['READY']"


def migrated(tmp_path):
    env, mail_dir = worker_env(tmp_path)
    run([sys.executable, "-m", "django", "migrate", "--verbosity", "0"], env)
    return env, mail_dir


DIES_AFTER_COMMIT = r"""
import os
import signal

import django
django.setup()
from django.db import transaction
from tests import factories

department = factories.make_department(factories.make_helpdesk(), title="Support", prefix="SUP")
with transaction.atomic():
    # Runs first once the ticket is committed: the process dies before any of the
    # workflow's after-commit work.
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    factories.open_ticket_with_token(department)
"""


def test_a_web_process_dying_after_the_commit_loses_no_mail(tmp_path):
    """The task row commits with the ticket (background.announce), not after it."""
    env, mail_dir = migrated(tmp_path)
    died = subprocess.run([sys.executable, "-c", DIES_AFTER_COMMIT], env=env, cwd=ROOT, timeout=300)
    assert died.returncode == -9
    admin = [sys.executable, "-m", "django"]
    run([*admin, "helpdesk_worker", "--batch", "--no-startup-delay"], env)
    mails = received(mail_dir) if list(mail_dir.iterdir()) else ""
    assert "To: ann@example.com" in mails, "the confirmation was lost with the process"
    assert "SUP-000001" in mails


SIGNAL_ONCE = r"""
import django
django.setup()
from django.db import transaction
from django_tasks_db.models import DBTaskResult
from tests import factories
from wagtail_tickets import signals

department = factories.make_department(factories.make_helpdesk(), title="Support", prefix="SUP")
mails = DBTaskResult.objects.filter(task_path="wagtail_tickets.tasks.send_notification")
heard = []

def site_receiver(sender, ticket, **kwargs):
    heard.append((ticket.subject, mails.count(), transaction.get_connection().in_atomic_block))

signals.ticket_opened.connect(site_receiver)
try:
    with transaction.atomic():
        factories.open_ticket_with_token(department, subject="Rolled back")
        raise RuntimeError("the caller's transaction fails")
except RuntimeError:
    pass
print("ROLLED BACK", mails.count(), heard)
with transaction.atomic():
    factories.open_ticket_with_token(department, subject="Kept")
    print("INSIDE", mails.count(), heard)
print("COMMITTED", mails.count(), heard)
"""


def test_the_notification_is_queued_in_the_transaction_and_the_signal_sent_after_it(tmp_path):
    env, _mail_dir = migrated(tmp_path)
    out = run([sys.executable, "-c", SIGNAL_ONCE], env).splitlines()
    # Nothing of a rolled-back ticket: neither its task nor its signal.
    assert "ROLLED BACK 0 []" in out, out
    # The task is a row of the open transaction; the site's receiver waits for the commit.
    assert "INSIDE 1 []" in out, out
    # It hears the signal once, outside any transaction, and the task was not queued twice.
    assert "COMMITTED 1 [('Kept', 1, False)]" in out, out
