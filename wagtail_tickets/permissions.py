"""Who may see a ticket, in one place for the portal, downloads and the desk."""

import time

from django.db import connection
from django.db.models import F, Q

GRANTS_KEY = "wagtail_tickets_grants"
ADMIN_ACCESS = "wagtailadmin.access_admin"
VIEW_ALL = "wagtail_tickets.view_all_departments"


def _active(user):
    return bool(user and user.is_authenticated and user.is_active)


def sees_all_departments(user):
    return _active(user) and (user.is_superuser or user.has_perm(VIEW_ALL))


def has_desk_rights(user):
    """Whether ``user`` works in the desk now.

    An active user who may open Wagtail's admin (``wagtailadmin.access_admin``) and has
    a desk profile, "view all departments" or is a superuser. A desk profile alone is
    not enough: a former agent whose admin access was taken away keeps their profile
    (and their name on old replies) but no longer sees any ticket, file or mail.
    """
    if not _active(user) or not user.has_perm(ADMIN_ACCESS):
        return False
    if sees_all_departments(user):
        return True
    return desk_membership(user)[0] is not None


def admin_user_ids():
    """A subquery of the ids of active users who may open Wagtail's admin."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    User = get_user_model()
    app_label, codename = ADMIN_ACCESS.split(".")
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    direct = User.user_permissions.through.objects.filter(permission__in=permission)
    by_group = User.groups.through.objects.filter(group__permissions__in=permission)
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(pk__in=direct.values("user_id"))
            | Q(pk__in=by_group.values("user_id"))
        )
        .values("pk")
    )


_MEMBERSHIP_CACHE = "_wagtail_tickets_membership"


def desk_membership(user):
    """(the user's StaffMember profile or None, the ids of its departments).

    One query, cached on the user object (that is, per request, as Django caches
    permissions). On PostgreSQL desk queries filter by the ids as a literal list: with
    a subquery through the staff tables it spent 15-20 ms planning the inbox's page
    query alone.
    """
    cached = getattr(user, _MEMBERSHIP_CACHE, None)
    if cached is not None:
        return cached
    from .models import StaffMember

    rows = list(StaffMember.objects.filter(user=user).annotate(wt_department=F("departments__pk")))
    profile = rows[0] if rows else None
    ids = sorted({row.wt_department for row in rows if row.wt_department is not None})
    # ``user.helpdesk_profile`` then answers from this query.
    StaffMember.user.field.remote_field.set_cached_value(user, profile)
    if profile is not None:
        StaffMember.user.field.set_cached_value(profile, user)
    membership = (profile, ids)
    try:
        setattr(user, _MEMBERSHIP_CACHE, membership)
    except AttributeError:  # pragma: no cover - an object that takes no attributes
        pass
    return membership


def staff_department_ids(user):
    """The ids of the departments of ``user``'s desk profile (empty without one)."""
    if not (user and user.is_authenticated):
        return []
    return desk_membership(user)[1]


def staff_ticket_filter(user):
    """A Q limiting tickets to those ``user`` may work on in the desk, or None for all."""
    if sees_all_departments(user):
        return None
    if connection.vendor == "sqlite":
        # Given a literal list and ANALYZE's statistics, SQLite reads every visible
        # ticket through the department index and sorts them for the inbox's first
        # page; with the subquery it walks the sort's index and stops after a page.
        from .models import StaffMember

        return Q(
            department_id__in=StaffMember.departments.through.objects.filter(
                staffmember__user=user
            ).values("departmentpage_id")
        )
    return Q(department_id__in=staff_department_ids(user))


def visible_tickets(user, queryset=None):
    """The tickets ``user`` may see in the desk: every view, action and export uses this."""
    from .models import Ticket

    queryset = Ticket.objects.all() if queryset is None else queryset
    if not has_desk_rights(user):
        return queryset.none()
    condition = staff_ticket_filter(user)
    return queryset if condition is None else queryset.filter(condition)


def staff_can_access(user, ticket):
    if not has_desk_rights(user):
        return False
    if sees_all_departments(user):
        return True
    if ticket.department_id is None:
        return False
    return ticket.department_id in staff_department_ids(user)


def grant_access(request, ticket, expires_at=None):
    """Remember in the session that this visitor opened one of the ticket's private links.

    The grant holds while the ticket's links have not been revoked (it names the
    ticket's link hash of the moment) and, for a link that expires, until that link
    expires (``expires_at``: a datetime or a Unix time).
    """
    if expires_at is not None and not isinstance(expires_at, int | float):
        expires_at = expires_at.timestamp()
    grants = dict(request.session.get(GRANTS_KEY, {}))
    grants[str(ticket.pk)] = [ticket.access_token_hash, expires_at]
    request.session[GRANTS_KEY] = grants


def has_grant(request, ticket):
    stored = request.session.get(GRANTS_KEY, {}).get(str(ticket.pk))
    if isinstance(stored, str):  # a grant from before links expired: no expiry
        stored = [stored, None]
    if not (isinstance(stored, list | tuple) and len(stored) == 2):
        return False
    link_hash, expires_at = stored
    if not link_hash or link_hash != ticket.access_token_hash:
        return False
    return expires_at is None or expires_at > time.time()


def customer_can_access(request, ticket):
    return ticket.is_customer(request.user) or has_grant(request, ticket)


# --- what a desk user may do to a ticket (the workflow enforces these: workflow/rules.py)

CHANGE_FIELDS = "wagtail_tickets.change_ticket_fields"
ASSIGN = "wagtail_tickets.assign_ticket"


def may_work_on(user, ticket):
    """Reply, add notes, close and reopen: any desk user who can see the ticket."""
    return staff_can_access(user, ticket)


def may_change_fields(user, ticket):
    """Subject, priority, department, and merging."""
    return staff_can_access(user, ticket) and user.has_perm(CHANGE_FIELDS)


def may_change_status(user, ticket):
    """Any status, beyond closing and reopening: the same right as the other fields."""
    return may_change_fields(user, ticket)


def may_assign(user, ticket):
    return staff_can_access(user, ticket) and user.has_perm(ASSIGN)


def may_be_assigned(assignee, ticket):
    """The assignee must be a current desk user who can see the ticket's department."""
    return staff_can_access(assignee, ticket)


def may_see_department(user, department):
    if not has_desk_rights(user):
        return False
    return sees_all_departments(user) or department.pk in staff_department_ids(user)
