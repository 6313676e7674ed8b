"""Account statements: the ledger of one account over a period, for the customer's
"My account", the managers' account screen and the PDF. Read only.

A statement costs a fixed number of queries whatever the account's history: the page of
entries (an index on account, date), their count, and the balance before the period
(the ``balance_after`` of the last earlier entry).
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .models import IncidentGrant, LedgerEntry
from .models.billing import ZERO

#: Rows of a PDF statement; a longer period is cut and says so.
PDF_ROWS = 2000
KIND_GROUPS = {
    "money": LedgerEntry.MONEY_KINDS + (LedgerEntry.Kind.ADJUST,),
    "incidents": LedgerEntry.INCIDENT_KINDS,
}


class StatementFilterForm(forms.Form):
    """The period (and, for managers, the kind of entries) of a statement."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(
        label=_("Entries"),
        required=False,
        choices=[
            ("", _("All")),
            ("money", _("Money")),
            ("incidents", _("Incidents")),
            *LedgerEntry.Kind.choices,
        ],
    )

    def __init__(self, *args, with_kind=False, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not with_kind:
            del self.fields["kind"]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end of the period comes before its start."))
        return cleaned

    def values(self):
        """(start, end, kind) when valid; (None, None, "") otherwise."""
        if not self.is_bound or not self.is_valid():
            return None, None, ""
        data = self.cleaned_data
        return data.get("start"), data.get("end"), data.get("kind") or ""


def _moment(day):
    """The first moment of ``day`` in the site's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@dataclass
class Statement:
    account: object
    start: datetime.date | None = None
    end: datetime.date | None = None
    kind: str = ""

    @cached_property
    def start_at(self):
        return _moment(self.start) if self.start else None

    @cached_property
    def end_at(self):
        """Exclusive: the first moment after the period's last day."""
        if self.end is None:
            return None
        try:
            return _moment(self.end + datetime.timedelta(days=1))
        except OverflowError:
            return None

    def _base(self):
        if self.account is None or self.account.pk is None:
            return LedgerEntry.objects.none()
        return LedgerEntry.objects.filter(account=self.account)

    def entries(self):
        """The period's entries, newest first."""
        entries = self._base()
        if self.start_at:
            entries = entries.filter(created_at__gte=self.start_at)
        if self.end_at:
            entries = entries.filter(created_at__lt=self.end_at)
        if self.kind in KIND_GROUPS:
            entries = entries.filter(kind__in=KIND_GROUPS[self.kind])
        elif self.kind in LedgerEntry.Kind.values:
            entries = entries.filter(kind=self.kind)
        return entries.order_by("-created_at", "-pk")

    def _after(self, entries):
        last = entries.order_by("-created_at", "-pk").values_list(
            "balance_after", "incidents_after"
        )[:1]
        row = next(iter(last), None)
        return row if row is not None else (ZERO, 0)

    @cached_property
    def opening(self):
        """(balance, incidents) before the period."""
        if not self.start_at:
            return ZERO, 0
        return self._after(self._base().filter(created_at__lt=self.start_at))

    @cached_property
    def closing(self):
        """(balance, incidents) at the end of the period."""
        if not self.end_at:
            if self.account is None or self.account.pk is None:
                return ZERO, 0
            return self.account.balance, self.account.incidents_left
        return self._after(self._base().filter(created_at__lt=self.end_at))


def current_grants(account, *, at=None):
    """The account's grants that have not ended, with their packs, those that lapse
    first first."""
    if account is None or account.pk is None:
        return []
    now = at or timezone.now()
    grants = list(
        IncidentGrant.objects.filter(account=account, ended_at__isnull=True)
        .select_related("pack")
        .order_by("expires_at", "pk")
    )
    for grant in grants:
        grant.is_current = grant.is_valid_at(now)
        # A month that ended and will renew on the next use or the daily round.
        grant.renews = (
            grant.period_ends_at is not None
            and grant.period_ends_at <= now
            and (grant.expires_at is None or grant.expires_at > now)
        )
        grant.shown_remaining = grant.quantity if grant.renews else grant.remaining
        grant.has_expired = not grant.is_current and not grant.renews
    grants.sort(key=lambda g: (g.has_expired, g.lapses_at is None, g.lapses_at or now, g.pk))
    return grants


def statement_pdf(account, statement, *, request=None, language=None, staff_copy=False):
    """The statement as PDF bytes (at most PDF_ROWS entries, oldest first)."""
    from django.utils import translation

    from .pdf import render_pdf

    rows = list(statement.entries().select_related("grant__pack")[: PDF_ROWS + 1])
    truncated = len(rows) > PDF_ROWS
    rows = list(reversed(rows[:PDF_ROWS]))
    context = {
        "account": account,
        "statement": statement,
        "entries": rows,
        "truncated": truncated,
        "pdf_rows": PDF_ROWS,
        "grants": current_grants(account),
        "generated_at": timezone.now(),
        "staff_copy": staff_copy,
    }
    with translation.override(language or translation.get_language()):
        return render_pdf("wagtail_tickets/pdf/statement.html", context, request=request)
