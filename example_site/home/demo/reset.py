"""Removing what an earlier load made, so --reset can build it again from scratch."""

from django.db import connection

from wagtail_tickets.models import (
    Attachment,
    CustomerSignup,
    DepartmentCounter,
    DepartmentPage,
    IncidentGrant,
    LedgerEntry,
    SupportAccount,
    Ticket,
    TicketLogEntry,
)

from .pages import find_helpdesk
from .people import delete_demo_users


def delete_demo(home):
    """Delete the support centre with its tickets, their files and history, and the demo
    users. Tickets visitors filed in the demo departments go too."""
    helpdesk = find_helpdesk(home) if home is not None else None
    if helpdesk is not None:
        departments = DepartmentPage.objects.descendant_of(helpdesk)
        tickets = Ticket.objects.filter(department__in=departments)
        # Deleting rows leaves files behind; remove them from storage first.
        for attachment in Attachment.objects.filter(message__ticket__in=tickets):
            attachment.file.delete(save=False)
        TicketLogEntry.objects.filter(ticket_id__in=tickets.values("pk")).delete()
        prefixes = list(departments.values_list("code_prefix", flat=True))
        tickets.delete()
        # Codes may restart at 1 only where no ticket with the prefix is left anywhere.
        for prefix in prefixes:
            if not Ticket.objects.filter(code__startswith=f"{prefix}-").exists():
                DepartmentCounter.objects.filter(prefix=prefix).delete()
        helpdesk.delete()
    erase_paid_support()
    delete_demo_users()


def erase_paid_support():
    """Paid support's ledger is append-only for the application; a demo reset starts it
    afresh below the ORM (the packs stay)."""
    with connection.cursor() as cursor:
        for model in (LedgerEntry, IncidentGrant, SupportAccount, CustomerSignup):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
