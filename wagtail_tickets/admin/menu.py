"""The "Helpdesk" admin menu and what every desk screen asks about the current user.

Joining the menu
    A viewset sets ``menu_hook = HELPDESK_MENU_HOOK`` (and a ``menu_order``) and is
    registered with the ``register_admin_viewset`` hook; a plain ``MenuItem`` joins by a
    hook function registered under ``HELPDESK_MENU_HOOK``. Orders in use: Inbox 10,
    Departments 20, Statuses 30, Priorities 40, Staff 50, Saved searches 60,
    My desk profile 70, Mailboxes 100; later items (support accounts, notification
    templates, reports) take 80 and up.

The open-ticket badge
    ``open_ticket_count(user)`` is what an agent has to deal with: the **active**
    tickets (status kind new / open / waiting for customer) that they may see and that
    are **assigned to them or unassigned in their departments**. "My departments" are
    the departments of the user's desk profile; a user who sees all departments and has
    no department of their own counts the unassigned tickets of every department. It
    costs one COUNT query, cached on the user object, so it is run at most once per
    request however many menu items show it. It stops at ``counts.COUNT_CAP`` (shown as
    "999+"), so it costs the same with 100 or 100,000 active tickets.

    The Helpdesk menu shows it in its label ("Helpdesk (12)"). The inbox's menu item
    shows it too by mixing in ``OpenTicketCountMixin``::

        @cached_property
        def menu_item_class(self):
            return type("InboxMenuItem", (OpenTicketCountMixin, super().menu_item_class), {})

    Wagtail's sidebar has no badge widget of its own, so the count is appended to the
    label (and given as ``data-wt-open-tickets`` on the item for styling and tests).
"""

from django.db.models import Exists, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import Menu, SubmenuMenuItem
from wagtail.admin.viewsets.base import ViewSetGroup

from ..permissions import desk_membership, has_desk_rights, sees_all_departments, visible_tickets
from . import counts as desk_counts

#: Viewsets set ``menu_hook = HELPDESK_MENU_HOOK`` to appear in the Helpdesk menu;
#: a hook function of this name may also return a plain MenuItem.
HELPDESK_MENU_HOOK = "register_helpdesk_menu_item"

_COUNT_CACHE = "_wagtail_tickets_open_ticket_count"


def desk_profile(user):
    """The user's StaffMember profile or None, read with its departments once per request."""
    if not (user and user.is_authenticated):
        return None
    return desk_membership(user)[0]


def is_desk_user(user):
    """Whether ``user`` works in the desk: ``permissions.has_desk_rights``."""
    return has_desk_rights(user)


def my_departments_filter(user):
    """A Q for "the tickets of my departments".

    Users limited to their departments are already limited by ``visible_tickets``; for
    users who see every department it picks their profile's departments, or every
    department when they have none.
    """
    if not sees_all_departments(user):
        return Q()
    from ..models import StaffMember

    # A subquery, not ``staff_department_ids``: those users' requests need no profile
    # otherwise, and this keeps them from querying it.
    mine = StaffMember.departments.through.objects.filter(staffmember__user=user).values(
        "departmentpage_id"
    )
    return Q(department_id__in=mine) | ~Exists(mine)


def open_ticket_count(user):
    """Active tickets assigned to ``user`` or unassigned in their departments.

    One COUNT query of at most ``COUNT_CAP`` rows, cached on the user object (that is,
    per request).
    """
    cached = getattr(user, _COUNT_CACHE, None)
    if cached is not None:
        return cached
    if not is_desk_user(user):
        count = 0
    else:
        count = desk_counts.capped_count(
            visible_tickets(user)
            .active()
            .filter(Q(assignee=user) | (Q(assignee__isnull=True) & my_departments_filter(user))),
            desk_counts.COUNT_CAP,
        )
    try:
        setattr(user, _COUNT_CACHE, count)
    except AttributeError:  # pragma: no cover - an object that takes no attributes
        pass
    return count


def label_with_count(label, count):
    if not count:
        return label
    return gettext("%(label)s (%(count)s)") % {
        "label": label,
        "count": desk_counts.display_count(count, desk_counts.COUNT_CAP),
    }


class OpenTicketCountMixin:
    """A MenuItem mixin adding the open-ticket count to the label, per request."""

    def render_component(self, request):
        component = super().render_component(request)
        count = open_ticket_count(request.user)
        if count:
            component.label = label_with_count(component.label, count)
            # A new dict: the item's own attrs are shared by every request.
            component.attrs = {
                **component.attrs,
                "data-wt-open-tickets": desk_counts.display_count(count, desk_counts.COUNT_CAP),
            }
        return component


class HelpdeskSubmenuMenuItem(OpenTicketCountMixin, SubmenuMenuItem):
    pass


class HelpdeskViewSetGroup(ViewSetGroup):
    menu_label = _("Helpdesk")
    menu_icon = "clipboard-list"
    # Wagtail's sidebar opens every submenu whose path starts with the open one's
    # (".helpdesk".startswith(".help") would open Wagtail's Help menu as well), so the
    # name must not share a prefix with another top-level item.
    menu_name = "wagtail-tickets"
    menu_order = 150
    submenu_hook = HELPDESK_MENU_HOOK
    items = ()

    def get_menu_item(self, order=None):
        return HelpdeskSubmenuMenuItem(
            label=self.menu_label,
            menu=Menu(register_hook_name=self.submenu_hook, items=self.get_submenu_items()),
            name=self.menu_name,
            icon_name=self.menu_icon,
            order=self.get_menu_item_order(order),
        )
