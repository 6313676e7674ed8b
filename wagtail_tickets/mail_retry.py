"""Notification mail the mail server could not take now goes out again later.

A notification task that meets a refused connection, a timeout or a temporary (4xx)
SMTP answer enqueues itself again with ``run_after`` further off each time
(``RETRY_DELAYS``: 10 s, 30 s, 1 min, … up to an hour apart, about 4½ hours in all),
carrying the keys of the mails of its event that were already handed over, so that a
customer whose confirmation went out before the server fell over does not get it twice.
A permanent refusal (5xx) is not retried.

Under ``helpdesk_worker`` each key is also written into the task's row as soon as its
mail is handed over (``journal``), in one transaction with the mail's stored Message-ID,
so a task handed back after its worker was killed skips those mails too. A kill between
the mail server's taking the mail and that commit cannot be told from one just before
it (SMTP's own duplicate window, RFC 1047): the task run again sends that one mail
again, and sends it with the same Message-ID (``message_token``), so that the receiving
side knows it for the same message and the thread stays one.

This needs a task backend that can run a task later (``supports_defer``: django-tasks-db's
worker). django_tasks' ``ImmediateBackend`` cannot; there the error is raised and
logged as before (``background.enqueue``).
"""

import base64
import functools
import logging
import secrets
import smtplib
import sys
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)

#: Seconds before each further attempt; after the last one the task fails.
RETRY_DELAYS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 3600, 3600)

_sent = ContextVar("wagtail_tickets_mail_retry_sent", default=None)
_journal = ContextVar("wagtail_tickets_mail_retry_journal", default=None)
_seed = ContextVar("wagtail_tickets_mail_retry_seed", default=None)


def is_temporary(error):
    """Whether the mail server may take the mail if asked again later."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, smtplib.SMTPException | OSError)


def mail_key(template, recipients):
    return f"{template}:{','.join(recipients)}"


def already_sent(key):
    """Whether an earlier attempt of the running task handed this mail over."""
    sent = _sent.get()
    return sent is not None and key in sent


def mark_sent(key):
    sent = _sent.get()
    if sent is not None and key not in sent:
        sent.append(key)
        save = _journal.get()
        if save is not None:
            save(list(sent))


def recording():
    """Around what records that a mail was handed over (its Message-ID, ``mark_sent``):
    under a journal, one transaction, so a kill leaves both or neither."""
    return transaction.atomic() if _journal.get() is not None else nullcontext()


def message_token(key):
    """The unique part of the Message-ID of mail ``key``: random, except while a worker
    runs a task of ``run``'s (``journal``; such a task sends one mail a key), where it
    is derived from the task and the key, so the task run again after a kill gives a
    mail it sends again the same Message-ID. Keyed with SECRET_KEY: a stranger cannot
    guess the Message-IDs that thread mail into a ticket."""
    derived = key is not None and _derived("wagtail_tickets.mail_retry", key, "sha1")
    return derived.hexdigest()[:24] if derived else secrets.token_hex(12)


def run_secret(purpose):
    """A secret that the running task derives the same in every run, like
    ``message_token``, or None (then make a random one): for a mail that carries a
    secret of its own, so that the mail sent again after a kill is the same mail.
    Keyed with SECRET_KEY; 192 bits, URL-safe."""
    derived = _derived("wagtail_tickets.mail_retry.secret", purpose, "sha256")
    return base64.urlsafe_b64encode(derived.digest()[:24]).decode() if derived else None


def _derived(salt, name, algorithm):
    """The HMAC of the running task's seed and ``name``, or None outside a worker's
    task of ``run``'s."""
    seed = _seed.get()
    if seed is None or _sent.get() is None:
        return None
    return salted_hmac(salt, f"{seed}|{name}", algorithm=algorithm)


@contextmanager
def journal(save, seed=None):
    """While a worker runs one task: ``save(keys)`` is called with the keys of the
    mails handed over so far each time there is one more, to keep them where a new
    run of the same task will find them (its ``sent`` argument). ``seed`` names the
    task (its row's id) for ``message_token``."""
    token = _journal.set(save)
    seed_token = _seed.set(seed)
    try:
        yield
    finally:
        _seed.reset(seed_token)
        _journal.reset(token)


def can_defer(task):
    try:
        return bool(task.get_backend().supports_defer)
    except Exception:  # an unknown backend: enqueue() says so where it matters
        return False


def schedule(task, kwargs, attempt, sent=()):
    """Enqueue ``task`` for its ``attempt``-th try (1 is the first retry); False when
    there is no later attempt to make."""
    if attempt > len(RETRY_DELAYS) or not can_defer(task):
        return False
    delay = RETRY_DELAYS[attempt - 1]
    task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
        **kwargs, attempt=attempt, sent=list(sent)
    )
    logger.warning(
        "Mail server unavailable: %s retried in %s s (try %s)", task.name, delay, attempt + 1
    )
    return True


def run(task, kwargs, work):
    """``work(**kwargs)``, enqueued again later if the mail server refused for now.

    ``kwargs`` holds the task's arguments with its ``attempt`` and ``sent`` keys.
    """
    kwargs = dict(kwargs)
    attempt = int(kwargs.pop("attempt", 0) or 0)
    sent = list(kwargs.pop("sent", None) or [])
    token = _sent.set(sent)
    try:
        return work(**kwargs)
    except Exception as error:
        if not is_temporary(error) or not schedule(task, kwargs, attempt + 1, sent):
            raise
        return {"retried": attempt + 1, "error": type(error).__name__}
    finally:
        _sent.reset(token)


def retried(work):
    """A task's function (under ``@task()``) whose mails go through ``run``: the task is
    enqueued again while the mail server refuses, and a new run skips the mails an
    earlier one handed over. The task takes ``attempt`` and ``sent`` besides the
    function's own keyword arguments."""

    @functools.wraps(work)
    def task_function(attempt=0, sent=(), **kwargs):
        # The task object the decorator's result became, to enqueue it again.
        task = getattr(sys.modules[work.__module__], work.__name__)
        return run(task, {**kwargs, "attempt": attempt, "sent": sent}, work)

    return task_function
