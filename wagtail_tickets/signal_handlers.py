"""Turn the workflow's signals into background tasks."""

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from . import background, kb_search, signals
from .models import HelpdeskSettings, Priority, Status
from .models.tickets import forget_cached_rows
from .tasks import notify_customer_reply, send_merge_notifications, send_notification

logger = logging.getLogger(__name__)

# Search needs no task: the workflow keeps the tickets' search table in its transaction.


def _enqueue(**kwargs):
    # Signals arrive after commit; a broken queue or mail server must not fail the
    # request, and with an in-process backend the work waits until the response is sent.
    background.enqueue(send_notification, **kwargs)


@receiver(signals.ticket_opened)
def on_ticket_opened(sender, ticket, message, **kwargs):
    # The raw token stays out of the task's arguments: a database-backed queue would
    # store it. The confirmation carries a signed link instead.
    _enqueue(event="ticket_opened", ticket_id=ticket.pk, message_id=message.pk)


@receiver(signals.reply_posted)
def on_reply_posted(sender, ticket, message, notify=True, **kwargs):
    if message.is_internal or not notify:
        return
    if message.is_staff_reply:
        _enqueue(event="reply_posted", ticket_id=ticket.pk, message_id=message.pk)
    else:
        # The staff hear of a burst of customer replies in one mail (digests.py).
        background.enqueue(notify_customer_reply, ticket_id=ticket.pk, message_id=message.pk)


@receiver(signals.status_changed)
def on_status_changed(sender, ticket, new_status, notify=True, **kwargs):
    if notify and new_status.kind in ("resolved", "closed"):
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
    # One task for the whole merge, however many tickets went into it.
    background.enqueue(
        send_merge_notifications, target_id=target.pk, source_ids=[s.pk for s in sources]
    )


@receiver(post_save, sender=Status)
@receiver(post_delete, sender=Status)
@receiver(post_save, sender=Priority)
@receiver(post_delete, sender=Priority)
def on_lookup_row_changed(sender, **kwargs):
    # Now for this connection, and again after commit for the others, which may have
    # cached the old rows while the change was in flight.
    forget_cached_rows(sender)
    transaction.on_commit(lambda: forget_cached_rows(sender))


@receiver(post_save, sender=HelpdeskSettings)
@receiver(post_delete, sender=HelpdeskSettings)
def on_settings_changed(sender, instance, **kwargs):
    HelpdeskSettings.forget_cached(instance.site_id)
    transaction.on_commit(lambda: HelpdeskSettings.forget_cached(instance.site_id))


@receiver(page_published)
@receiver(page_unpublished)
@receiver(post_page_move)
@receiver(post_delete, sender=Page)
@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
@receiver(post_save, sender=Site)
@receiver(post_delete, sender=Site)
def on_page_tree_changed(sender, **kwargs):
    # The department forms' "search the knowledge base" link may point elsewhere now.
    kb_search.forget_knowledge_base_urls()
    transaction.on_commit(kb_search.forget_knowledge_base_urls)
