"""Who works a ticket: manual assignment and the departments' automatic strategies."""

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .. import signals
from ..analytics import rollups
from ..models import DepartmentPage, StaffMember, Status
from ..permissions import admin_user_ids
from .rules import check_may_assign
from .tickets import WorkflowError, _copy_state, _lock, _send_after_commit


def _person(user):
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


@transaction.atomic
def assign(ticket, assignee, *, user=None, automatic=False):
    """Give the ticket to ``assignee`` (None unassigns); returns False when unchanged."""
    if assignee is not None and not assignee.is_active:
        raise WorkflowError(_("Tickets can only be assigned to active users."))
    locked = _lock(ticket)
    # On the locked row: the department may just have changed.
    check_may_assign(None if automatic else user, locked, assignee)
    previous_id = locked.assignee_id
    new_id = assignee.pk if assignee is not None else None
    if previous_id == new_id:
        return False
    previous = locked.assignee if previous_id else None
    locked.assignee = assignee
    locked.updated_at = timezone.now()
    rollups.update_ticket(locked)
    locked.save(update_fields=["assignee", "updated_at", "analytics_facts"])
    _copy_state(ticket, locked)
    ticket.assignee = assignee
    log(
        ticket,
        "wagtail_tickets.ticket.assign",
        user=user,
        data={"old": _person(previous), "new": _person(assignee), "automatic": automatic},
    )
    _send_after_commit(
        signals.ticket_assigned,
        ticket=ticket,
        assignee=assignee,
        previous=previous,
        user=user,
        automatic=automatic,
    )
    return True


def _candidates(department):
    return (
        # Only the members' rows, not their users' or the department links: a user row
        # locked here would hold up every commit that refers to that agent.
        StaffMember.objects.select_for_update(of=("self",))
        .filter(departments=department, available=True, user__in=admin_user_ids())
        .select_related("user")
    )


def pick_assignee(department):
    """The staff member the department's strategy picks next, or None.

    Round-robin takes the available member whose last automatic assignment is oldest
    (never assigned first); least-open takes the one with the fewest active tickets,
    ties going round-robin. The candidates' rows are locked so concurrent tickets
    don't all land on the same person.
    """
    strategy = department.assignment_strategy
    if strategy == DepartmentPage.Assignment.MANUAL:
        return None
    candidates = _candidates(department)
    order = [F("last_assigned_at").asc(nulls_first=True), "pk"]
    if strategy == DepartmentPage.Assignment.LEAST_OPEN:
        # Count in a subquery-free way the database can use the assignee index for.
        candidate_ids = list(candidates.values_list("pk", flat=True))
        loads = (
            StaffMember.objects.filter(pk__in=candidate_ids)
            .annotate(
                open_count=Count(
                    "user__assigned_tickets",
                    filter=Q(user__assigned_tickets__status__kind__in=Status.ACTIVE_KINDS),
                )
            )
            .select_related("user")
            .order_by("open_count", *order)
        )
        return loads.first()
    return candidates.order_by(*order).first()


@transaction.atomic
def auto_assign(ticket, *, user=None):
    """Assign by the department's strategy; returns the chosen user or None."""
    department = ticket.department
    if department is None or ticket.assignee_id:
        return None
    member = pick_assignee(department)
    if member is None:
        return None
    StaffMember.objects.filter(pk=member.pk).update(last_assigned_at=timezone.now())
    assign(ticket, member.user, user=user, automatic=True)
    return member.user
