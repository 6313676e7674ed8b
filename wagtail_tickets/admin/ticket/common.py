"""What every ticket screen view shares: URLs, permission checks, settings, the mixins."""

from urllib.parse import urlencode

from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext
from wagtail.models import Page, Site

from ...attachments import AttachmentRules
from ...models import DepartmentPage, HelpdeskSettings
from ...permissions import sees_all_departments, visible_tickets
from ..menu import desk_profile, is_desk_user

NAMESPACE = "helpdesk_tickets"
INBOX_URL_NAME = "helpdesk_inbox:index"


def url(name, *args):
    return reverse(f"{NAMESPACE}:{name}", args=args)


def can(user, codename):
    return user.has_perm(f"wagtail_tickets.{codename}")


staff_profile = desk_profile
has_desk_access = is_desk_user


def agent_departments(user):
    """The departments whose tickets ``user`` works on (all of them for some)."""
    queryset = DepartmentPage.objects.order_by("path")
    if sees_all_departments(user):
        return list(queryset)
    profile = staff_profile(user)
    if profile is None:
        return []
    return list(queryset.filter(staff_members=profile))


def inbox_url():
    try:
        return reverse(INBOX_URL_NAME)
    except Exception:
        return None


def settings_for_department(request, department):
    """The helpdesk settings of the site the department belongs to: as the customer's
    pages keep them in Django's cache, else in one query (then kept).

    That is the site whose settings the customer's forms use, whatever host the admin
    is reached by. Falls back to the request's site when that site has no settings row.
    """
    if department is not None and department.path:
        # Wagtail's own answer to "which site is this page on", from its cached root
        # paths (no query).
        parts = department.get_url_parts(request) if department.url_path else None
        kept = HelpdeskSettings.cached(parts[0]) if parts else None
        if kept is not None:
            return kept
        steplen = Page.steplen
        prefixes = [
            department.path[:end] for end in range(steplen, len(department.path) + 1, steplen)
        ]
        found = (
            HelpdeskSettings.objects.filter(site__root_page__path__in=prefixes)
            .order_by("-site__root_page__depth")
            .first()
        )
        if found is not None:
            HelpdeskSettings.keep(found)
            return found
    try:
        return HelpdeskSettings.for_request(request)
    except Site.DoesNotExist:
        return HelpdeskSettings()


def attachment_rules(request, department):
    if department is None:
        return AttachmentRules(frozenset(), 0, 0)
    return AttachmentRules.for_department(department, settings_for_department(request, department))


class TicketMixin:
    """Loads ``self.ticket`` among the tickets the user may see, else 404."""

    ticket_select_related = (
        "status",
        "priority",
        "department",
        "assignee",
        "customer",
        "merged_into",
    )

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.ticket = self.get_ticket()

    def get_ticket(self):
        queryset = visible_tickets(self.request.user).select_related(*self.ticket_select_related)
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def ticket_url(self, ticket=None):
        target = url("detail", (ticket or self.ticket).pk)
        from_query = self.request.GET.get("from", self.request.POST.get("from"))
        if from_query is not None:
            target += "?" + urlencode({"from": from_query})
        return target


class TicketSubpageMixin(TicketMixin):
    """A screen below a ticket's (edit a message, create an article): Inbox › code › title."""

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        inbox = inbox_url()
        if inbox:
            items.append({"url": inbox, "label": gettext("Inbox")})
        items.append({"url": self.ticket_url(), "label": self.ticket.code})
        items.append({"url": "", "label": self.get_page_title()})
        return items

    def get_page_subtitle(self):
        return self.ticket.code


class TicketPostMixin(TicketMixin):
    """An action on a ticket: POST only, back to the ticket screen afterwards."""

    http_method_names = ["post"]

    def done(self):
        return redirect(self.ticket_url())
