"""django-tasks-db's ``db_worker``, made to outlive a database restart and a killed
predecessor. Takes every ``db_worker`` option.

    python manage.py helpdesk_worker --worker-id mail-1

- **The database goes away** (PostgreSQL restarts, a failover, a dropped connection):
  ``db_worker`` raises out of its loop and exits, and mail stops until someone starts
  it again. This worker closes its connections, waits (1 s, doubling to 30 s) and
  carries on where it was, as the web processes do (DatabaseUnavailableMiddleware).
- **The previous worker was killed** (SIGKILL, out of memory, power): its task stays
  ``RUNNING`` for ever and its mail is never sent. Started with the same fixed
  ``--worker-id``, this worker first hands that worker's running tasks back to the
  queue: with one process per id (one per supervisor slot), no live worker can hold
  them. Each mail a task hands over is written into its row at once (mail_retry's
  journal), so the task run again skips it; only a kill between the mail server's
  "accepted" and that write sends a mail twice, and then with the same Message-ID.
  Without ``--worker-id`` the id is random and nothing is handed back.
- **The database fails while a task runs** (the connection drops, a deadlock, SQLite
  busy): ``db_worker`` records the task as failed, and its mail is never sent. This
  worker leaves it running under its own id, waits for the database as above and then
  hands it back to the queue, so it runs again, skipping the mails recorded as handed
  over; none is lost.
"""

import logging
import time

from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError, connections
from django.utils.translation import gettext as _

from ... import mail_retry
from ...middleware import database_unavailable

logger = logging.getLogger("wagtail_tickets.worker")

FIRST_WAIT = 1.0
LONGEST_WAIT = 30.0

try:
    from django_tasks_db.management.commands import db_worker
except (ImportError, RuntimeError):  # not installed, or not in INSTALLED_APPS
    db_worker = None


def requeue_orphans(worker_id, backend_name):
    """Hand the tasks ``worker_id`` was running back to the queue; returns how many.
    Only for an id that no running process uses."""
    from django_tasks_db.models import DBTaskResult

    running = DBTaskResult.objects.running().filter(backend_name=backend_name)
    orphans = [
        pk
        for pk, worker_ids in running.values_list("pk", "worker_ids")
        if worker_ids and worker_ids[-1] == worker_id
    ]
    if not orphans:
        return 0
    # The status is checked again in the update: a row finished meanwhile stays so.
    return running.filter(pk__in=orphans).update(status="READY", started_at=None)


def save_sent(db_task_result):
    """What mail_retry's journal calls: the keys go into the running task's
    ``sent`` argument, in its row, so a run after a kill reads them."""
    from django_tasks_db.models import DBTaskResult

    def save(keys):
        args_kwargs = db_task_result.args_kwargs
        kwargs = {**args_kwargs.get("kwargs", {}), "sent": keys}
        args_kwargs = {**args_kwargs, "kwargs": kwargs}
        DBTaskResult.objects.filter(pk=db_task_result.pk, status="RUNNING").update(
            args_kwargs=args_kwargs
        )
        db_task_result.args_kwargs = args_kwargs

    return save


def _close_connections():
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except Exception:  # a broken connection may fail to close; it is dropped anyway
            pass


if db_worker is not None:

    class ResilientWorker(db_worker.Worker):
        def run_task(self, db_task_result):
            record_failure = db_task_result.set_failed

            def set_failed(error):
                if isinstance(error, OperationalError | InterfaceError) and (
                    database_unavailable(error)
                ):
                    # Not the task's fault: out to run(), which waits for the database
                    # and hands the task (still running under this id) back.
                    raise error
                return record_failure(error)

            db_task_result.set_failed = set_failed
            with mail_retry.journal(save_sent(db_task_result), seed=str(db_task_result.pk)):
                return super().run_task(db_task_result)

        def run(self):
            wait = FIRST_WAIT
            requeued = False
            while self.running:
                try:
                    if not requeued:
                        count = requeue_orphans(self.worker_id, self.backend_name)
                        requeued = True
                        if count:
                            logger.warning(
                                "Handed %d task(s) left running by worker %s back to the queue",
                                count,
                                self.worker_id,
                            )
                    return super().run()
                except (OperationalError, InterfaceError) as error:
                    if not database_unavailable(error):
                        raise
                    logger.warning("Database unavailable (%s); trying again in %.0f s", error, wait)
                    _close_connections()
                    # A task interrupted by the outage may be left running: look again.
                    requeued = False
                    self.running_task = False
                    time.sleep(wait)
                    wait = min(wait * 2, LONGEST_WAIT)
            return None

    class Command(db_worker.Command):
        help = _(
            "Run the task worker (django-tasks-db's db_worker) so that it survives "
            "database restarts and takes back the tasks of a killed worker of the same id"
        )

        def handle(self, *args, **options):
            original = db_worker.Worker
            db_worker.Worker = ResilientWorker
            try:
                return super().handle(*args, **options)
            finally:
                db_worker.Worker = original

else:
    from django.core.management.base import BaseCommand

    class Command(BaseCommand):
        help = _("Run the task worker (needs the 'worker' extra: django-tasks-db)")

        def add_arguments(self, parser):
            parser.add_argument("args", nargs="*")

        def handle(self, *args, **options):
            raise CommandError(
                _(
                    "helpdesk_worker needs django-tasks-db: pip install "
                    "'wagtail-tickets[worker]', add 'django_tasks_db' to INSTALLED_APPS and "
                    "set TASKS to its DatabaseBackend"
                )
            )
