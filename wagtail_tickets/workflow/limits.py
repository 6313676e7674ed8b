"""How much one visitor may write: tickets per hour, replies and uploads per ticket.

Every limit counts the rows it limits (tickets, messages, attachments) inside the
writing transaction, after taking a lock on its key (``take``): concurrent requests
with the same key queue behind each other on PostgreSQL (a row lock) and SQLite (the
write lock), so a burst of requests from several processes stores exactly as many
rows as the limit allows. A COUNT followed by an INSERT without the lock lets every
request of a burst see the same count.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import conf
from ..models import Attachment, Message, Ticket
from ..models.limits import RateLimitLock
from .tickets import WorkflowError

SLOTS = 4096
MB = 1024 * 1024


class RateLimited(WorkflowError):
    """Too much written in too little time; the message says what and for how long."""

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


def _slot(key):
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % SLOTS


def insert_on_conflict(model, values, conflict, update=()):
    """One ``INSERT … ON CONFLICT (conflict)`` of ``values`` (column -> value) into
    ``model``'s table: ``DO UPDATE`` of the ``update`` columns with the new values, or
    ``DO NOTHING``. Returns the number of rows written (0 when a row with the same key
    was there and nothing is updated), or None on a database without the clause, where
    the caller falls back to the ORM. No savepoint is needed for a conflict."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return None
    quote = connection.ops.quote_name
    columns = list(values)
    action = (
        "DO UPDATE SET " + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in update)
        if update
        else "DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT ({quote(conflict)}) {action}",
            [values[c] for c in columns],
        )
        return cursor.rowcount


def take(key):
    """Hold ``key``'s lock until the current transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("Rate limit locks are taken inside a transaction.")
    slot, now = _slot(key), timezone.now()
    # A write first: on SQLite it takes the database's write lock before the count is
    # read, so the next writer waits (busy timeout) instead of failing.
    written = insert_on_conflict(
        RateLimitLock, {"slot": slot, "touched_at": now}, "slot", update=("touched_at",)
    )
    if written is not None:
        return
    RateLimitLock.objects.get_or_create(slot=slot)
    RateLimitLock.objects.select_for_update().filter(slot=slot).update(touched_at=now)


# --- new tickets ---------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionLimits:
    """Tickets per hour: per IP address for anonymous visitors, per account otherwise.

    ``None`` (or 0) turns a limit off.
    """

    per_ip_hour: int | None = None
    per_user_hour: int | None = None

    @classmethod
    def from_settings(cls, site_settings):
        return cls(
            per_ip_hour=site_settings.anonymous_tickets_per_hour,
            per_user_hour=site_settings.tickets_per_user_per_hour,
        )

    def check(self, *, customer, ip, now):
        since = now - timedelta(hours=1)
        if customer is not None:
            if not self.per_user_hour:
                return
            take(f"tickets:user:{customer.pk}")
            count = Ticket.objects.filter(customer=customer, created_at__gte=since).count()
            limit = self.per_user_hour
        else:
            if not (self.per_ip_hour and ip):
                return
            take(f"tickets:ip:{ip}")
            count = Ticket.objects.filter(
                submitter_ip=ip, submitted_logged_in=False, created_at__gte=since
            ).count()
            limit = self.per_ip_hour
        if count >= limit:
            raise RateLimited(
                _(
                    "Too many tickets have been sent from your address in the last hour. "
                    "Please try again later."
                )
                if customer is None
                else _(
                    "You have sent too many tickets in the last hour. Please try again later "
                    "or add to one of your open tickets."
                ),
                retry_after=3600,
            )


# --- replies ---------------------------------------------------------------------------


def _customer_messages(ticket):
    return Message.objects.filter(ticket=ticket, is_staff_reply=False)


def check_customer_reply(locked, files, now):
    """Raise RateLimited when a customer's reply to ``locked`` (a ticket row locked by
    the caller) would pass the reply or upload limits. Staff are not limited."""
    per_minute = conf.get("CUSTOMER_REPLIES_PER_MINUTE")
    per_hour = conf.get("CUSTOMER_REPLIES_PER_HOUR")
    hour_ago = now - timedelta(hours=1)
    if per_minute or per_hour:
        recent = _customer_messages(locked).filter(created_at__gte=hour_ago)
        if per_hour and recent.count() >= per_hour:
            raise RateLimited(
                ngettext(
                    "This ticket has had %(count)d reply from you in the last hour, the most "
                    "we take. Please wait a little before writing again.",
                    "This ticket has had %(count)d replies from you in the last hour, the most "
                    "we take. Please wait a little before writing again.",
                    per_hour,
                )
                % {"count": per_hour},
                retry_after=600,
            )
        minute_ago = now - timedelta(minutes=1)
        if per_minute and recent.filter(created_at__gte=minute_ago).count() >= per_minute:
            raise RateLimited(
                _("You are replying very fast. Please wait a minute and send your reply again."),
                retry_after=60,
            )
    new_bytes = sum(item.upload.size for item in files)
    if not new_bytes:
        return
    uploads = Attachment.objects.filter(message__ticket=locked, message__is_staff_reply=False)
    per_hour_mb = conf.get("CUSTOMER_UPLOAD_MB_PER_HOUR")
    if per_hour_mb:
        hour = uploads.filter(created_at__gte=hour_ago).aggregate(total=Sum("size"))["total"]
        if (hour or 0) + new_bytes > per_hour_mb * MB:
            raise RateLimited(
                _(
                    "These files would take this ticket past %(size)s of uploads in an hour. "
                    "Please send them later or fewer of them."
                )
                % {"size": filesizeformat(per_hour_mb * MB)},
                retry_after=3600,
            )
    ticket_mb = conf.get("TICKET_UPLOAD_MB")
    if ticket_mb:
        total = uploads.aggregate(total=Sum("size"))["total"]
        if (total or 0) + new_bytes > ticket_mb * MB:
            raise RateLimited(
                _(
                    "These files would take this ticket past %(size)s of attachments, the "
                    "most one ticket can hold. Please share large files another way."
                )
                % {"size": filesizeformat(ticket_mb * MB)}
            )
