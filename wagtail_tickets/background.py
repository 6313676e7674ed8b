"""Enqueue the workflow's side effects so that no visitor waits for them.

A site that follows the README's steps runs django_tasks' ``ImmediateBackend``: a task
runs inside ``enqueue()``. Notifications are enqueued when the workflow's transaction
commits, which is still inside the request, so the visitor would wait for every mail to
be rendered and handed to the mail server. Here, while a request is being served, the
``enqueue()`` of a task bound for an immediate backend is held back and run when the
request has finished: on Django's ``request_finished`` signal, which WSGI and ASGI
servers send after the response has been written to the client (the response's
``close()``). Django's test client closes the response before returning it too, so
tests that read ``mail.outbox`` after a request still find the mail.

The work still runs in the web process, just after the response: fine for a small
site. A real worker backend (django-tasks-db's ``DatabaseBackend``, see README "In
production") is enqueued at once, in the request: one INSERT, and the worker does the
rest. Outside a request (management commands, mail intake, the shell) tasks are
enqueued at once as before.

A failure is logged, never raised: the ticket is saved, and the visitor has already
had their answer.

The workflow tells of its changes with signals sent when its transaction commits
(``announce``). The package's own receivers that only enqueue a task
(``queue_receiver``) run earlier when the tasks are rows of the workflow's own database
(django-tasks-db): inside the transaction, so the task commits with the ticket or
reply it is about, or not at all. A web process that dies just after the commit
therefore loses no mail. Other receivers, a site's own included, still hear the signal
after the commit, once.
"""

import functools
import logging
from contextvars import ContextVar

from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, router, transaction

logger = logging.getLogger(__name__)

_pending = ContextVar("wagtail_tickets_pending_tasks", default=None)
#: While a signal is sent after commit: its queue receivers that already ran in the
#: transaction.
_ran_in_transaction = ContextVar("wagtail_tickets_ran_in_transaction", default=frozenset())
_queue_receivers = {}


def _immediate_backend_classes():
    classes = []
    try:
        from django_tasks.backends.immediate import ImmediateBackend

        classes.append(ImmediateBackend)
    except ImportError:  # pragma: no cover - Django's own tasks framework instead
        pass
    try:  # Django 6's django.tasks, should a site use it
        from django.tasks.backends.immediate import ImmediateBackend as DjangoImmediate

        classes.append(DjangoImmediate)
    except ImportError:
        pass
    return tuple(classes)


_IMMEDIATE = _immediate_backend_classes()


def runs_in_process(task):
    """Whether ``task.enqueue()`` would run the task right away, in this process."""
    try:
        return isinstance(task.get_backend(), _IMMEDIATE)
    except Exception:  # an unknown backend alias: enqueue() will say so
        return False


def stores_in_database(task):
    """Whether ``task.enqueue()`` writes a row of the workflow's database, which then
    commits or rolls back with the workflow's transaction."""
    try:
        backend = task.get_backend()
    except Exception:  # an unknown backend alias: enqueue() will say so
        return False
    if type(backend).__module__.partition(".")[0] != "django_tasks_db":
        return False  # cheap: every write asks, and most sites run another backend
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    return isinstance(backend, DatabaseBackend) and (
        router.db_for_write(DBTaskResult) == DEFAULT_DB_ALIAS
    )


def enqueue(task, **kwargs):
    """``task.enqueue(**kwargs)``, after the response when it would run in-process."""
    pending = _pending.get()
    if pending is not None and runs_in_process(task):
        pending.append((task, kwargs))
        return None
    return _enqueue_now(task, kwargs)


def _enqueue_now(task, kwargs):
    try:
        if transaction.get_connection().in_atomic_block and stores_in_database(task):
            # A savepoint: a failing INSERT leaves the workflow's transaction usable.
            with transaction.atomic():
                return task.enqueue(**kwargs)
        return task.enqueue(**kwargs)
    except Exception:
        logger.exception("Could not run or enqueue %s(%s)", task.name, kwargs)
        return None


def queue_receiver(signal, task):
    """Connect the decorated function to ``signal`` as a receiver that only enqueues
    ``task`` (by ``enqueue``; or tasks on the same backend): ``announce`` runs it inside
    the workflow's transaction when the task's rows live in that database."""

    def decorator(function):
        _queue_receivers.setdefault(signal, []).append((function, task))

        @functools.wraps(function)
        def receiver(sender, **kwargs):
            if function in _ran_in_transaction.get():
                return None
            return function(sender, **kwargs)

        uid = f"{function.__module__}.{function.__qualname__}"
        signal.connect(receiver, weak=False, dispatch_uid=uid)
        return function

    return decorator


def announce(signal, sender, **kwargs):
    """Send ``signal`` once the current transaction commits (at once outside one); its
    queue receivers whose task stores rows in this database run now, in it."""
    early = [f for f, task in _queue_receivers.get(signal, ()) if stores_in_database(task)]
    if not early or not transaction.get_connection().in_atomic_block:
        transaction.on_commit(functools.partial(signal.send, sender=sender, **kwargs))
        return
    for function in early:
        function(sender, signal=signal, **kwargs)
    ran = frozenset(early)
    transaction.on_commit(functools.partial(_send_without, ran, signal, sender, kwargs))


def _send_without(ran, signal, sender, kwargs):
    token = _ran_in_transaction.set(ran)
    try:
        signal.send(sender=sender, **kwargs)
    finally:
        _ran_in_transaction.reset(token)


def enqueue_on_commit(task, **kwargs):
    """``enqueue`` when the transaction commits, or in it when the task's rows live in
    this database (as ``announce`` does for queue receivers)."""
    if stores_in_database(task) and transaction.get_connection().in_atomic_block:
        return _enqueue_now(task, kwargs)
    transaction.on_commit(functools.partial(enqueue, task, **kwargs))
    return None


def run_pending():
    """Run what the current request held back (``request_finished``)."""
    pending = _pending.get()
    if not pending:
        return 0
    _pending.set(None)
    count = 0
    # A task may enqueue more (a digest); those run at once now that we are past the
    # response.
    for task, kwargs in pending:
        _enqueue_now(task, kwargs)
        count += 1
    _send_due_digests()
    return count


def _send_due_digests():
    """Held customer replies whose window has closed (digests.py): an in-process backend
    cannot run a task later, so the next helpdesk write sends them, after its response.
    One indexed query when there are none."""
    from . import digests

    try:
        digests.send_due()
    except Exception:
        logger.exception("Could not send the due reply digests")


def _on_request_started(**kwargs):
    _pending.set([])


def _on_request_finished(**kwargs):
    try:
        run_pending()
    finally:
        _pending.set(None)


def connect():
    request_started.connect(_on_request_started, dispatch_uid="wagtail_tickets_background_start")
    request_finished.connect(_on_request_finished, dispatch_uid="wagtail_tickets_background_end")
