"""Paid support's Python API, for a shop or billing system that sells support.

The payment itself happens outside this package; once it has, credit the money or
grant the incidents here (or with ``manage.py helpdesk_deposit`` / ``helpdesk_grant``)::

    from wagtail_tickets import billing

    billing.deposit(user, "250.00", reason="Order 1042", reference="pay_8fj2k")
    billing.grant_pack(user, pack, reason="Order 1043", reference="order-1043")

Every function runs in its own transaction (or joins the caller's), locks the
customer's account, appends to its ledger, writes Wagtail's audit log and raises
``BillingError`` – whose text says why, for people – when it refuses. ``reference``
is the payment's or order's id in your system: a second call with the same reference
(a retried webhook) changes nothing and returns what the first one recorded. Amounts
are ``Decimal`` or strings such as "99.50" in the site's currency
(``WAGTAIL_TICKETS_CURRENCY``), more than zero, at most ``WAGTAIL_TICKETS_MAX_AMOUNT``,
with at most two decimal places. ``actor`` is the user who acted, if any.

``deposit(user, amount, *, reason="", reference="", actor=None)``
    Credit money; opens the account on first use. Returns the ledger entry.
``grant_pack(user, pack, *, reason="", reference="", actor=None)``
    Give the incidents of an ``IncidentPack`` (or its id). Returns the
    ``IncidentGrant``.
``adjust(user, amount, *, reason, actor=None, reference="")``
    Correct the balance up or down (negative ``amount``); the reason is required.
``set_credit_limit(user, limit, *, actor=None, reason="")``
    Let the balance go as far as ``-limit`` for per-request charges.
``refund(entry, amount=None, *, actor=None, reason="", reference="")``
    Pay back a charge, in full or in part.
``return_incident(entry, *, actor=None, reason="")``
    Give back the incident a ticket used.
``add_charge(ticket, amount, *, reason, actor=None, reference="")``
    Charge a ticket's customer for extra work.
``end_grant(grant, *, reason, actor=None)``
    End a grant now; its incidents lapse.
``quote_for(user, department)``
    What a new ticket in the department would cost the user (a ``Quote``).
``account_for(user)``
    The user's ``SupportAccount``, or None.
``settle_due()`` and ``warn_expiring()``
    The daily round of ``manage.py helpdesk_billing_daily``.
"""

from .models import SupportAccount
from .workflow.billing import (
    BillingError,
    PaymentRequired,
    Quote,
    add_charge,
    adjust,
    deposit,
    end_grant,
    grant_pack,
    open_account,
    quote_for,
    refund,
    refundable,
    return_incident,
    set_credit_limit,
    settle,
    settle_due,
    warn_expiring,
)


def account_for(user):
    """The user's support account, or None when they have none yet."""
    if user is None or not getattr(user, "pk", None):
        return None
    return SupportAccount.objects.filter(customer_id=user.pk).first()


__all__ = [
    "BillingError",
    "PaymentRequired",
    "Quote",
    "account_for",
    "add_charge",
    "adjust",
    "deposit",
    "end_grant",
    "grant_pack",
    "open_account",
    "quote_for",
    "refund",
    "refundable",
    "return_incident",
    "set_credit_limit",
    "settle",
    "settle_due",
    "warn_expiring",
]
