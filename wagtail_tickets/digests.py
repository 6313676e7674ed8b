"""One staff mail for a burst of customer replies to a ticket.

The window (``WAGTAIL_TICKETS_REPLY_DIGEST_SECONDS``, default 300) starts with a mail:

- A customer reply when no window is open is mailed **at once**, alone (the staff learn
  of new activity without delay), and opens a window.
- Replies inside the window are held. When the window closes, **one** digest mail shows
  every held reply, oldest first, and opens the next window; a customer who keeps
  writing thus causes at most one mail per window.
- The digest is sent by a task scheduled for the window's end where the task backend can
  run a task later (``supports_defer``: django-tasks-db's worker). django_tasks'
  ``ImmediateBackend`` cannot, so there the held replies go out when the next helpdesk
  write of any visitor has been answered (``background.run_pending``), or when
  ``manage.py helpdesk_send_digests`` runs (cron, every minute); the README says so.

The bookkeeping lives in ``ReplyDigest`` (one row per ticket, updated under its row
lock so that two workers never mail the same reply twice). Mail is sent after that
transaction, so a slow mail server never holds a lock; a failed send is logged. Where
tasks are rows of the same database (django-tasks-db), the mail is a task
(``mail_customer_replies``) enqueued in that transaction instead: a worker killed after
the commit would otherwise have recorded the replies as mailed and never mailed them.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import conf

logger = logging.getLogger(__name__)

#: At most this many replies are quoted in one mail; the rest are counted.
MAX_SHOWN = 20
#: Digests sent per sweep: the sweep runs after a visitor's response, keep it short.
SWEEP_LIMIT = 20


def window():
    return timedelta(seconds=max(0, int(conf.get("REPLY_DIGEST_SECONDS") or 0)))


def _pending_messages(ticket_id, after_id, up_to_id=None):
    """The customer's public messages after ``after_id`` (the newest MAX_SHOWN, oldest
    first) and how many more there are."""
    from .models import Message

    messages = Message.objects.filter(
        ticket_id=ticket_id, pk__gt=after_id, is_staff_reply=False, is_internal=False
    )
    if up_to_id is not None:
        messages = messages.filter(pk__lte=up_to_id)
    newest = list(messages.order_by("-pk").prefetch_related("attachments")[: MAX_SHOWN + 1])
    more = 0
    if len(newest) > MAX_SHOWN:
        more = messages.count() - MAX_SHOWN
        newest = newest[:MAX_SHOWN]
    return list(reversed(newest)), more


def _locked_digest(ticket_id):
    from .models import ReplyDigest

    try:
        with transaction.atomic():
            ReplyDigest.objects.get_or_create(ticket_id=ticket_id)
    except IntegrityError:  # created by a concurrent task, or the ticket is gone
        pass
    return ReplyDigest.objects.select_for_update().filter(ticket_id=ticket_id).first()


def _tasks_in_database():
    from . import background, tasks

    return background.stores_in_database(tasks.mail_customer_replies)


def _queue_mail(ticket_id, messages, more):
    """In the bookkeeping's transaction: the replies' mail as a task row that commits
    with it. False where tasks are not rows of this database; the caller then mails
    after the commit."""
    from . import background, tasks

    if not messages or not _tasks_in_database():
        return False
    queued = background.enqueue(
        tasks.mail_customer_replies,
        ticket_id=ticket_id,
        message_ids=[m.pk for m in messages],
        more=more,
    )
    return queued is not None


def _mail(ticket_id, messages, more):
    from . import mail_retry, notifications, tasks

    ticket = tasks._load_ticket(ticket_id)
    if ticket is None or not messages:
        return 0
    try:
        return notifications.customer_replies(ticket, messages, more=more)
    except Exception as error:
        # The replies already count as mailed (the window's bookkeeping is committed):
        # while the mail server refuses, a task of their own tries again later.
        if mail_retry.is_temporary(error):
            try:
                if mail_retry.schedule(
                    tasks.mail_customer_replies,
                    {"ticket_id": ticket_id, "message_ids": [m.pk for m in messages], "more": more},
                    attempt=1,
                ):
                    return 0
            except Exception:
                logger.exception("Could not schedule the replies' mail of ticket %s", ticket_id)
        logger.exception("Could not mail the staff about replies on ticket %s", ticket_id)
        return 0


def customer_replied(ticket_id, message_id):
    """A customer's reply was saved: mail it now, or hold it for the window's digest."""
    from .models import Message

    span = window()
    if not span:
        message = Message.objects.filter(pk=message_id).prefetch_related("attachments").first()
        return _mail(ticket_id, [message] if message else [], 0)
    now = timezone.now()
    schedule_at = None
    messages, more = [], 0
    with transaction.atomic():
        digest = _locked_digest(ticket_id)
        if digest is None or digest.mailed_up_to >= message_id:
            return 0  # the ticket is gone, or an earlier mail already showed this reply
        if digest.window_ends_at is None or now >= digest.window_ends_at:
            messages, more = _pending_messages(ticket_id, digest.mailed_up_to, message_id)
            digest.mailed_up_to = message_id
            digest.window_ends_at = now + span
            digest.due_at = None
        elif digest.due_at is None:
            digest.due_at = schedule_at = digest.window_ends_at
        digest.save()
        queued = _queue_mail(ticket_id, messages, more)
        if schedule_at is not None and _tasks_in_database():
            # Committed with the bookkeeping, as the mail above.
            _schedule(ticket_id, schedule_at)
            schedule_at = None
    if schedule_at is not None:
        _schedule(ticket_id, schedule_at)
    return 0 if queued else _mail(ticket_id, messages, more)


def _schedule(ticket_id, when):
    from .tasks import send_reply_digest

    try:
        backend = send_reply_digest.get_backend()
        if backend.supports_defer:
            # A savepoint inside the bookkeeping's transaction: a failing INSERT leaves
            # it usable.
            with transaction.atomic():
                send_reply_digest.using(run_after=when).enqueue(ticket_id=ticket_id)
    except Exception:
        # The sweep (helpdesk_send_digests, or the next write) still finds it.
        logger.exception("Could not schedule the reply digest of ticket %s", ticket_id)


def send_due(*, ticket_id=None, force=False, limit=SWEEP_LIMIT):
    """Send the digests whose window has closed; returns the number of mails sent.

    ``force`` sends a scheduled digest even if the worker ran it a moment early.
    """
    from .models import ReplyDigest

    now = timezone.now()
    due = ReplyDigest.objects.filter(due_at__isnull=False)
    if ticket_id is not None:
        due = due.filter(ticket_id=ticket_id)
    if not force:
        due = due.filter(due_at__lte=now)
    sent = 0
    for candidate in list(due.order_by("due_at").values_list("ticket_id", flat=True)[:limit]):
        with transaction.atomic():
            digest = ReplyDigest.objects.select_for_update().filter(ticket_id=candidate).first()
            if digest is None or digest.due_at is None or (not force and digest.due_at > now):
                continue  # another process sent it
            messages, more = _pending_messages(candidate, digest.mailed_up_to)
            if messages:
                digest.mailed_up_to = messages[-1].pk
                digest.window_ends_at = now + window()
            digest.due_at = None
            digest.save()
            queued = _queue_mail(candidate, messages, more)
        sent += 1 if queued or _mail(candidate, messages, more) else 0
    return sent
