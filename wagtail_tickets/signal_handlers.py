"""Turn the workflow's signals into background tasks."""

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import signals
from .analytics import rollups
from .models import Priority, Status, Ticket
from .models.tickets import forget_cached_rows
from .tasks import index_ticket, send_notification, send_rating_notification

logger = logging.getLogger(__name__)


def _enqueue(**kwargs):
    # Signals arrive after commit; a broken queue or mail server must not fail the request.
    try:
        send_notification.enqueue(**kwargs)
    except Exception:
        logger.exception("Could not enqueue the %s notification", kwargs.get("event"))


def _reindex(ticket):
    try:
        index_ticket.enqueue(ticket_id=ticket.pk)
    except Exception:
        logger.exception("Could not enqueue the search index update of %s", ticket.pk)


@receiver(signals.ticket_opened)
def on_ticket_opened(sender, ticket, message, **kwargs):
    # The raw token stays out of the task's arguments: a database-backed queue would
    # store it. The confirmation carries a signed link instead.
    _enqueue(event="ticket_opened", ticket_id=ticket.pk, message_id=message.pk)
    _reindex(ticket)


@receiver(signals.reply_posted)
def on_reply_posted(sender, ticket, message, **kwargs):
    _reindex(ticket)
    if not message.is_internal:
        _enqueue(event="reply_posted", ticket_id=ticket.pk, message_id=message.pk)


@receiver(signals.status_changed)
def on_status_changed(sender, ticket, new_status, **kwargs):
    if new_status.kind in ("resolved", "closed"):
        _enqueue(event="status_changed", ticket_id=ticket.pk, new_status_id=new_status.pk)


@receiver(signals.ticket_assigned)
def on_ticket_assigned(sender, ticket, assignee, user, automatic, **kwargs):
    # An automatic assignment happens as the ticket opens, and the new-ticket mail
    # already goes to the assignee; nobody needs a mail about assigning to themselves.
    if assignee is None or automatic or (user is not None and user.pk == assignee.pk):
        return
    _enqueue(event="assigned", ticket_id=ticket.pk, assignee_id=assignee.pk)


@receiver(signals.tickets_merged)
def on_tickets_merged(sender, target, sources, **kwargs):
    for ticket in (target, *sources):
        _reindex(ticket)


@receiver(signals.ticket_updated)
def on_ticket_updated(sender, ticket, **kwargs):
    # A new subject (or department) must be findable in the inbox search.
    _reindex(ticket)


def _enqueue_rating(**kwargs):
    try:
        send_rating_notification.enqueue(**kwargs)
    except Exception:
        logger.exception("Could not enqueue the rating notification of %s", kwargs.get("ticket_id"))


@receiver(signals.ticket_rated)
def on_ticket_rated(sender, ticket, rating, reopened, **kwargs):
    if rating.is_unhappy:
        _enqueue_rating(ticket_id=ticket.pk, rating_id=rating.pk, reopened=reopened)


@receiver(signals.unhappy_reopened)
def on_unhappy_reopened(sender, ticket, rating, **kwargs):
    _enqueue_rating(ticket_id=ticket.pk, rating_id=rating.pk, reopened=True, by_customer=True)


@receiver(post_delete, sender=Ticket)
def on_ticket_deleted(sender, instance, **kwargs):
    # Deleting is not a workflow change (the model's delete permission, Django's admin):
    # take back what the ticket had added to the analytics, in the same transaction.
    rollups.forget_ticket(instance)


@receiver(post_save, sender=Status)
@receiver(post_delete, sender=Status)
@receiver(post_save, sender=Priority)
@receiver(post_delete, sender=Priority)
def on_lookup_row_changed(sender, **kwargs):
    # Now for this connection, and again after commit for the others, which may have
    # cached the old rows while the change was in flight.
    forget_cached_rows(sender)
    transaction.on_commit(lambda: forget_cached_rows(sender))
