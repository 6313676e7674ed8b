"""Who may see a ticket, in one place for the portal, downloads and the desk."""

from django.db import connection
from django.db.models import F, Q

GRANTS_KEY = "wagtail_tickets_grants"


def sees_all_departments(user):
    return user.is_superuser or user.has_perm("wagtail_tickets.view_all_departments")


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
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    condition = staff_ticket_filter(user)
    return queryset if condition is None else queryset.filter(condition)


def staff_can_access(user, ticket):
    if not (user and user.is_authenticated and user.is_active):
        return False
    if sees_all_departments(user):
        return True
    if ticket.department_id is None:
        return False
    return ticket.department_id in staff_department_ids(user)


def grant_access(request, ticket):
    """Remember in the session that this visitor opened the ticket's private link."""
    grants = dict(request.session.get(GRANTS_KEY, {}))
    grants[str(ticket.pk)] = ticket.access_token_hash
    request.session[GRANTS_KEY] = grants


def has_grant(request, ticket):
    # A grant holds only while the link it came from is the ticket's current one.
    stored = request.session.get(GRANTS_KEY, {}).get(str(ticket.pk))
    return bool(stored) and stored == ticket.access_token_hash


def customer_can_access(request, ticket):
    return ticket.is_customer(request.user) or has_grant(request, ticket)
