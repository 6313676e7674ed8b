"""The ticket screen's "Paid support" panel: what the ticket cost, with refund, return
and extra-charge links for users who may manage billing.

Shown to desk users who may read paid support, for tickets with a customer account or
in a paid department; one query (the ticket's ledger entries) when shown, none when
not.
"""

from django.urls import reverse

from ...models import DepartmentPage, LedgerEntry
from .accounts import NAMESPACE
from .policies import can_manage_billing, can_view_billing


def panel_context(request, ticket):
    user = request.user
    department = ticket.department
    paid = department is not None and department.support_mode != DepartmentPage.SupportMode.FREE
    if not (paid or ticket.customer_id) or not can_view_billing(user):
        return {"show": False}
    entries = list(
        LedgerEntry.objects.filter(ticket=ticket)
        .select_related("actor")
        .order_by("created_at", "pk")
    )
    manage = can_manage_billing(user)
    refunded, returned = {}, set()
    for entry in entries:
        if entry.kind == LedgerEntry.Kind.REFUND and entry.related_id:
            refunded[entry.related_id] = refunded.get(entry.related_id, 0) + entry.amount
        elif entry.kind == LedgerEntry.Kind.RETURN and entry.related_id:
            returned.add(entry.related_id)
    here = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    for entry in entries:
        entry.refund_url = entry.return_url = None
        if not manage:
            continue
        if entry.kind in LedgerEntry.CHARGE_KINDS and -entry.amount > refunded.get(entry.pk, 0):
            entry.refund_url = reverse(f"{NAMESPACE}:refund", args=[entry.pk]) + f"?next={here}"
        elif entry.kind == LedgerEntry.Kind.USE and entry.pk not in returned:
            entry.return_url = reverse(f"{NAMESPACE}:return", args=[entry.pk]) + f"?next={here}"
    money = [e.amount for e in entries if e.amount]
    return {
        "show": True,
        "ticket": ticket,
        "entries": entries,
        "net": -sum(money) if money else None,
        "incidents": -sum(e.incidents for e in entries),
        "can_manage": manage,
        "charge_url": (
            reverse(f"{NAMESPACE}:extra_charge", args=[ticket.pk]) + f"?next={here}"
            if manage and ticket.customer_id
            else None
        ),
        "account_url": (
            reverse(f"{NAMESPACE}:inspect", args=[entries[0].account_id]) if entries else None
        ),
    }


__all__ = ["panel_context"]
