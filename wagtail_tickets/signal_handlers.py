"""Turn the workflow's signals into background tasks."""

import logging

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from . import background, conf, kb_search, signals
from .analytics import rollups
from .models import ArticlePage, HelpdeskSettings, Priority, Status, Ticket
from .models.tickets import forget_cached_rows
from .tasks import (
    notify_customer_reply,
    send_billing_mail,
    send_merge_notifications,
    send_notification,
    send_rating_notification,
    send_signup_mail,
)

logger = logging.getLogger(__name__)

# Search needs no task: the workflow keeps the tickets' search table in its transaction.


def _enqueue(**kwargs):
    # A broken queue or mail server must not fail the request, and with an in-process
    # backend the work waits until the response is sent. Receivers marked
    # queue_receiver run inside the workflow's transaction when the queue is a table
    # of the same database (background.announce), else after the commit.
    background.enqueue(send_notification, **kwargs)


@background.queue_receiver(signals.ticket_opened, send_notification)
def on_ticket_opened(sender, ticket, message, **kwargs):
    # The raw token stays out of the task's arguments: a database-backed queue would
    # store it. The confirmation carries a signed link instead.
    _enqueue(event="ticket_opened", ticket_id=ticket.pk, message_id=message.pk)


@background.queue_receiver(signals.reply_posted, send_notification)
def on_reply_posted(sender, ticket, message, notify=True, **kwargs):
    if message.is_internal or not notify:
        return
    if message.is_staff_reply:
        _enqueue(event="reply_posted", ticket_id=ticket.pk, message_id=message.pk)
    else:
        # The staff hear of a burst of customer replies in one mail (digests.py).
        background.enqueue(notify_customer_reply, ticket_id=ticket.pk, message_id=message.pk)


@background.queue_receiver(signals.status_changed, send_notification)
def on_status_changed(sender, ticket, new_status, notify=True, **kwargs):
    if notify and new_status.kind in ("resolved", "closed"):
        _enqueue(event="status_changed", ticket_id=ticket.pk, new_status_id=new_status.pk)


@background.queue_receiver(signals.ticket_assigned, send_notification)
def on_ticket_assigned(sender, ticket, assignee, user, automatic, **kwargs):
    # An automatic assignment happens as the ticket opens, and the new-ticket mail
    # already goes to the assignee; nobody needs a mail about assigning to themselves.
    if assignee is None or automatic or (user is not None and user.pk == assignee.pk):
        return
    _enqueue(event="assigned", ticket_id=ticket.pk, assignee_id=assignee.pk)


@background.queue_receiver(signals.tickets_merged, send_merge_notifications)
def on_tickets_merged(sender, target, sources, **kwargs):
    # One task for the whole merge, however many tickets went into it.
    background.enqueue(
        send_merge_notifications, target_id=target.pk, source_ids=[s.pk for s in sources]
    )


@receiver(page_published)
def on_page_published(sender, instance, **kwargs):
    # Files copied from a ticket stay private until the article showing them is public.
    if isinstance(instance, ArticlePage):
        from .workflow.knowledge import release_article_files

        release_article_files(instance)


def _enqueue_rating(**kwargs):
    background.enqueue(send_rating_notification, **kwargs)


@background.queue_receiver(signals.ticket_rated, send_rating_notification)
def on_ticket_rated(sender, ticket, rating, reopened, **kwargs):
    if rating.is_unhappy:
        _enqueue_rating(ticket_id=ticket.pk, rating_id=rating.pk, reopened=reopened)


@background.queue_receiver(signals.unhappy_reopened, send_rating_notification)
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


# --- paid support ----------------------------------------------------------------------

# Ledger entries a customer is e-mailed about (the task decides whether a use leaves
# few enough incidents to tell).
MAILED_KINDS = ("use", "refund", "return")


def _enqueue_task(task, **kwargs):
    background.enqueue(task, **kwargs)


@background.queue_receiver(signals.ledger_changed, send_billing_mail)
def on_ledger_changed(sender, entries, **kwargs):
    for entry in entries:
        if entry.kind in MAILED_KINDS:
            _enqueue_task(send_billing_mail, event="entry", entry_id=entry.pk)


@background.queue_receiver(signals.grant_expiring, send_billing_mail)
def on_grant_expiring(sender, grant, **kwargs):
    _enqueue_task(send_billing_mail, event="grant_expiring", grant_id=grant.pk)


@background.queue_receiver(signals.customer_signed_up, send_signup_mail)
def on_customer_signed_up(sender, signup, existing_user, helpdesk, language, **kwargs):
    if signup is not None:
        _enqueue_task(send_signup_mail, signup_id=signup.pk)
    elif existing_user is not None:
        _enqueue_task(
            send_signup_mail,
            user_id=existing_user.pk,
            helpdesk_id=helpdesk.pk if helpdesk is not None else None,
            language=language,
        )


@receiver(user_logged_in)
def on_user_logged_in(sender, request, user, **kwargs):
    # Only where the site vouches for its accounts' addresses: anyone may type any
    # address into an anonymous ticket.
    if conf.get("VERIFIED_EMAILS"):
        from .workflow.accounts import claim_tickets

        claim_tickets(user)
