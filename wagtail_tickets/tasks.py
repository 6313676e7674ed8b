"""Background work. Enqueued after commit; a failure here never undoes a ticket."""

import logging

from django.db import transaction
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


@task()
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
def send_access_links(email, helpdesk_id, base_url, language):
    from . import notifications, workflow
    from .models import HelpdeskPage, Ticket

    helpdesk = HelpdeskPage.objects.filter(pk=helpdesk_id).first()
    if helpdesk is None:
        return
    tickets = list(
        Ticket.objects.active()
        .filter(customer_email__iexact=email, department__path__startswith=helpdesk.path)
        .order_by("-last_message_at")[:20]
    )
    if not tickets:
        return
    # The old links die only if the new ones were handed to the mail server.
    with transaction.atomic():
        issued = [(ticket, workflow.issue_access_token(ticket)) for ticket in tickets]
        notifications.access_links(email, issued, helpdesk, base_url, language)


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
