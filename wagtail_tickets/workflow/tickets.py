"""Opening tickets, replies and the status life cycle."""

import secrets
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .. import background, signals
from ..analytics import rollups
from ..models import Attachment, DepartmentCounter, Message, Priority, Status, Ticket, search
from ..models.tickets import hash_token
from ..topics import topic_key

CODE_DIGITS = 6


class WorkflowError(Exception):
    """An action that does not apply to the ticket in its current state."""


def _increment_returning(prefix):
    """One UPDATE ... RETURNING where the database has it; None when the row is missing."""
    table = connection.ops.quote_name(DepartmentCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_number = last_number + 1 WHERE prefix = %s "
            "RETURNING last_number",
            [prefix],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _supports_returning():
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version_info >= (3, 35)
    return False


def next_code(prefix):
    """Take the next number of ``prefix``'s sequence; call inside a transaction.

    The UPDATE takes the counter row's lock, so concurrent submissions on PostgreSQL
    queue behind each other and each gets its own number; SQLite serialises writers.
    """
    number = _increment_returning(prefix) if _supports_returning() else None
    if number is None:
        DepartmentCounter.objects.get_or_create(prefix=prefix)
        DepartmentCounter.objects.filter(prefix=prefix).update(last_number=F("last_number") + 1)
        number = DepartmentCounter.objects.values_list("last_number", flat=True).get(prefix=prefix)
    return f"{prefix}-{number:0{CODE_DIGITS}d}"


def new_access_token():
    """Return (raw token, hash); only the hash is stored."""
    raw = secrets.token_urlsafe(24)  # 192 bits
    return raw, hash_token(raw)


def _send_after_commit(signal, **kwargs):
    background.announce(signal, Ticket, **kwargs)


def _due_at(ticket, priority, now):
    """SLA: the first-response target until staff answer, then the resolution target."""
    if ticket.closed_at or ticket.resolved_at:
        return None
    start = ticket.created_at or now
    if ticket.first_response_at is None and priority.first_response_minutes:
        return start + timedelta(minutes=priority.first_response_minutes)
    if priority.resolution_minutes:
        return start + timedelta(minutes=priority.resolution_minutes)
    return None


def _save_attachments(message, files):
    for item in files:
        Attachment.objects.create(
            message=message,
            file=item.upload,
            original_name=item.name,
            size=item.upload.size,
            content_type=item.content_type,
            sha256=item.sha256(),
            created_at=message.created_at,
        )


@transaction.atomic
def open_ticket(
    *,
    department,
    subject,
    body,
    customer_name,
    customer_email,
    customer=None,
    custom_fields=None,
    attachments=(),
    priority=None,
    submitter=None,
    language=None,
    source=Message.Source.WEB,
    actor=None,
    at=None,
    email_message_id="",
    limits=None,
    start_token=None,
):
    """Create a ticket with its first message. Returns (ticket, raw access token).

    ``at`` backdates the ticket for imports and demo data; it defaults to now.
    ``email_message_id`` is the Message-ID of the mail the ticket came from.
    ``limits`` (``limits.SubmissionLimits``) caps the tickets per hour of the visitor's
    address or account; it raises ``limits.RateLimited``, checked under a lock first.
    ``start_token`` is the form's honeypot start token, used up in this transaction so
    that it stays usable if the ticket is not stored; ``captcha.TokenReused`` if it was
    used before.
    """
    now = at or timezone.now()
    submitter = submitter or {}
    if start_token:
        from ..captcha import consume_start_token

        consume_start_token(start_token)
    if limits is not None:
        limits.check(customer=customer, ip=submitter.get("ip"), now=now)
    priority = priority or department.default_priority or Priority.default()
    status = Status.default()
    if status is None or priority is None:
        raise WorkflowError(_("Statuses and priorities must exist before tickets can be opened."))
    raw_token, token_hash = new_access_token()
    ticket = Ticket(
        code=next_code(department.code_prefix),
        subject=subject.strip(),
        subject_key=topic_key(subject),
        department=department,
        status=status,
        priority=priority,
        customer=customer,
        customer_name=customer_name.strip(),
        customer_email=customer_email.strip(),
        custom_fields=custom_fields or [],
        submitter_ip=submitter.get("ip") or None,
        submitter_user_agent=(submitter.get("user_agent") or "")[:500],
        submitter_referrer=(submitter.get("referrer") or "")[:500],
        source_page=(submitter.get("source_page") or "")[:500],
        submitted_logged_in=bool(customer),
        access_token_hash=token_hash,
        language=(language or get_language() or "")[:12],
        created_at=now,
        updated_at=now,
        last_message_at=now,
        last_customer_message_at=now,
        message_count=1,
    )
    ticket.due_at = _due_at(ticket, priority, now)
    ticket.analytics_facts = rollups.new_ticket_facts(ticket)
    ticket.save(force_insert=True)
    # Paid support: charged in this transaction, before anything else is written; a
    # refusal (billing.PaymentRequired) leaves nothing behind.
    from .billing import charge_new_ticket, opening_log_data

    charge = charge_new_ticket(ticket, actor=actor, at=now)
    rollups.add_facts(ticket.analytics_facts)
    message = Message.objects.create(
        ticket=ticket,
        body=body,
        author=customer,
        author_name=ticket.customer_name,
        author_email=ticket.customer_email,
        source=source,
        email_message_id=email_message_id[:255],
        created_at=now,
    )
    _save_attachments(message, attachments)
    search.add_ticket(ticket, body)
    log(
        ticket,
        "wagtail_tickets.ticket.create",
        user=actor or customer,
        data={"code": ticket.code, "source": source, **opening_log_data(charge)},
        timestamp=now,
    )
    if department.assignment_strategy != department.Assignment.MANUAL:
        from .assignment import auto_assign

        auto_assign(ticket, user=actor)
    _send_after_commit(signals.ticket_opened, ticket=ticket, message=message, raw_token=raw_token)
    return ticket, raw_token


def _lock(ticket):
    # Only the ticket's row: without ``of``, PostgreSQL would also lock the joined status
    # and priority rows, and every other transaction writing a ticket or message with
    # the same status would wait at its commit (its foreign-key check) for this one.
    try:
        return (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("status", "priority")
            .get(pk=ticket.pk)
        )
    except Ticket.DoesNotExist:
        # After waiting for another transaction that changed the row, PostgreSQL checks
        # the new row against the status and priority rows it had joined: a new status
        # or priority drops it from the result. Locked alone, the row is found (or is
        # really gone); its status and priority are read after it.
        return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _apply_status(locked, status, now):
    """Set status and the timestamps that follow its kind; return the old status."""
    old = locked.status
    locked.status = status
    if status.kind == Status.Kind.RESOLVED:
        locked.resolved_at = locked.resolved_at or now
        locked.closed_at = None
    elif status.kind == Status.Kind.CLOSED:
        locked.closed_at = now
        locked.resolved_at = locked.resolved_at or now
    else:
        locked.resolved_at = None
        locked.closed_at = None
    locked.due_at = _due_at(locked, locked.priority, now)
    return old


def _copy_state(target, source):
    """Bring the caller's instance up to date with what was saved."""
    for field in Ticket._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target.status = source.status
    target.priority = source.priority


@transaction.atomic
def post_reply(
    ticket,
    *,
    body,
    author=None,
    author_name="",
    author_email="",
    by_staff=False,
    is_internal=False,
    attachments=(),
    time_spent_minutes=0,
    new_status=None,
    source=None,
    at=None,
    notify=True,
    email_message_id="",
):
    """Add a message. A customer's reply reopens a resolved or closed ticket.

    ``notify=False`` is passed on in the signals (``notify``), and the notification
    handlers then send no mail: for a caller that tells the people concerned itself,
    once, as ``merge`` does. Other listeners still hear of the reply.

    ``email_message_id`` is the Message-ID of the mail the message came from.
    """
    if is_internal and not by_staff:
        raise WorkflowError(_("Only staff can write internal notes."))
    now = at or timezone.now()
    # Customers' replies are limited per ticket (limits.py); backdated imports are not.
    limited = not by_staff and at is None
    if limited:
        from .limits import take

        take(f"replies:ticket:{ticket.pk}")
    locked = _lock(ticket)
    if limited:
        from .limits import check_customer_reply

        check_customer_reply(locked, attachments, now)
    if by_staff and author is not None:
        from .rules import check_may_change_status, check_may_work_on

        check_may_work_on(author, locked)
        if new_status is not None and new_status.pk != locked.status_id:
            check_may_change_status(author, locked)
    if author is not None and not author_name:
        author_name = author.get_full_name() or author.get_username()
        author_email = author_email or author.email
    message = Message.objects.create(
        ticket=locked,
        body=body,
        author=author,
        author_name=author_name[:150],
        author_email=author_email,
        is_staff_reply=by_staff,
        is_internal=is_internal,
        source=source or (Message.Source.STAFF if by_staff else Message.Source.WEB),
        time_spent_minutes=time_spent_minutes or 0,
        email_message_id=email_message_id[:255],
        created_at=now,
    )
    _save_attachments(message, attachments)
    search.add_message(locked, body)

    old_status = locked.status
    # Counted on the locked row (SQLite's transactions are serialisable): the values
    # saved are the ones the caller gets, with no read after the write.
    locked.message_count += 1
    locked.time_spent_minutes += time_spent_minutes or 0
    if not is_internal:
        locked.last_message_at = now
    if by_staff:
        if not is_internal and locked.first_response_at is None:
            locked.first_response_at = now
        target = new_status
        # A public answer on an active ticket waits for the customer; on a resolved or
        # closed one it leaves the status alone unless the agent picks one.
        if target is None and not is_internal and old_status.kind in Status.ACTIVE_KINDS:
            target = Status.first_of_kind(Status.Kind.WAITING)
    else:
        locked.last_customer_message_at = now
        target = new_status
        if target is None and old_status.kind != Status.Kind.OPEN:
            if old_status.kind in (Status.Kind.WAITING, *Status.ARCHIVED_KINDS):
                target = Status.first_of_kind(Status.Kind.OPEN)
    if target is not None and target.pk != old_status.pk:
        _apply_status(locked, target, now)
    else:
        locked.due_at = _due_at(locked, locked.priority, now)
    locked.updated_at = now
    rollups.update_ticket(locked, message)
    locked.save()
    _copy_state(ticket, locked)

    log(
        ticket,
        "wagtail_tickets.note.create" if is_internal else "wagtail_tickets.message.create",
        user=author,
        data={"message_id": message.pk, "staff": by_staff},
        timestamp=now,
    )
    extra = {} if notify else {"notify": False}
    _send_after_commit(signals.reply_posted, ticket=ticket, message=message, **extra)
    if locked.status.pk != old_status.pk:
        _log_status(ticket, old_status, locked.status, author, now)
        _send_after_commit(
            signals.status_changed,
            ticket=ticket,
            old_status=old_status,
            new_status=locked.status,
            user=author,
            **extra,
        )
    return message


def _log_status(ticket, old, new, user, now):
    action = {
        Status.Kind.CLOSED: "wagtail_tickets.ticket.close",
        Status.Kind.RESOLVED: "wagtail_tickets.ticket.resolve",
    }.get(new.kind)
    if action is None:
        action = (
            "wagtail_tickets.ticket.reopen"
            if old.kind in Status.ARCHIVED_KINDS
            else "wagtail_tickets.ticket.status"
        )
    log(
        ticket,
        action,
        user=user,
        data={"old": {"id": old.pk, "name": old.name}, "new": {"id": new.pk, "name": new.name}},
        timestamp=now,
    )


def change_status(ticket, status, *, user=None, at=None, from_kinds=None):
    """Move the ticket to ``status``; returns False when it already had it.

    ``from_kinds`` limits the kinds the ticket may move from; it is checked on the
    locked row, so two requests racing to close a ticket cannot both pass. A ``user``
    must be allowed to change the status (``rules.check_may_change_status``).
    """
    from .rules import check_may_change_status

    return _change_status(
        ticket, status, user=user, at=at, from_kinds=from_kinds, check=check_may_change_status
    )


@transaction.atomic
def _change_status(ticket, status, *, user, at, from_kinds, check):
    now = at or timezone.now()
    locked = _lock(ticket)
    check(user, locked)
    if from_kinds is not None and locked.status.kind not in from_kinds:
        _copy_state(ticket, locked)
        raise WorkflowError(
            _("The ticket is %(status)s; this action does not apply.") % {"status": locked.status}
        )
    if locked.status_id == status.pk:
        return False
    old = _apply_status(locked, status, now)
    locked.updated_at = now
    rollups.update_ticket(locked)
    locked.save()
    _copy_state(ticket, locked)
    _log_status(ticket, old, status, user, now)
    _send_after_commit(
        signals.status_changed, ticket=ticket, old_status=old, new_status=status, user=user
    )
    return True


def close(ticket, *, user=None, at=None):
    status = Status.first_of_kind(Status.Kind.CLOSED)
    if status is None:
        raise WorkflowError(_("There is no status of the “closed” kind."))
    from .rules import check_may_work_on

    open_kinds = [kind for kind in Status.Kind.values if kind != Status.Kind.CLOSED]
    return _change_status(
        ticket, status, user=user, at=at, from_kinds=open_kinds, check=check_may_work_on
    )


def reopen(ticket, *, user=None, at=None):
    status = Status.first_of_kind(Status.Kind.OPEN)
    if status is None:
        raise WorkflowError(_("There is no status of the “open” kind."))
    from .rules import check_may_work_on

    return _change_status(
        ticket,
        status,
        user=user,
        at=at,
        from_kinds=Status.ARCHIVED_KINDS,
        check=check_may_work_on,
    )
