"""What agents do to a ticket besides replying: fields, messages, merging, views."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .. import signals
from ..analytics import rollups
from ..models import Message, Rating, Status, Ticket, TicketView, search
from ..topics import topic_key
from .rules import check_may_change_fields, check_may_merge, check_merge_size
from .tickets import WorkflowError, _copy_state, _due_at, _lock, _send_after_commit, post_reply

VIEW_THROTTLE = timedelta(minutes=5)
EDITABLE_FIELDS = ("subject", "priority", "department")


def _display(value):
    if value is None:
        return None
    if hasattr(value, "pk"):
        return {"id": value.pk, "name": str(getattr(value, "title", None) or value)}
    return value


@transaction.atomic
def update_fields(ticket, *, user=None, **changes):
    """Change subject, priority or department; the code never changes.

    Returns the {field: (old, new)} that really changed.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise WorkflowError(
            _("These fields are not changed this way: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    if "subject" in changes:
        changes["subject"] = (changes["subject"] or "").strip()
        if not changes["subject"]:
            raise WorkflowError(_("A ticket needs a subject."))
    now = timezone.now()
    locked = _lock(ticket)
    check_may_change_fields(user, locked, changes.get("department"))
    changed = {}
    for field, value in changes.items():
        old = getattr(locked, field)
        if (old.pk if hasattr(old, "pk") else old) != (value.pk if hasattr(value, "pk") else value):
            changed[field] = (old, value)
            setattr(locked, field, value)
    if not changed:
        return {}
    if "priority" in changed:
        locked.due_at = _due_at(locked, locked.priority, now)
    if "subject" in changed:
        locked.subject_key = topic_key(locked.subject)
    locked.updated_at = now
    rollups.update_ticket(locked)
    locked.save()
    if "subject" in changed:
        search.update_title(locked)
    _copy_state(ticket, locked)
    ticket.department = locked.department
    log(
        ticket,
        "wagtail_tickets.ticket.edit",
        user=user,
        data={
            field: {"old": _display(old), "new": _display(new)}
            for field, (old, new) in changed.items()
        },
    )
    _send_after_commit(signals.ticket_updated, ticket=ticket, changes=changed, user=user)
    return changed


@transaction.atomic
def edit_message(message, body, *, user):
    """Change a message's text; the old text is kept in the audit log."""
    body = (body or "").strip()
    if not body:
        raise WorkflowError(_("A message cannot be empty."))
    old = message.body
    if old == body:
        return False
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(body=body, edited_by=user, edited_at=now)
    message.body, message.edited_by, message.edited_at = body, user, now
    search.reindex([message.ticket_id])
    log(
        message.ticket,
        "wagtail_tickets.message.edit",
        user=user,
        data={"message_id": message.pk, "old_body": old, "new_body": body},
    )
    return True


@transaction.atomic
def delete_message(message, *, user):
    """Delete a message (never the first one); its text stays in the audit log."""
    ticket = _lock(message.ticket)
    first = ticket.messages.order_by("created_at", "pk").values_list("pk", flat=True).first()
    if message.pk == first:
        raise WorkflowError(_("The customer's first message cannot be deleted."))
    data = {
        "message_id": message.pk,
        "old_body": message.body,
        "internal": message.is_internal,
        "attachments": list(message.attachments.values_list("original_name", flat=True)),
    }
    for attachment in message.attachments.all():
        attachment.file.delete(save=False)
    message.delete()
    _refresh_counters(ticket)
    rollups.record_ticket(ticket)
    search.reindex([ticket.pk])
    log(ticket, "wagtail_tickets.message.delete", user=user, data=data)
    _copy_state(message.ticket, ticket)
    return True


def _refresh_counters(locked):
    """Recompute the message facts after messages moved or went away."""
    public = locked.messages.filter(is_internal=False)
    totals = locked.messages.aggregate(spent=Sum("time_spent_minutes"))
    locked.message_count = locked.messages.count()
    locked.time_spent_minutes = totals["spent"] or 0
    latest = public.order_by("-created_at").values_list("created_at", flat=True).first()
    locked.last_message_at = latest or locked.created_at
    locked.last_customer_message_at = (
        public.filter(is_staff_reply=False)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    first_staff = (
        public.filter(is_staff_reply=True)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    locked.first_response_at = first_staff
    locked.updated_at = timezone.now()
    locked.save()


@transaction.atomic
def merge(target, sources, *, user):
    """Move the sources' messages into ``target`` and close them with a pointer.

    The customers of the sources are told where their conversation went: one
    background task for the whole merge (``tickets_merged``), not a mail per ticket
    inside the request.
    """
    sources = [s for s in sources if s.pk != target.pk]
    if not sources:
        raise WorkflowError(_("Pick at least one other ticket to merge."))
    # Before any lock: a request naming hundreds of tickets is refused cheaply.
    check_merge_size(len(sources) + 1)
    locked_target = _lock(target)
    closed = Status.first_of_kind(Status.Kind.CLOSED)
    if closed is None:
        raise WorkflowError(_("There is no status of the “closed” kind."))
    if locked_target.merged_into_id:
        raise WorkflowError(_("%(code)s is already merged.") % {"code": locked_target.code})
    locked_sources = [_lock(source) for source in sources]
    check_may_merge(user, locked_target, locked_sources)
    moved = 0
    for locked_source in locked_sources:
        if locked_source.merged_into_id:
            raise WorkflowError(_("%(code)s is already merged.") % {"code": locked_source.code})
        moved += Message.objects.filter(ticket=locked_source).update(ticket=locked_target)
        Rating.objects.filter(ticket=locked_source).update(ticket=locked_target)
        Ticket.objects.filter(pk=locked_source.pk).update(
            merged_into=locked_target, time_spent_minutes=0, message_count=F("message_count") * 0
        )
        log(
            locked_source,
            "wagtail_tickets.ticket.merged_away",
            user=user,
            data={"into": {"id": locked_target.pk, "code": locked_target.code}},
        )
    _refresh_counters(locked_target)
    rollups.record_ticket(locked_target)
    # The customer pays for one conversation once: what opening each merged-away ticket
    # cost is given back.
    from .billing import release_merged

    for source in sources:
        release_merged(source, into=locked_target, actor=user)
    for source in sources:
        # The closing reply tells the customer the new code; it lives on the source so
        # the old private link shows where to go.
        post_reply(
            source,
            body=_("This ticket has been merged into %(code)s; the conversation continues there.")
            % {"code": locked_target.code},
            author=user,
            by_staff=True,
            new_status=closed,
            notify=False,
        )
    search.reindex([locked_target.pk, *(s.pk for s in sources)])
    log(
        locked_target,
        "wagtail_tickets.ticket.merge",
        user=user,
        data={"sources": [{"id": s.pk, "code": s.code} for s in sources], "messages": moved},
    )
    _copy_state(target, locked_target)
    _send_after_commit(signals.tickets_merged, target=target, sources=sources, user=user)
    return moved


def record_view(ticket, user, ip=None, *, checked=False):
    """Note that ``user`` opened the ticket, at most once per few minutes.

    ``checked`` tells that the caller has just looked and found no recent view, so the
    check is not run again.
    """
    since = timezone.now() - VIEW_THROTTLE
    if (
        not checked
        and TicketView.objects.filter(ticket=ticket, user=user, viewed_at__gte=since).exists()
    ):
        return False
    TicketView.objects.create(ticket=ticket, user=user, ip_address=ip)
    return True


def record_customer_view(ticket, *, at=None):
    """Note that the customer read the ticket's page: the staff replies so far are read.

    Writes only when there is something unread, so reading costs no write; returns
    whether it wrote. A read changes nothing the desk acts on, so it is not logged.
    """
    now = at or timezone.now()
    latest = ticket.last_message_at
    if latest is None or (ticket.customer_seen_at and ticket.customer_seen_at >= latest):
        return False
    Ticket.objects.filter(pk=ticket.pk).update(customer_seen_at=now)
    ticket.customer_seen_at = now
    return True
