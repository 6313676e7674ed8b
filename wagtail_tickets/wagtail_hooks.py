from django.utils.translation import gettext_lazy as _
from wagtail import hooks

# The desk's modules register their own hooks when imported.
from .admin import (  # noqa: F401
    analytics,
    config,
    dashboard,
    inbox,
    mailboxes,
    reports,
    saved_replies,
    ticket,
)
from .admin import billing as billing_admin  # noqa: F401
from .admin import notification_templates as notification_templates_admin  # noqa: F401
from .admin.menu import HelpdeskViewSetGroup
from .models import Ticket, TicketLogEntry

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
        _("A new private link was mailed; earlier links keep working"),
    ),
    "wagtail_tickets.ticket.links_revoked": (
        _("Private links revoked"),
        _("Every private link of this ticket was revoked"),
    ),
    "wagtail_tickets.ticket.mail_resumed": (
        _("Mail to the customer resumed"),
        _("Mail goes to the customer's address again after it had bounced"),
    ),
}


@hooks.register("register_log_actions")
def register_ticket_log_actions(actions):
    # Tickets keep their history in a log model of their own, whose entries Wagtail's
    # reports show only to those who may see the ticket (see models/audit.py).
    actions.register_model(Ticket, TicketLogEntry)
    for action, (label, message) in LOG_ACTIONS.items():
        actions.register_action(action, label, message)


# Paid support: logged on the customer's SupportAccount (tickets claimed: on the ticket;
# sign-ups: on the user).
BILLING_LOG_ACTIONS = {
    "wagtail_tickets.billing.open": (_("Support account opened"), _("Support account opened")),
    "wagtail_tickets.billing.charge": (_("Charged for a request"), _("Charged for a request")),
    "wagtail_tickets.billing.use": (_("Incident used"), _("An incident was used by a request")),
    "wagtail_tickets.billing.deposit": (_("Deposit"), _("Money was credited")),
    "wagtail_tickets.billing.adjust": (_("Balance adjusted"), _("The balance was adjusted")),
    "wagtail_tickets.billing.credit_limit": (
        _("Credit limit changed"),
        _("The credit limit was changed"),
    ),
    "wagtail_tickets.billing.refund": (_("Refund"), _("A charge was refunded")),
    "wagtail_tickets.billing.extra": (
        _("Charged for extra work"),
        _("A ticket's customer was charged for extra work"),
    ),
    "wagtail_tickets.billing.grant": (_("Incidents granted"), _("An incident pack was granted")),
    "wagtail_tickets.billing.return": (_("Incident returned"), _("An incident was given back")),
    "wagtail_tickets.billing.expire": (_("Incidents expired"), _("Unused incidents lapsed")),
    "wagtail_tickets.billing.renew": (_("Quota renewed"), _("A monthly quota was renewed")),
    "wagtail_tickets.billing.end_grant": (_("Grant ended"), _("A grant was ended early")),
    "wagtail_tickets.billing.expiry_notice": (
        _("Expiry notice sent"),
        _("The customer was told that incidents expire soon"),
    ),
    "wagtail_tickets.ticket.claimed": (
        _("Ticket joined an account"),
        _("An anonymous ticket joined the account of its verified e-mail address"),
    ),
    "wagtail_tickets.customer.verified": (
        _("Customer address verified"),
        _("A customer verified their e-mail address"),
    ),
}


@hooks.register("register_log_actions")
def register_billing_log_actions(actions):
    for action, (label, message) in BILLING_LOG_ACTIONS.items():
        actions.register_action(action, label, message)


@hooks.register("register_admin_viewset")
def register_helpdesk_menu():
    return HelpdeskViewSetGroup()
