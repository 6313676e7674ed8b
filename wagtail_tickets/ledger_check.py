"""Proof that the denormalised money and incidents still agree with the ledger.

``check_ledger()`` reads everything once, in a few streaming queries, and returns a
list of problems (empty when all is well):

- each account's balance equals the sum of its entries' amounts, and its incidents
  left the sum of their incident changes and of its grants' remaining incidents;
- each entry's ``balance_after`` and ``incidents_after`` follow from the previous
  entry of its account (in the order they were written), and the last one matches
  the account;
- each grant's remaining incidents equal the sum of the entries about it;
- no charge has been refunded for more than it was.

``manage.py helpdesk_check_ledger`` runs it and exits non-zero on a problem.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from .models import IncidentGrant, LedgerEntry, SupportAccount

CENT = Decimal("0.01")


def _money(value):
    return Decimal(str(value or 0)).quantize(CENT)


def check_ledger(accounts=None):
    """Problems found, as sentences; ``accounts`` limits the check to some accounts."""
    problems = []
    account_rows = SupportAccount.objects.order_by("pk")
    entries = LedgerEntry.objects.order_by("account_id", "pk")
    grants = IncidentGrant.objects.order_by("pk")
    if accounts is not None:
        ids = [getattr(account, "pk", account) for account in accounts]
        account_rows = account_rows.filter(pk__in=ids)
        entries = entries.filter(account_id__in=ids)
        grants = grants.filter(account_id__in=ids)

    state = {
        pk: (_money(balance), incidents)
        for pk, balance, incidents in account_rows.values_list("pk", "balance", "incidents_left")
    }
    running = {}
    grant_sums = defaultdict(int)
    refunds = defaultdict(Decimal)
    charges = {}
    for row in entries.values_list(
        "pk",
        "account_id",
        "kind",
        "amount",
        "incidents",
        "grant_id",
        "related_id",
        "balance_after",
        "incidents_after",
    ).iterator(chunk_size=2000):
        pk, account_id, kind, amount, incidents, grant_id, related_id, b_after, i_after = row
        amount, b_after = _money(amount), _money(b_after)
        balance, left = running.get(account_id, (Decimal("0.00"), 0))
        balance, left = balance + amount, left + incidents
        if (balance, left) != (b_after, i_after):
            problems.append(
                _(
                    "Entry %(entry)s of account %(account)s says %(b_after)s and %(i_after)s "
                    "incidents after it; the entries before it add up to %(balance)s and "
                    "%(left)s."
                )
                % {
                    "entry": pk,
                    "account": account_id,
                    "b_after": b_after,
                    "i_after": i_after,
                    "balance": balance,
                    "left": left,
                }
            )
            # Go on from what the entry says, so one bad entry is reported once.
            balance, left = b_after, i_after
        running[account_id] = (balance, left)
        if grant_id is not None:
            grant_sums[grant_id] += incidents
        if kind in LedgerEntry.CHARGE_KINDS:
            charges[pk] = -amount
        elif kind == LedgerEntry.Kind.REFUND and related_id is not None:
            refunds[related_id] += amount

    for account_id, (balance, left) in state.items():
        summed = running.get(account_id, (Decimal("0.00"), 0))
        if summed != (balance, left):
            problems.append(
                _(
                    "Account %(account)s holds %(balance)s and %(left)s incidents; its ledger "
                    "adds up to %(summed_balance)s and %(summed_left)s."
                )
                % {
                    "account": account_id,
                    "balance": balance,
                    "left": left,
                    "summed_balance": summed[0],
                    "summed_left": summed[1],
                }
            )
    for account_id in set(running) - set(state):
        if accounts is None:
            problems.append(
                _("Entries refer to account %(account)s, which does not exist.")
                % {"account": account_id}
            )

    remaining_by_account = defaultdict(int)
    for pk, account_id, remaining in grants.values_list("pk", "account_id", "remaining"):
        remaining_by_account[account_id] += remaining
        if grant_sums.get(pk, 0) != remaining:
            problems.append(
                _(
                    "Grant %(grant)s has %(remaining)s incidents left; its entries add up to "
                    "%(summed)s."
                )
                % {"grant": pk, "remaining": remaining, "summed": grant_sums.get(pk, 0)}
            )
    for account_id, (_balance, left) in state.items():
        if remaining_by_account.get(account_id, 0) != left:
            problems.append(
                _("Account %(account)s has %(left)s incidents left; its grants hold %(remaining)s.")
                % {
                    "account": account_id,
                    "left": left,
                    "remaining": remaining_by_account.get(account_id, 0),
                }
            )

    for charge_id, total in refunds.items():
        charged = charges.get(charge_id)
        if charged is not None and total > charged:
            problems.append(
                _("Charge %(entry)s of %(charged)s has been refunded %(refunded)s.")
                % {"entry": charge_id, "charged": charged, "refunded": total}
            )
    return problems


def totals():
    """(accounts, entries, sum of balances) for the command's summary line."""
    balance = SupportAccount.objects.aggregate(total=Sum("balance"))["total"]
    return SupportAccount.objects.count(), LedgerEntry.objects.count(), _money(balance)
