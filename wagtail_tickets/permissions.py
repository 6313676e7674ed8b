"""Who may see a ticket, in one place for the portal, downloads and the desk."""

from django.db.models import Q

GRANTS_KEY = "wagtail_tickets_grants"


def sees_all_departments(user):
    return user.is_superuser or user.has_perm("wagtail_tickets.view_all_departments")


def staff_ticket_filter(user):
    """A Q limiting tickets to those ``user`` may work on in the desk, or None for all."""
    if sees_all_departments(user):
        return None
    from .models import StaffMember

    departments = StaffMember.departments.through.objects.filter(staffmember__user=user).values(
        "departmentpage_id"
    )
    return Q(department_id__in=departments)


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
    profile = getattr(user, "helpdesk_profile", None)
    if profile is None:
        return False
    return profile.departments.filter(pk=ticket.department_id).exists()


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
