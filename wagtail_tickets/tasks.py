"""Background work. Enqueued after commit; a failure here never undoes a ticket."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


def _load_ticket(ticket_id):
    from .models import Ticket

    return (
        Ticket.objects.select_related("status", "priority", "department", "assignee")
        .filter(pk=ticket_id)
        .first()
    )


@task()
def send_notification(event, ticket_id, message_id=None, new_status_id=None, assignee_id=None):
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
def send_access_links(email, helpdesk_id, language):
    from . import notifications, workflow
    from .models import HelpdeskPage

    helpdesk = HelpdeskPage.objects.filter(pk=helpdesk_id).first()
    if helpdesk is None:
        return
    tickets = lookup_tickets(email, helpdesk)
    if not tickets:
        return
    # A link exists only if it was handed to the mail server: a failed send rolls the
    # new links back. Links issued earlier are never touched.
    with transaction.atomic():
        issued = [(ticket, workflow.issue_access_token(ticket)) for ticket in tickets]
        notifications.access_links(email, issued, helpdesk, language)


@task()
def index_ticket(ticket_id):
    """Bring a ticket's search entry up to date (its messages included)."""
    from wagtail.search.backends import get_search_backends

    from .models import Ticket

    ticket = Ticket.objects.filter(pk=ticket_id).prefetch_related("messages").first()
    if ticket is None:
        return
    for backend in get_search_backends(with_auto_update=True):
        backend.add(ticket)
