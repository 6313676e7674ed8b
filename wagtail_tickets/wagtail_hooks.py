from django.utils.translation import gettext_lazy as _
from wagtail import hooks

# The desk's modules register their own hooks when imported.
from .admin import analytics, config, dashboard, inbox, reports, ticket  # noqa: F401
from .admin.menu import HelpdeskViewSetGroup

LOG_ACTIONS = {
    "wagtail_tickets.ticket.create": (_("Ticket opened"), _("Ticket opened")),
    "wagtail_tickets.message.create": (_("Reply posted"), _("Reply posted")),
    "wagtail_tickets.note.create": (_("Internal note added"), _("Internal note added")),
    "wagtail_tickets.ticket.status": (_("Status changed"), _("Status changed")),
    "wagtail_tickets.ticket.resolve": (_("Ticket resolved"), _("Ticket resolved")),
    "wagtail_tickets.ticket.close": (_("Ticket closed"), _("Ticket closed")),
    "wagtail_tickets.ticket.reopen": (_("Ticket reopened"), _("Ticket reopened")),
    "wagtail_tickets.ticket.assign": (_("Ticket assigned"), _("Ticket assigned")),
    "wagtail_tickets.ticket.edit": (_("Ticket fields changed"), _("Ticket fields changed")),
    "wagtail_tickets.message.edit": (_("Message edited"), _("Message edited")),
    "wagtail_tickets.message.delete": (_("Message deleted"), _("Message deleted")),
    "wagtail_tickets.ticket.merge": (_("Tickets merged"), _("Other tickets merged into this one")),
    "wagtail_tickets.ticket.merged_away": (
        _("Merged into another ticket"),
        _("Merged into another ticket"),
    ),
    "wagtail_tickets.ticket.article": (
        _("Article drafted"),
        _("A draft knowledge-base article was created from this ticket"),
    ),
    "wagtail_tickets.article.from_ticket": (
        _("Drafted from a ticket"),
        _("Drafted from a resolved helpdesk ticket"),
    ),
    "wagtail_tickets.rating.create": (_("Reply rated"), _("The customer rated a reply")),
    "wagtail_tickets.rating.change": (
        _("Rating changed"),
        _("The customer changed their rating of a reply"),
    ),
    "wagtail_tickets.rating.reopen": (
        _("Reopened after a low rating"),
        _("The customer reopened the ticket after rating a reply 1 or 2"),
    ),
    "wagtail_tickets.ticket.link_issued": (
        _("Private link issued"),
        _("A new private link was issued; earlier links stopped working"),
    ),
}


@hooks.register("register_log_actions")
def register_ticket_log_actions(actions):
    for action, (label, message) in LOG_ACTIONS.items():
        actions.register_action(action, label, message)


@hooks.register("register_admin_viewset")
def register_helpdesk_menu():
    return HelpdeskViewSetGroup()
