"""Paid support: what a ticket costs, and every movement of money and incidents.

Each function runs in one transaction and takes the account's row lock
(``select_for_update``) before it reads anything it will change; every change to a
grant happens under its account's lock, so the account lock alone orders all of them
and two requests can never both spend the last incident or the last of the balance.
Each writes one or more append-only ledger entries carrying the account's balance and
incidents after them, logs to Wagtail's audit log (``wagtail_tickets.billing.*``) and
sends ``signals.ledger_changed`` once the transaction has committed.

Per-request departments debit their price from the balance (down to minus the
account's credit limit); prepaid-incident departments use one incident of the valid
grant that covers the department and lapses first. Monthly quotas renew, and expired
grants are written off, by ``settle`` – from the daily ``helpdesk_billing_daily``
command and, whenever it matters, in the same transaction that needs the incidents.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Min, OuterRef, Q, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .. import background, money, signals
from ..models import (
    DepartmentPage,
    IncidentGrant,
    IncidentPack,
    LedgerEntry,
    SupportAccount,
)
from ..models.billing import ZERO, add_months
from .tickets import WorkflowError

Kind = LedgerEntry.Kind
Mode = DepartmentPage.SupportMode
#: No balance may grow past this (the database's columns hold twelve digits).
MAX_BALANCE = Decimal("1000000000.00")
EXPIRY_NOTICE_DAYS = 7


class BillingError(WorkflowError):
    """A billing action that was refused; ``str()`` says why, for people."""


class PaymentRequired(BillingError):
    """Opening the ticket would cost more than the customer has; nothing was created."""


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _after_commit(signal, **kwargs):
    background.announce(signal, SupportAccount, **kwargs)


def _amount(value, *, allow_none=False):
    """A valid staff- or shop-given amount as a Decimal of two places, else BillingError."""
    if value is None and allow_none:
        return None
    if not money.is_valid_amount(value):
        raise BillingError(
            _("Enter an amount more than zero and at most %(limit)s, with at most two decimals.")
            % {"limit": money.format_money(money.max_amount())}
        )
    return money.to_amount(value).quantize(money.CENT)


def _reason(value, *, required=False):
    value = " ".join(str(value or "").replace("\x00", "").split())[:500]
    if required and not value:
        raise BillingError(_("Give a reason: it is kept in the ledger."))
    return value


def _reference(value):
    value = str(value or "").replace("\x00", "").strip()
    if len(value) > 100:
        raise BillingError(_("A reference has at most 100 characters."))
    return value


def _lock_account(user, *, create=False, at=None, actor=None):
    """The user's account locked for this transaction (None if there is none and
    ``create`` is false)."""
    if user is None or not getattr(user, "pk", None):
        if create:
            raise BillingError(_("Paid support needs a customer account."))
        return None
    account = SupportAccount.objects.select_for_update().filter(customer_id=user.pk).first()
    if account is not None or not create:
        return account
    now = at or timezone.now()
    try:
        # A savepoint: another request may open the same account at this moment.
        with transaction.atomic():
            account = SupportAccount.objects.create(customer=user, created_at=now, updated_at=now)
    except IntegrityError:
        account = SupportAccount.objects.select_for_update().get(customer_id=user.pk)
    else:
        log(account, "wagtail_tickets.billing.open", user=actor, timestamp=now)
    return account


def _lock_account_row(account):
    return SupportAccount.objects.select_for_update().get(pk=account.pk)


def _record(account, kind, *, at, **fields):
    """Append an entry with the account's balance and incidents as they now are."""
    return LedgerEntry.objects.create(
        account=account,
        kind=kind,
        created_at=at,
        balance_after=account.balance,
        incidents_after=account.incidents_left,
        **fields,
    )


def _save_account(account, now, *fields):
    account.updated_at = now
    account.save(update_fields=[*fields, "updated_at"])


def _next_expiry(account):
    """The earliest expiry of the account's grants that still hold incidents (a monthly
    quota holds its next month's too)."""
    return account.grants.filter(
        Q(remaining__gt=0) | Q(period_ends_at__isnull=False),
        ended_at__isnull=True,
        expires_at__isnull=False,
    ).aggregate(first=Min("expires_at"))["first"]


def _log(account, action, user, now, **data):
    log(account, f"wagtail_tickets.billing.{action}", user=user, data=data, timestamp=now)


