"""Background work. Enqueued after commit; a failure here never undoes a ticket."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from . import mail_retry

logger = logging.getLogger(__name__)


def _load_ticket(ticket_id):
    from .models import Ticket

    return (
        Ticket.objects.select_related("status", "priority", "department", "assignee")
        .filter(pk=ticket_id)
        .first()
    )


@task()
@mail_retry.retried
def send_notification(event, ticket_id, message_id=None, new_status_id=None, assignee_id=None):
    """One event's mails; sent again later while the mail server refuses (mail_retry)."""
    from . import notifications
    from .models import Message, Status

    ticket = _load_ticket(ticket_id)
    if ticket is None:
        return
    message = None
    if message_id is not None:
        message = Message.objects.filter(pk=message_id).prefetch_related("attachments").first()
    if event == "ticket_opened":
        notifications.ticket_opened(ticket, message)
    elif event == "reply_posted" and message is not None:
        notifications.reply_posted(ticket, message)
    elif event == "assigned":
        notifications.assigned(ticket, assignee_id)
    elif event == "status_changed":
        status = Status.objects.filter(pk=new_status_id).first()
        if status is not None:
            notifications.status_changed(ticket, status)


def lookup_tickets(email, helpdesk):
    """The tickets "find my ticket" mails links to: the address's tickets under
    ``helpdesk`` that are active, or were resolved or closed in the last
    ``LOOKUP_CLOSED_DAYS`` days; the 20 with the latest messages."""
    from django.db.models import Q

    from . import conf
    from .models import Status, Ticket
    from .models.tickets import status_ids

    since = timezone.now() - timedelta(days=conf.get("LOOKUP_CLOSED_DAYS"))
    recent = Q(status_id__in=status_ids(Status.ARCHIVED_KINDS)) & (
        Q(closed_at__gte=since) | Q(resolved_at__gte=since)
    )
    return list(
        Ticket.objects.filter(Q(status_id__in=status_ids(Status.ACTIVE_KINDS)) | recent)
        .filter(customer_email__iexact=email, department__path__startswith=helpdesk.path)
        .select_related("status", "department")
        .order_by("-last_message_at", "-pk")[:20]
    )


@task()
@mail_retry.retried
def send_rating_notification(ticket_id, rating_id, reopened=False, by_customer=False):
    """A customer rated a reply 1 or 2 (``by_customer``: then reopened the ticket)."""
    from . import notifications
    from .models import Rating

    ticket = _load_ticket(ticket_id)
    rating = Rating.objects.filter(pk=rating_id).select_related("message", "agent").first()
    if ticket is None or rating is None:
        return
    notifications.unhappy_rating(ticket, rating, reopened=reopened, by_customer=by_customer)


@task()
@mail_retry.retried
def send_access_links(email, helpdesk_id, language):
    from . import notifications, workflow
    from .models import HelpdeskPage

    helpdesk = HelpdeskPage.objects.filter(pk=helpdesk_id).first()
    if helpdesk is None:
        return
    tickets = lookup_tickets(email, helpdesk)
    if not tickets:
        return
    if mail_retry.already_sent(mail_retry.mail_key("access_links", [email])):
        return  # an earlier run of this task mailed them
    # A link exists only if it was handed to the mail server: a failed send rolls the
    # new links back, and a retry issues new ones. Links issued earlier are never touched.
    # A run after a kill between the mail server's taking the mail and the commit issues
    # the same links again (``run_secret``): the mail sent again is the same mail, and
    # its links are the ones that work.
    with transaction.atomic():
        issued = [
            (
                ticket,
                workflow.issue_access_token(
                    ticket, raw=mail_retry.run_secret(f"access:{email}:{ticket.pk}")
                ),
            )
            for ticket in tickets
        ]
        notifications.access_links(email, issued, helpdesk, language)


@task()
def index_ticket(ticket_id):
    """Rebuild a ticket's search row. The workflow keeps the rows itself; this stays for
    tasks queued by earlier versions (and for code that changed a ticket around it)."""
    from .models import search

    search.reindex([ticket_id])


@task()
def notify_customer_reply(ticket_id, message_id):
    """Tell the staff of a customer's reply, or fold it into the window's digest."""
    from . import digests

    digests.customer_replied(ticket_id, message_id)


