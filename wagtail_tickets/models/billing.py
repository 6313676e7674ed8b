"""Paid support: customers' accounts, incident packs and grants, and the ledger.

Only ``workflow/billing.py`` writes these rows. The account's ``balance`` and
``incidents_left`` are denormalised sums of its ledger, kept under the account's row
lock; ``manage.py helpdesk_check_ledger`` proves they still are. The rules that must
hold whatever code runs (no balance below the credit limit, no grant below zero or above
its size, amounts that fit the kind of entry) are constraints in the database.
"""

import calendar
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

MONEY_DIGITS = 12
MONEY_PLACES = 2
ZERO = Decimal("0.00")


def add_months(moment, months):
    """``moment`` plus whole calendar months, the day clamped to the month's length.

    Always counted from the grant's start, never chained period to period, so a quota
    that starts on 31 January renews on 28/29 February, then on 31 March.
    """
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


class SupportAccount(models.Model):
    """A customer's paid-support account: money and prepaid incidents."""

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        # The ledger outlives a deleted user: the account stays, without its customer.
        null=True,
        on_delete=models.SET_NULL,
        related_name="support_account",
    )
    balance = models.DecimalField(
        _("balance"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=ZERO
    )
    credit_limit = models.DecimalField(
        _("credit limit"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=ZERO,
        help_text=_("How far the balance may go below zero. 0: never."),
    )
    incidents_left = models.PositiveIntegerField(_("incidents left"), default=0)
    # The earliest expiry among the grants that still hold incidents, for the listing's
    # "expiring" filter and sort without reading the grants.
    next_expiry_at = models.DateTimeField(_("next expiry"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    updated_at = models.DateTimeField(_("last activity"), default=timezone.now)

    class Meta:
        verbose_name = _("support account")
        verbose_name_plural = _("support accounts")
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="wt_account_credit_limit_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=-models.F("credit_limit")),
                name="wt_account_balance_within_credit",
            ),
        ]
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="wt_account_updated"),
            models.Index(fields=["next_expiry_at"], name="wt_account_next_expiry"),
            models.Index(fields=["balance", "id"], name="wt_account_balance"),
        ]

    def __str__(self):
        return (
            customer_label(self.customer)
            if self.customer_id
            else gettext("Former customer #%(id)s") % {"id": self.pk}
        )

    @property
    def available(self):
        """What a per-request charge may take: the balance plus the credit limit."""
        return self.balance + self.credit_limit


def customer_label(user):
    if user is None:
        return ""
    name = user.get_full_name()
    email = user.email
    if name and email:
        return f"{name} <{email}>"
    return name or email or user.get_username()


