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
"""

import logging
from contextvars import ContextVar

from django.core.signals import request_finished, request_started

logger = logging.getLogger(__name__)

_pending = ContextVar("wagtail_tickets_pending_tasks", default=None)


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


def enqueue(task, **kwargs):
    """``task.enqueue(**kwargs)``, after the response when it would run in-process."""
    pending = _pending.get()
    if pending is not None and runs_in_process(task):
        pending.append((task, kwargs))
        return None
    return _enqueue_now(task, kwargs)


def _enqueue_now(task, kwargs):
    try:
        return task.enqueue(**kwargs)
    except Exception:
        logger.exception("Could not run or enqueue %s(%s)", task.name, kwargs)
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
