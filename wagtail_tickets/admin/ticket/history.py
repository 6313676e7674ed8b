"""A ticket's audit log: entries in words for the screen, and the full history listing."""

from django.contrib.admin.utils import quote
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.widgets.button import HeaderButton
from wagtail.log_actions import registry as log_registry

from ...inputs import ids_only
from ...models import Ticket
from ...permissions import visible_tickets
from .common import inbox_url, url

HISTORY_SHOWN = 25

FIELD_LABELS = {
    "subject": _("Subject"),
    "priority": _("Priority"),
    "department": _("Department"),
}


def _name(value):
    if isinstance(value, dict):
        return value.get("name") or value.get("code") or ""
    return "" if value is None else str(value)


def describe_entry(entry):
    """A short line about what changed, from the entry's data."""
    data = entry.data or {}
    action = entry.action
    nobody = gettext("nobody")
    if action in (
        "wagtail_tickets.ticket.status",
        "wagtail_tickets.ticket.close",
        "wagtail_tickets.ticket.reopen",
        "wagtail_tickets.ticket.resolve",
    ):
        old, new = data.get("old"), data.get("new")
        if old or new:
            return f"{gettext(_name(old))} → {gettext(_name(new))}"
    if action == "wagtail_tickets.ticket.assign":
        return f"{_name(data.get('old')) or nobody} → {_name(data.get('new')) or nobody}"
    if action == "wagtail_tickets.ticket.edit":
        parts = []
        for field, change in data.items():
            if isinstance(change, dict):
                label = FIELD_LABELS.get(field, field)
                parts.append(f"{label}: {_name(change.get('old'))} → {_name(change.get('new'))}")
        return "; ".join(parts)
    if action in ("wagtail_tickets.message.edit", "wagtail_tickets.message.delete"):
        old = (data.get("old_body") or "").strip()
        if len(old) > 200:
            old = old[:200] + "…"
        return gettext("Earlier text: %(text)s") % {"text": old} if old else ""
    if action == "wagtail_tickets.ticket.merge":
        return ", ".join(s.get("code", "") for s in data.get("sources", []))
    if action == "wagtail_tickets.ticket.merged_away":
        return _name(data.get("into"))
    if action == "wagtail_tickets.ticket.article":
        return data.get("title") or ""
    return ""


def recent_entries(ticket):
    """The ticket's latest audit log entries, labelled and described for its screen."""
    entries = list(
        log_registry.get_logs_for_instance(ticket)
        .select_related("user")
        .order_by("-timestamp", "-pk")[:HISTORY_SHOWN]
    )
    for entry in entries:
        try:
            entry.action_label = log_registry.get_action_label(entry.action)
        except KeyError:
            entry.action_label = entry.action
        entry.details = describe_entry(entry)
    return entries


class TicketHistoryView(HistoryView):
    """Wagtail's history listing (filters, paging) for one ticket."""

    model = Ticket
    permission_policy = None
    any_permission_required = []
    header_icon = "history"

    def get_base_object_queryset(self):
        return visible_tickets(self.request.user)

    def get_filterset_kwargs(self):
        kwargs = super().get_filterset_kwargs()
        # Wagtail's user filter would hand a 20-digit "id" to the database.
        kwargs["data"] = ids_only(kwargs.get("data"), ["user"])
        return kwargs

    def get_edit_url(self, instance):
        return url("detail", quote(instance.pk))

    def get_history_url(self, instance):
        return url("history", quote(instance.pk))

    def get_history_results_url(self, instance):
        return url("history_results", quote(instance.pk))

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        inbox = inbox_url()
        if inbox:
            items.append({"url": inbox, "label": gettext("Inbox")})
        items.append({"url": self.get_edit_url(self.object), "label": self.object.code})
        items.append({"url": "", "label": gettext("History"), "sublabel": self.object.code})
        return items

    @cached_property
    def header_buttons(self):
        return [
            HeaderButton(
                label=gettext("Back to the ticket"),
                url=self.get_edit_url(self.object),
                icon_name="arrow-left",
            )
        ]