def _ticket_data(ticket):
    return {"id": ticket.pk, "code": ticket.code} if ticket is not None else None


def _department_mode(department):
    if department is None:
        return Mode.FREE
    mode = department.support_mode
    if mode == Mode.PER_REQUEST and not (department.price_per_request or 0) > 0:
        return Mode.FREE
    return mode


def covering(department):
    """A Q for grants whose pack covers ``department`` (a pack with no departments
    covers every prepaid-incident department)."""
    through = IncidentPack.departments.through
    listed = through.objects.filter(incidentpack_id=OuterRef("pack_id"))
    return ~Exists(listed) | Exists(listed.filter(departmentpage_id=department.pk))


def _usable_grants(account, department, now):
    """Grants of ``account`` (or its id) that can serve a request in ``department`` now,
    the first to lapse first."""
    return (
        IncidentGrant.objects.filter(
            account=account,
            ended_at__isnull=True,
            remaining__gt=0,
            starts_at__lte=now,
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(Q(period_ends_at__isnull=True) | Q(period_ends_at__gt=now))
        .filter(covering(department))
        # The incidents that expire first go first; lifetime ones last.
        .order_by(F("expires_at").asc(nulls_last=True), "pk")
    )


# --------------------------------------------------------------------------------------
# Expiry and renewal
# --------------------------------------------------------------------------------------


def _period_index(grant, now):
    """How many whole months of the grant have begun by ``now`` (0 in the first)."""
    index = 0
    while add_months(grant.starts_at, index + 1) <= now:
        index += 1
    return index


def _settle(account, now, user=None):
    """Write off expired grants and renew monthly quotas whose month has ended; the
    account must be locked. Returns the entries written."""
    due = list(
        account.grants.filter(ended_at__isnull=True)
        .filter(Q(expires_at__lte=now) | Q(period_ends_at__lte=now))
        .select_related("pack")
        .order_by("pk")
    )
    entries = []
    for grant in due:
        lapsed = grant.remaining
        if grant.expires_at is not None and grant.expires_at <= now:
            grant.remaining = 0
            grant.ended_at = now
            if lapsed:
                account.incidents_left -= lapsed
                entries.append(
                    _record(
                        account,
                        Kind.EXPIRE,
                        at=now,
                        incidents=-lapsed,
                        grant=grant,
                        reason=_("%(pack)s expired") % {"pack": grant.pack.name},
                    )
                )
            grant.save(update_fields=["remaining", "ended_at"])
            continue
        # A monthly quota whose month is over: the unused incidents lapse, a full
        # month's arrive.
        index = _period_index(grant, now)
        grant.period_starts_at = add_months(grant.starts_at, index)
        ends = add_months(grant.starts_at, index + 1)
        grant.period_ends_at = min(ends, grant.expires_at) if grant.expires_at else ends
        if lapsed:
            account.incidents_left -= lapsed
            entries.append(
                _record(
                    account,
                    Kind.EXPIRE,
                    at=now,
                    incidents=-lapsed,
                    grant=grant,
                    reason=_("Unused incidents of the month of %(pack)s")
                    % {"pack": grant.pack.name},
                )
            )
        grant.remaining = grant.quantity
        account.incidents_left += grant.quantity
        entries.append(
            _record(
                account,
                Kind.RENEW,
                at=now,
                incidents=grant.quantity,
                grant=grant,
                reason=_("%(pack)s renewed for the month from %(date)s")
                % {
                    "pack": grant.pack.name,
                    "date": formats.date_format(
                        timezone.localtime(grant.period_starts_at), "SHORT_DATE_FORMAT"
                    ),
                },
            )
        )
        grant.save(update_fields=["remaining", "period_starts_at", "period_ends_at"])
    if due:
        account.next_expiry_at = _next_expiry(account)
        _save_account(account, now, "incidents_left", "next_expiry_at")
        for entry in entries:
            _log(
                account,
                "renew" if entry.kind == Kind.RENEW else "expire",
                user,
                now,
                grant=entry.grant_id,
                incidents=entry.incidents,
            )
    return entries


def settle(user=None, *, account=None, at=None):
    """Expire and renew the grants of one account that are due; returns the entries."""
    now = at or timezone.now()
    with transaction.atomic():
        locked = _lock_account_row(account) if account is not None else _lock_account(user)
        if locked is None:
            return []
        entries = _settle(locked, now)
        if entries:
            _after_commit(signals.ledger_changed, account=locked, entries=entries, user=None)
    return entries


def settle_due(*, at=None):
    """Settle every account with a grant that expired or a month that ended; one
    transaction per account. Returns the number of entries written."""
    now = at or timezone.now()
    accounts = (
        IncidentGrant.objects.filter(ended_at__isnull=True)
        .filter(Q(expires_at__lte=now) | Q(period_ends_at__lte=now))
        .values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    )
    written = 0
    for account_id in list(accounts):
        written += len(settle(account=SupportAccount(pk=account_id), at=now))
    return written


def warn_expiring(*, at=None, days=EXPIRY_NOTICE_DAYS):
    """Mark the grants with incidents left that expire within ``days`` and whose
    customer has not been told yet; each is told once (signals.grant_expiring)."""
    now = at or timezone.now()
    due = IncidentGrant.objects.filter(
        ended_at__isnull=True,
        expiry_warned_at__isnull=True,
        remaining__gt=0,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(days=days),
    ).values_list("pk", flat=True)
    warned = 0
    for grant_id in list(due):
        with transaction.atomic():
            # The UPDATE is the once-only guard when two jobs run at the same time.
            if IncidentGrant.objects.filter(pk=grant_id, expiry_warned_at__isnull=True).update(
                expiry_warned_at=now
            ):
                grant = IncidentGrant.objects.select_related("account", "pack").get(pk=grant_id)
                _log(grant.account, "expiry_notice", None, now, grant=grant.pk)
                background.announce(signals.grant_expiring, IncidentGrant, grant=grant)
                warned += 1
    return warned


# --------------------------------------------------------------------------------------
# What a request costs
# --------------------------------------------------------------------------------------


@dataclass
class Quote:
    """What filing a ticket in a department costs this customer now, or why they can't."""

    mode: str
    needs_login: bool = False
    allowed: bool = True
    price: Decimal | None = None
    balance: Decimal = ZERO
    credit_limit: Decimal = ZERO
    #: Incidents of valid grants covering the department.
    incidents: int = 0
    #: The grant the request would use.
    grant: IncidentGrant | None = None

    @property
    def is_free(self):
        return self.mode == Mode.FREE

    @property
    def is_prepaid(self):
        return self.mode == Mode.PREPAID

    @property
    def is_per_request(self):
        return self.mode == Mode.PER_REQUEST

    @property
    def available(self):
        return self.balance + self.credit_limit

    @property
    def valid_until(self):
        return self.grant.lapses_at if self.grant is not None else None

    def refusal(self):
        """Why the request cannot be filed, in the reader's language; "" if it can."""
        if self.allowed:
            return ""
        if self.needs_login:
            return _("This department is paid support: log in to file a ticket.")
        if self.is_per_request:
            if self.credit_limit:
                return _(
                    "This request costs %(price)s; your balance is %(balance)s and your "
                    "credit limit %(limit)s."
                ) % {
                    "price": money.format_money(self.price),
                    "balance": money.format_money(self.balance),
                    "limit": money.format_money(self.credit_limit),
                }
            return _("This request costs %(price)s and your balance is %(balance)s.") % {
                "price": money.format_money(self.price),
                "balance": money.format_money(self.balance),
            }
        return _("You have no incidents left for this department.")


def _effective_grants(account, department, now):
    """The grants that would serve a request now, renewals that are due counted in."""
    grants = (
        IncidentGrant.objects.filter(account=account, ended_at__isnull=True, starts_at__lte=now)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(covering(department))
        .order_by(F("expires_at").asc(nulls_last=True), "pk")
    )
    usable = []
    for grant in grants:
        if grant.period_ends_at is not None and grant.period_ends_at <= now:
            grant.remaining = grant.quantity  # renews on first use
            index = _period_index(grant, now)
            ends = add_months(grant.starts_at, index + 1)
            grant.period_ends_at = min(ends, grant.expires_at) if grant.expires_at else ends
        if grant.remaining > 0:
            usable.append(grant)
    usable.sort(key=lambda g: (g.lapses_at is None, g.lapses_at or now, g.pk))
    return usable


def quote_for(customer, department, *, at=None, detail=True):
    """What a new ticket in ``department`` would cost ``customer`` (a user, or None or
    an anonymous user for a visitor) – read only, for the form to say so.

    ``detail=False`` answers only whether the customer must log in (no queries): a
    submission learns the rest from ``charge_new_ticket``."""
    mode = _department_mode(department)
    if mode == Mode.FREE:
        return Quote(mode=Mode.FREE)
    quote = Quote(mode=mode)
    if mode == Mode.PER_REQUEST:
        quote.price = department.price_per_request
    if customer is None or not customer.is_authenticated:
        quote.needs_login = True
        quote.allowed = False
        return quote
    if not detail:
        return quote
    account = SupportAccount.objects.filter(customer_id=customer.pk).first()
    if account is not None:
        quote.balance, quote.credit_limit = account.balance, account.credit_limit
    if mode == Mode.PER_REQUEST:
        quote.allowed = quote.available >= quote.price
        return quote
    now = at or timezone.now()
    grants = _effective_grants(account, department, now) if account is not None else []
    quote.incidents = sum(grant.remaining for grant in grants)
    quote.grant = grants[0] if grants else None
    quote.allowed = quote.grant is not None
    return quote


# --------------------------------------------------------------------------------------
# Opening a ticket
# --------------------------------------------------------------------------------------


def _refuse(quote):
    raise PaymentRequired(quote.refusal())


@transaction.atomic(savepoint=False)
def charge_new_ticket(ticket, *, actor=None, at=None):
    """Charge the opening of ``ticket`` to its customer; called by ``open_ticket`` in
    its transaction, after the ticket row exists and before anything else is written.

    Free departments cost nothing and return None. Raises PaymentRequired (and so
    nothing of the ticket is created) when the customer may not file it; otherwise
    returns the ledger entry, which ``open_ticket`` records in the ticket's audit log
    entry (``opening_log_data``). Replies and reopening never come here.
    """
    department = ticket.department
    mode = _department_mode(department)
    if mode == Mode.FREE:
        return None
    now = at or timezone.now()
    customer = ticket.customer
    if customer is None:
        _refuse(Quote(mode=mode, needs_login=True, allowed=False))
    if mode == Mode.PER_REQUEST:
        account = _lock_account(customer)
        price = department.price_per_request
        if account is None or account.available < price:
            _refuse(
                Quote(
                    mode=mode,
                    allowed=False,
                    price=price,
                    balance=account.balance if account else ZERO,
                    credit_limit=account.credit_limit if account else ZERO,
                )
            )
        account.balance -= price
        _save_account(account, now, "balance")
        entry = _record(
            account,
            Kind.CHARGE,
            at=now,
            amount=-price,
            ticket=ticket,
            ticket_code=ticket.code,
            department=department,
            actor=actor,
        )
    else:
        account, entry = _take_incident_quickly(ticket, department, actor, now)
        if entry is None:
            account = _lock_account(customer)
            entry = _use_incident(account, ticket, department, actor, now)
    _after_commit(signals.ledger_changed, account=account, entries=[entry], user=actor or customer)
    return entry


def opening_log_data(entry):
    """What the ticket's "opened" audit log entry says about its charge."""
    if entry is None:
        return {}
    if entry.kind == Kind.CHARGE:
        return {"charge": {"entry": entry.pk, "amount": str(-entry.amount)}}
    return {"incident": {"entry": entry.pk, "grant": entry.grant_id, "left": entry.incidents_after}}


def _returning():
    if connection.vendor == "postgresql":
        return True
    return connection.vendor == "sqlite" and sqlite_version_info() >= (3, 35)


def sqlite_version_info():
    import sqlite3

    return sqlite3.sqlite_version_info


def _take_incident_quickly(ticket, department, actor, now):
    """The usual case of a prepaid request in three statements: take an incident off
    the account (which locks its row, so every other change to the account and its
    grants waits), take it off the grant that lapses first, write the entry.

    Returns (None, None) when the usual case does not apply – no incidents, a grant
    that expired or a month that ended since the daily round, a grant that does not
    cover the department – and the caller goes the careful way (``_use_incident``).
    """
    if not _returning():
        return None, None
    quote = connection.ops.quote_name
    accounts = quote(SupportAccount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {accounts} SET incidents_left = incidents_left - 1, updated_at = %s "
            "WHERE customer_id = %s AND incidents_left > 0 RETURNING id, balance, incidents_left",
            [connection.ops.adapt_datetimefield_value(now), ticket.customer_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None, None
    account_id, balance, incidents_left = row
    usable = _usable_grants(account_id, department, now).values("pk")[:1]
    usable_sql, usable_params = usable.query.sql_with_params()
    grants = quote(IncidentGrant._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {grants} SET remaining = remaining - 1 WHERE id = ({usable_sql}) "
            "RETURNING id, remaining, period_ends_at IS NULL",
            usable_params,
        )
        taken = cursor.fetchone()
    if taken is None:
        # Give the incident back to the account row; the careful way decides.
        SupportAccount.objects.filter(pk=account_id).update(incidents_left=F("incidents_left") + 1)
        return None, None
    grant_id, remaining, not_monthly = taken
    account = SupportAccount(
        pk=account_id,
        customer=ticket.customer,
        balance=Decimal(str(balance)).quantize(money.CENT),
        incidents_left=incidents_left,
    )
    if remaining == 0 and not_monthly:
        # The grant is used up: the account's next expiry may move.
        account.next_expiry_at = _next_expiry(account)
        SupportAccount.objects.filter(pk=account_id).update(next_expiry_at=account.next_expiry_at)
    entry = _record(
        account,
        Kind.USE,
        at=now,
        incidents=-1,
        grant_id=grant_id,
        ticket=ticket,
        ticket_code=ticket.code,
        department=department,
        actor=actor,
    )
    return account, entry


def _use_incident(account, ticket, department, actor, now):
    """Use an incident the careful way: with the account locked, settle what is due
    (expiry, a new month) when no grant serves, then take one."""
    grant = None
    if account is not None:
        grant = _usable_grants(account, department, now).first()
        if grant is None and _settle(account, now):
            # A month renewed (or a grant expired) just now: look again.
            grant = _usable_grants(account, department, now).first()
    if grant is None:
        _refuse(Quote(mode=Mode.PREPAID, allowed=False))
    grant.remaining -= 1
    grant.save(update_fields=["remaining"])
    account.incidents_left -= 1
    fields = ["incidents_left"]
    if grant.remaining == 0 and not grant.is_monthly:
        account.next_expiry_at = _next_expiry(account)
        fields.append("next_expiry_at")
    _save_account(account, now, *fields)
    return _record(
        account,
        Kind.USE,
        at=now,
        incidents=-1,
        grant=grant,
        ticket=ticket,
        ticket_code=ticket.code,
        department=department,
        actor=actor,
    )


# --------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------


@transaction.atomic
def open_account(user, *, actor=None, at=None):
    """The user's account, opened now if they had none: (account, opened)."""
    existing = _lock_account(user)
    if existing is not None:
        return existing, False
    return _lock_account(user, create=True, at=at, actor=actor), True


def _check_ceiling(account):
    if account.balance > MAX_BALANCE:
        raise BillingError(
            _("The balance cannot grow past %(limit)s.")
            % {"limit": money.format_money(MAX_BALANCE)}
        )


def _existing(kind, reference):
    if not reference:
        return None
    return LedgerEntry.objects.filter(kind=kind, reference=reference).first()


def _same_account_or_refuse(entry, account):
    if entry.account_id != account.pk:
        raise BillingError(
            _("The reference %(reference)s was already used for another account.")
            % {"reference": entry.reference}
        )
    return entry


@transaction.atomic
def deposit(user, amount, *, reason="", reference="", actor=None, at=None):
    """Credit ``amount`` to ``user``'s account (opened on first use).

    With a ``reference`` (a payment's id) a second call with the same reference
    records nothing and returns the first entry, so a retried webhook credits once.
    """
    amount = _amount(amount)
    reason, reference = _reason(reason), _reference(reference)
    now = at or timezone.now()
    account = _lock_account(user, create=True, at=now)
    # Checked under the lock: a concurrent retry waits above, then finds the entry.
    existing = _existing(Kind.DEPOSIT, reference)
    if existing is not None:
        return _same_account_or_refuse(existing, account)
    account.balance += amount
    _check_ceiling(account)
    _save_account(account, now, "balance")
    entry = _record(
        account,
        Kind.DEPOSIT,
        at=now,
        amount=amount,
        actor=actor,
        reason=reason,
        reference=reference,
    )
    _log(account, "deposit", actor, now, amount=str(amount), reference=reference, reason=reason)
    _after_commit(signals.ledger_changed, account=account, entries=[entry], user=actor)
    return entry


@transaction.atomic
def adjust(user, amount, *, reason, actor=None, reference="", at=None):
    """Correct the balance by ``amount`` (positive or negative); a reason is required."""
    number = money.to_amount(amount)
    if number is None or number == 0:
        raise BillingError(_("An adjustment needs an amount other than zero."))
    _amount(abs(number))
    number = number.quantize(money.CENT)
    reason = _reason(reason, required=True)
    reference = _reference(reference)
    now = at or timezone.now()
    account = _lock_account(user, create=True, at=now)
    existing = _existing(Kind.ADJUST, reference)
    if existing is not None:
        return _same_account_or_refuse(existing, account)
    if account.balance + number < -account.credit_limit:
        raise BillingError(
            _("This would take the balance to %(balance)s, below its credit limit.")
            % {"balance": money.format_money(account.balance + number)}
        )
    account.balance += number
    _check_ceiling(account)
    _save_account(account, now, "balance")
    entry = _record(
        account, Kind.ADJUST, at=now, amount=number, actor=actor, reason=reason, reference=reference
    )
    _log(account, "adjust", actor, now, amount=str(number), reason=reason)
    _after_commit(signals.ledger_changed, account=account, entries=[entry], user=actor)
    return entry


@transaction.atomic
def set_credit_limit(user, limit, *, actor=None, reason="", at=None):
    """Let the balance go down to minus ``limit`` (0: never below zero)."""
    number = money.to_amount(limit)
    if number is None or number < 0 or number > money.max_amount():
        raise BillingError(
            _("Enter a credit limit from 0 to %(limit)s.")
            % {"limit": money.format_money(money.max_amount())}
        )
    if number != number.quantize(money.CENT):
        raise BillingError(_("Use at most two decimal places."))
    now = at or timezone.now()
    account = _lock_account(user, create=True, at=now)
    if account.balance < -number:
        raise BillingError(
            _("The balance is %(balance)s; the credit limit cannot be less than the debt.")
            % {"balance": money.format_money(account.balance)}
        )
    old = account.credit_limit
    account.credit_limit = number
    _save_account(account, now, "credit_limit")
    _log(account, "credit_limit", actor, now, old=str(old), new=str(number), reason=_reason(reason))
    return account


def _refundable(charge):
    refunded = (
        LedgerEntry.objects.filter(related=charge, kind=Kind.REFUND).aggregate(total=Sum("amount"))[
            "total"
        ]
        or ZERO
    )
    return (-charge.amount - refunded).quantize(money.CENT)


def refundable(charge):
    """What is left to refund of a charge."""
    return _refundable(charge) if charge.kind in LedgerEntry.CHARGE_KINDS else ZERO


@transaction.atomic
def refund(charge, amount=None, *, actor=None, reason="", reference="", at=None):
    """Pay back a charge, in full (``amount`` None) or in part; never more than was
    charged less the earlier refunds. A ``reference`` (the admin form sends one) makes a
    repeated request a refused duplicate rather than a second refund."""
    amount = _amount(amount, allow_none=True)
    reason, reference = _reason(reason), _reference(reference)
    now = at or timezone.now()
    charge = LedgerEntry.objects.select_related("account").get(pk=charge.pk)
    if charge.kind not in LedgerEntry.CHARGE_KINDS:
        raise BillingError(_("Only charges can be refunded."))
    account = _lock_account_row(charge.account)
    if _existing(Kind.REFUND, reference) is not None:
        raise BillingError(_("This refund has already been made."))
    left = _refundable(charge)
    if left <= 0:
        raise BillingError(_("This charge has already been refunded in full."))
    if amount is None:
        amount = left
    elif amount > left:
        raise BillingError(
            _("At most %(amount)s of this charge can still be refunded.")
            % {"amount": money.format_money(left)}
        )
    account.balance += amount
    _save_account(account, now, "balance")
    entry = _record(
        account,
        Kind.REFUND,
        at=now,
        amount=amount,
        related=charge,
        ticket_id=charge.ticket_id,
        ticket_code=charge.ticket_code,
        department_id=charge.department_id,
        actor=actor,
        reason=reason,
        reference=reference,
    )
    _log(
        account,
        "refund",
        actor,
        now,
        amount=str(amount),
        charge=charge.pk,
        ticket=charge.ticket_code,
        reason=reason,
    )
    _after_commit(signals.ledger_changed, account=account, entries=[entry], user=actor)
    return entry


@transaction.atomic
def add_charge(ticket, amount, *, actor=None, reason, reference="", at=None):
    """Charge the ticket's customer for extra work on it (a reason is required)."""
    amount = _amount(amount)
    reason = _reason(reason, required=True)
    reference = _reference(reference)
    now = at or timezone.now()
    if ticket.customer_id is None:
        raise BillingError(
            _("This ticket has no customer account to charge; it was filed without logging in.")
        )
    account = _lock_account(ticket.customer, create=True, at=now)
    if _existing(Kind.EXTRA, reference) is not None:
        raise BillingError(_("This charge has already been made."))
    if account.available < amount:
        raise BillingError(
            _("The customer's balance (%(balance)s) does not cover %(amount)s.")
            % {
                "balance": money.format_money(account.balance),
                "amount": money.format_money(amount),
            }
        )
    account.balance -= amount
    _save_account(account, now, "balance")
    entry = _record(
        account,
        Kind.EXTRA,
        at=now,
        amount=-amount,
        ticket=ticket,
        ticket_code=ticket.code,
        department_id=ticket.department_id,
        actor=actor,
        reason=reason,
        reference=reference,
    )
    _log(
        account, "extra", actor, now, amount=str(amount), ticket=_ticket_data(ticket), reason=reason
    )
    _after_commit(signals.ledger_changed, account=account, entries=[entry], user=actor)
    return entry


# --------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------


@transaction.atomic
def grant_pack(user, pack, *, actor=None, reason="", reference="", at=None):
    """Give ``user`` the incidents of ``pack``; returns the IncidentGrant.

    With a ``reference`` (an order's id) a second call with the same reference grants
    nothing and returns the first grant.
    """
    reason, reference = _reason(reason), _reference(reference)
    now = at or timezone.now()
    pack = IncidentPack.objects.filter(pk=getattr(pack, "pk", pack)).first()
    if pack is None:
        raise BillingError(_("There is no such incident pack."))
    if not pack.active:
        raise BillingError(_("The pack “%(pack)s” is not active.") % {"pack": pack.name})
    if pack.incidents < 1:
        raise BillingError(_("A pack must hold at least one incident."))
    account = _lock_account(user, create=True, at=now)
    existing = _existing(Kind.GRANT, reference)
    if existing is not None:
        return _same_account_or_refuse(existing, account).grant
    expires_at, period_starts_at, period_ends_at = pack.schedule(now)
    grant = IncidentGrant.objects.create(
        account=account,
        pack=pack,
        quantity=pack.incidents,
        remaining=pack.incidents,
        starts_at=now,
        expires_at=expires_at,
        period_starts_at=period_starts_at,
        period_ends_at=period_ends_at,
        created_at=now,
    )
    account.incidents_left += grant.quantity
    if expires_at is not None and (
        account.next_expiry_at is None or expires_at < account.next_expiry_at
    ):
        account.next_expiry_at = expires_at
    _save_account(account, now, "incidents_left", "next_expiry_at")
    entry = _record(
        account,
        Kind.GRANT,
        at=now,
        incidents=grant.quantity,
        grant=grant,
        actor=actor,
        reason=reason or pack.name,
        reference=reference,
    )
    _log(
        account,
        "grant",
        actor,
        now,
        pack={"id": pack.pk, "name": pack.name},
        incidents=grant.quantity,
        reference=reference,
        reason=reason,
    )
    _after_commit(signals.ledger_changed, account=account, entries=[entry], user=actor)
    return grant


@transaction.atomic
def end_grant(grant, *, actor=None, reason, at=None):
    """End a grant now (granted by mistake, a cancelled quota); its incidents lapse."""
    reason = _reason(reason, required=True)
    now = at or timezone.now()
    grant = IncidentGrant.objects.select_related("account", "pack").get(pk=grant.pk)
    account = _lock_account_row(grant.account)
    grant = IncidentGrant.objects.select_related("pack").get(pk=grant.pk)
    if grant.ended_at is not None:
        raise BillingError(_("This grant has already ended."))
    lapsed = grant.remaining
    grant.remaining = 0
    grant.ended_at = now
    grant.save(update_fields=["remaining", "ended_at"])
    account.incidents_left -= lapsed
    account.next_expiry_at = _next_expiry(account)
    _save_account(account, now, "incidents_left", "next_expiry_at")
    entries = []
    if lapsed:
        entries.append(
            _record(
                account,
                Kind.EXPIRE,
                at=now,
                incidents=-lapsed,
                grant=grant,
                actor=actor,
                reason=reason,
            )
        )
    _log(account, "end_grant", actor, now, grant=grant.pk, incidents=lapsed, reason=reason)
    if entries:
        _after_commit(signals.ledger_changed, account=account, entries=entries, user=actor)
    return grant


def _returnable_problem(use, grant, now):
    if grant.ended_at is not None or not grant.is_valid_at(now):
        if (
            grant.period_ends_at is not None
            and grant.period_ends_at <= now
            and (grant.expires_at is None or grant.expires_at > now)
        ):
            return None  # a month to renew first; checked again after settling
        return _("The grant this incident came from has expired; grant a new pack instead.")
    if grant.period_starts_at is not None and use.created_at < grant.period_starts_at:
        return _("The incident was used in an earlier month of the quota, which has lapsed.")
    if grant.remaining >= grant.quantity:
        return _("The grant this incident came from is already full.")
    return None


@transaction.atomic
def return_incident(use, *, actor=None, reason="", at=None):
    """Give back the incident a ticket used (the request was our fault) to its grant."""
    reason = _reason(reason)
    now = at or timezone.now()
    use = LedgerEntry.objects.select_related("account").get(pk=use.pk)
    if use.kind != Kind.USE:
        raise BillingError(_("Only a used incident can be returned."))
    account = _lock_account_row(use.account)
    if LedgerEntry.objects.filter(related=use, kind=Kind.RETURN).exists():
        raise BillingError(_("This incident has already been returned."))
    settled = _settle(account, now)
    grant = IncidentGrant.objects.select_related("pack").get(pk=use.grant_id)
    problem = _returnable_problem(use, grant, now)
    if problem:
        raise BillingError(problem)
    grant.remaining += 1
    grant.save(update_fields=["remaining"])
    account.incidents_left += 1
    account.next_expiry_at = _next_expiry(account)
    _save_account(account, now, "incidents_left", "next_expiry_at")
    entry = _record(
        account,
        Kind.RETURN,
        at=now,
        incidents=1,
        grant=grant,
        related=use,
        ticket_id=use.ticket_id,
        ticket_code=use.ticket_code,
        department_id=use.department_id,
        actor=actor,
        reason=reason,
    )
    _log(account, "return", actor, now, use=use.pk, ticket=use.ticket_code, reason=reason)
    _after_commit(signals.ledger_changed, account=account, entries=[*settled, entry], user=actor)
    return entry


# --------------------------------------------------------------------------------------
# Tickets that merge
# --------------------------------------------------------------------------------------


def opening_entry(ticket):
    """The charge or incident use recorded when ``ticket`` was opened, or None."""
    return (
        LedgerEntry.objects.filter(ticket=ticket, kind__in=LedgerEntry.OPENING_KINDS)
        .select_related("account")
        .first()
    )


@transaction.atomic
def release_merged(ticket, *, into=None, actor=None, at=None):
    """Give back what opening ``ticket`` cost, as it has been merged into another: the
    customer pays for one conversation once. Returns the entry written, or None when
    there was nothing (left) to give back or the incident's grant has lapsed."""
    entry = opening_entry(ticket)
    if entry is None:
        return None
    reason = (
        _("Merged into %(code)s") % {"code": into.code}
        if into is not None
        else _("Merged into another ticket")
    )
    try:
        # A savepoint: a refusal here must not undo the merge.
        with transaction.atomic():
            if entry.kind == Kind.CHARGE:
                if _refundable(entry) <= 0:
                    return None
                return refund(entry, actor=actor, reason=reason, at=at)
            return return_incident(entry, actor=actor, reason=reason, at=at)
    except BillingError:
        return None


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def ticket_entries(ticket):
    """The ledger entries about ``ticket``, oldest first."""
    return list(
        LedgerEntry.objects.filter(ticket=ticket)
        .select_related("actor")
        .order_by("created_at", "pk")
    )