class IncidentPack(models.Model):
    """What a grant is made from: a number of incidents and how long they last."""

    class Validity(models.TextChoices):
        LIFETIME = "lifetime", _("Never expire")
        DAYS = "days", _("Expire after a number of days")
        MONTHLY = "monthly", _("Monthly quota, renewed each month")

    MAX_INCIDENTS = 10000
    MAX_DAYS = 3650
    MAX_MONTHS = 120

    name = models.CharField(_("name"), max_length=100)
    incidents = models.PositiveIntegerField(
        _("incidents"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_INCIDENTS)],
        help_text=_("For a monthly quota: the incidents of each month."),
    )
    validity = models.CharField(
        _("validity"), max_length=10, choices=Validity.choices, default=Validity.LIFETIME
    )
    validity_days = models.PositiveIntegerField(
        _("days"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)],
        help_text=_("For packs that expire after a number of days."),
    )
    months = models.PositiveSmallIntegerField(
        _("months"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MONTHS)],
        help_text=_(
            "For a monthly quota: how many months it runs. Unused incidents lapse at the "
            "end of each month."
        ),
    )
    departments = models.ManyToManyField(
        "wagtail_tickets.DepartmentPage",
        verbose_name=_("departments"),
        blank=True,
        related_name="+",
        help_text=_(
            "The prepaid-incident departments the pack covers; none: all of them. A change "
            "applies to the grants already made from the pack."
        ),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active packs can be granted.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("incident pack")
        verbose_name_plural = _("incident packs")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(incidents__gt=0), name="wt_pack_incidents_positive"),
            models.CheckConstraint(
                condition=~Q(validity="days") | Q(validity_days__gt=0),
                name="wt_pack_days_given",
            ),
            models.CheckConstraint(
                condition=~Q(validity="monthly") | Q(months__gt=0),
                name="wt_pack_months_given",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        if self.incidents is not None and self.incidents < 1:
            errors["incidents"] = _("A pack holds at least one incident.")
        if self.validity == self.Validity.DAYS and not self.validity_days:
            errors["validity_days"] = _("Give the number of days the incidents last.")
        if self.validity == self.Validity.MONTHLY and not self.months:
            errors["months"] = _("Give the number of months the quota runs.")
        if errors:
            raise ValidationError(errors)

    def describe_validity(self):
        if self.validity == self.Validity.DAYS:
            return ngettext(
                "valid for %(count)s day", "valid for %(count)s days", self.validity_days or 0
            ) % {"count": self.validity_days}
        if self.validity == self.Validity.MONTHLY:
            return ngettext(
                "%(incidents)s a month for %(count)s month",
                "%(incidents)s a month for %(count)s months",
                self.months or 0,
            ) % {"incidents": self.incidents, "count": self.months}
        return gettext("never expire")

    def schedule(self, start):
        """(expires_at, period_starts_at, period_ends_at) of a grant starting at ``start``."""
        if self.validity == self.Validity.DAYS:
            return start + timedelta(days=self.validity_days), None, None
        if self.validity == self.Validity.MONTHLY:
            return add_months(start, self.months), start, add_months(start, 1)
        return None, None, None


class IncidentGrant(models.Model):
    """Incidents given to one account from a pack; used up oldest-expiry first."""

    account = models.ForeignKey(
        SupportAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    pack = models.ForeignKey(
        IncidentPack, verbose_name=_("pack"), on_delete=models.PROTECT, related_name="grants"
    )
    quantity = models.PositiveIntegerField(
        _("incidents granted"), help_text=_("For a monthly quota: per month.")
    )
    remaining = models.PositiveIntegerField(_("incidents left"))
    starts_at = models.DateTimeField(_("starts"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # A monthly quota's current period; the grant renews when it ends.
    period_starts_at = models.DateTimeField(_("period started"), null=True, blank=True)
    period_ends_at = models.DateTimeField(_("period ends"), null=True, blank=True)
    # Set when the grant has expired and its last incidents were written off.
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # When the customer was told it expires soon (once per grant).
    expiry_warned_at = models.DateTimeField(_("expiry notice sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("granted"), default=timezone.now)

    class Meta:
        verbose_name = _("incident grant")
        verbose_name_plural = _("incident grants")
        ordering = ["expires_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="wt_grant_quantity_positive"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=models.F("quantity")),
                name="wt_grant_remaining_within_quantity",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "ended_at", "expires_at"], name="wt_grant_account"),
            models.Index(fields=["ended_at", "expires_at"], name="wt_grant_expiry"),
            models.Index(fields=["ended_at", "period_ends_at"], name="wt_grant_period"),
        ]

    def __str__(self):
        return gettext("%(pack)s: %(left)s of %(quantity)s left") % {
            "pack": self.pack.name if self.pack_id else "",
            "left": self.remaining,
            "quantity": self.quantity,
        }

    def is_valid_at(self, moment):
        if self.ended_at is not None or self.starts_at > moment:
            return False
        if self.expires_at is not None and self.expires_at <= moment:
            return False
        return not (self.period_ends_at is not None and self.period_ends_at <= moment)

    @property
    def is_monthly(self):
        return self.period_ends_at is not None

    @property
    def lapses_at(self):
        """When this grant's current incidents lapse: the period's end or the expiry."""
        ends = [moment for moment in (self.period_ends_at, self.expires_at) if moment]
        return min(ends) if ends else None


class LedgerQuerySet(models.QuerySet):
    """The ledger is append-only: bulk changes are refused like single ones."""

    def update(self, **kwargs):
        raise TypeError("Ledger entries are never changed.")

    def delete(self):
        raise TypeError("Ledger entries are never deleted.")


class LedgerEntry(models.Model):
    """One movement of money or incidents on an account; never changed afterwards."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        CHARGE = "charge", _("Charge for a request")
        EXTRA = "extra", _("Extra work")
        REFUND = "refund", _("Refund of a charge")
        GRANT = "grant", _("Incidents granted")
        USE = "use", _("Incident used")
        RETURN = "return", _("Incident returned")
        EXPIRE = "expire", _("Incidents expired")
        RENEW = "renew", _("Incidents renewed")
        ADJUST = "adjust", _("Adjustment")

    MONEY_KINDS = (Kind.DEPOSIT, Kind.CHARGE, Kind.EXTRA, Kind.REFUND)
    INCIDENT_KINDS = (Kind.GRANT, Kind.USE, Kind.RETURN, Kind.EXPIRE, Kind.RENEW)
    #: Entries that can be refunded, and what the opening of a ticket writes.
    CHARGE_KINDS = (Kind.CHARGE, Kind.EXTRA)
    OPENING_KINDS = (Kind.CHARGE, Kind.USE)

    account = models.ForeignKey(
        SupportAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.DecimalField(
        _("amount"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=ZERO,
        help_text=_("Positive: money in; negative: money out."),
    )
    incidents = models.IntegerField(_("incidents"), default=0)
    grant = models.ForeignKey(
        IncidentGrant,
        verbose_name=_("grant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    ticket = models.ForeignKey(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ledger_entries",
    )
    # The code as it was, so a statement needs no join and survives a deleted ticket.
    ticket_code = models.CharField(_("ticket code"), max_length=24, blank=True)
    department = models.ForeignKey(
        "wagtail_tickets.DepartmentPage",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    reference = models.CharField(
        _("reference"),
        max_length=100,
        blank=True,
        help_text=_("An outside reference, e.g. a payment's id; the same one is recorded once."),
    )
    related = models.ForeignKey(
        "self",
        verbose_name=_("related entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followups",
        help_text=_("The charge a refund repays, the use an incident return gives back."),
    )
    created_at = models.DateTimeField(_("date"), default=timezone.now)
    balance_after = models.DecimalField(
        _("balance after"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES
    )
    incidents_after = models.PositiveIntegerField(_("incidents after"))

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="deposit", amount__gt=0, incidents=0)
                    | Q(kind__in=["charge", "extra"], amount__lt=0, incidents=0)
                    | Q(kind="refund", amount__gt=0, incidents=0, related__isnull=False)
                    | Q(kind__in=["grant", "renew"], amount=0, incidents__gt=0)
                    | Q(kind="use", amount=0, incidents=-1)
                    | Q(kind="return", amount=0, incidents=1, related__isnull=False)
                    | Q(kind="expire", amount=0, incidents__lt=0)
                    | (Q(kind="adjust") & (~Q(amount=0) | ~Q(incidents=0)))
                ),
                name="wt_ledger_amount_fits_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["grant", "use", "return", "expire", "renew"])
                | Q(grant__isnull=False),
                name="wt_ledger_incidents_name_grant",
            ),
            # A ticket is charged (or uses an incident) once, when it is opened.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(kind__in=["charge", "use"]),
                name="wt_ledger_one_opening_charge",
            ),
            # An incident is given back once.
            models.UniqueConstraint(
                fields=["related"], condition=Q(kind="return"), name="wt_ledger_one_return"
            ),
            # A payment system's retry records nothing new.
            models.UniqueConstraint(
                fields=["kind", "reference"],
                condition=~Q(reference=""),
                name="wt_ledger_unique_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="wt_ledger_statement"),
            models.Index(fields=["created_at", "kind"], name="wt_ledger_created"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Ledger entries are never changed; record a new entry instead.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger entries are never deleted.")

    @property
    def is_money(self):
        return self.amount != 0