@task()
@mail_retry.retried
def mail_customer_replies(ticket_id, message_ids, more=0):
    """The staff's mail about customer replies, again: the mail server refused it."""
    from . import notifications
    from .models import Message

    ticket = _load_ticket(ticket_id)
    messages = list(
        Message.objects.filter(pk__in=message_ids).order_by("pk").prefetch_related("attachments")
    )
    if ticket is None or not messages:
        return 0
    return notifications.customer_replies(ticket, messages, more=more)


@task()
def send_reply_digest(ticket_id):
    """The digest of one ticket's held replies, at the end of its window (worker backends)."""
    from . import digests

    digests.send_due(ticket_id=ticket_id, force=True)


@task()
def send_due_reply_digests():
    """Every digest whose window has closed (backends that cannot run a task later)."""
    from . import digests

    return digests.send_due()


@task()
@mail_retry.retried
def send_merge_notifications(target_id, source_ids):
    """Tell the customers of merged tickets where their conversation went: one mail per
    customer address, listing all of their tickets merged at once."""
    from . import notifications
    from .models import Ticket

    target = _load_ticket(target_id)
    if target is None:
        return 0
    sources = list(Ticket.objects.filter(pk__in=source_ids).order_by("pk"))
    return notifications.tickets_merged(target, sources)


# --- paid support ----------------------------------------------------------------------


@task()
@mail_retry.retried
def send_billing_mail(event, entry_id=None, grant_id=None):
    """Paid support's mails to customers; ``event`` is "entry" (a ledger entry worth
    telling about) or "grant_expiring"."""
    from . import notifications_billing
    from .models import HelpdeskSettings, IncidentGrant, LedgerEntry

    if event == "grant_expiring":
        grant = (
            IncidentGrant.objects.select_related("account__customer", "pack")
            .filter(pk=grant_id)
            .first()
        )
        if grant is not None:
            notifications_billing.grant_expiring(grant)
        return
    entry = (
        LedgerEntry.objects.select_related("account__customer", "ticket", "department")
        .filter(pk=entry_id)
        .first()
    )
    if entry is None:
        return
    if entry.kind == LedgerEntry.Kind.USE:
        site = entry.department.get_site() if entry.department is not None else None
        threshold = HelpdeskSettings.for_site(site).low_incidents_threshold if site else 1
        notifications_billing.incidents_low(entry, threshold)
    elif entry.kind in (LedgerEntry.Kind.REFUND, LedgerEntry.Kind.RETURN):
        notifications_billing.refunded(entry)


@task()
@mail_retry.retried
def send_signup_mail(signup_id=None, user_id=None, helpdesk_id=None, language=""):
    """The sign-up's verification link, or a note to the owner of an existing account."""
    from django.contrib.auth import get_user_model

    from . import notifications_billing
    from .models import CustomerSignup, HelpdeskPage
    from .workflow.accounts import signup_token

    if signup_id is not None:
        signup = CustomerSignup.objects.select_related("helpdesk").filter(pk=signup_id).first()
        if signup is None or signup.helpdesk is None:
            return
        helpdesk = signup.helpdesk.specific
        link = (
            helpdesk.get_full_url().rstrip("/")
            + "/"
            + helpdesk.reverse_subpage("signup_verify_route", args=[signup_token(signup)])
        )
        notifications_billing.signup_link(signup, link)
        return
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    helpdesk = HelpdeskPage.objects.filter(pk=helpdesk_id).first()
    if user is not None and user.email:
        notifications_billing.signup_existing(user, helpdesk, language)


@task()
@mail_retry.retried
def send_mail_invitation(address, department_id, subject, in_reply_to, language):
    """Answer an unknown sender whose mail was refused with the department's form."""
    from .mail import replies
    from .models import DepartmentPage

    department = DepartmentPage.objects.filter(pk=department_id).first()
    if department is not None:
        replies.send_invitation(address, department, subject, in_reply_to, language)


@task()
def make_transcript(ticket_id, include_notes, language, name):
    """Render a long ticket's transcript and keep it under ``name`` (transcripts.py)."""
    from .models import Ticket
    from .pdf import ticket_transcript
    from .transcripts import store

    ticket = Ticket.objects.select_related("status", "priority", "department").get(pk=ticket_id)
    content = ticket_transcript(ticket, include_notes=include_notes, language=language)
    store(name, content)
