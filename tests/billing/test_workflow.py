"""The billing workflow: charges when tickets open, refunds, returns, deposits, grants,
expiry and renewal on a frozen clock, bad input, and the ledger's own guarantees."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from wagtail.models import ModelLogEntry

from tests import factories
from tests.billing.helpers import PRICE, make_pack
from wagtail_tickets import billing, workflow
from wagtail_tickets.models import (
    IncidentGrant,
    LedgerEntry,
    Message,
    SupportAccount,
    Ticket,
    TicketLogEntry,
)
from wagtail_tickets.workflow.billing import PaymentRequired

pytestmark = pytest.mark.django_db

Kind = LedgerEntry.Kind
T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def account(user):
    return SupportAccount.objects.get(customer=user)


def kinds(user):
    return list(
        LedgerEntry.objects.filter(account__customer=user)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


# --- opening tickets --------------------------------------------------------------------


def test_free_department_costs_nothing(department, customer):
    factories.open_ticket(department, customer=customer)
    assert not LedgerEntry.objects.exists()
    assert not SupportAccount.objects.exists()


def test_prepaid_ticket_uses_one_incident_of_the_grant_that_expires_first(
    incident_department, customer
):
    lifetime = billing.grant_pack(customer, make_pack("Lifetime", incidents=3), at=T0)
    soon = billing.grant_pack(
        customer, make_pack("Ninety days", incidents=2, validity="days", validity_days=90), at=T0
    )
    later = billing.grant_pack(
        customer, make_pack("A year", incidents=2, validity="days", validity_days=365), at=T0
    )
    ticket = factories.open_ticket(
        incident_department, customer=customer, at=T0 + timedelta(days=1)
    )
    entry = LedgerEntry.objects.get(ticket=ticket)
    assert entry.kind == Kind.USE and entry.incidents == -1
    assert entry.grant_id == soon.pk
    assert entry.incidents_after == 6
    assert [g.remaining for g in IncidentGrant.objects.order_by("pk")] == [3, 1, 2]
    assert account(customer).incidents_left == 6
    assert lifetime.pk and later.pk


def test_per_request_ticket_debits_the_price(paid_department, customer):
    billing.deposit(customer, "1250.00")
    ticket = factories.open_ticket(paid_department, customer=customer)
    entry = LedgerEntry.objects.get(ticket=ticket)
    assert entry.kind == Kind.CHARGE
    assert entry.amount == -PRICE
    assert entry.balance_after == Decimal("750.00")
    assert account(customer).balance == Decimal("750.00")
    # The ticket's "opened" audit entry records the charge.
    created = TicketLogEntry.objects.get(action="wagtail_tickets.ticket.create", ticket=ticket)
    assert created.data["charge"]["amount"] == "500.00"


def test_insufficient_balance_refuses_and_creates_nothing(paid_department, customer):
    billing.deposit(customer, "499.99")
    tickets, messages, logs = (
        Ticket.objects.count(),
        Message.objects.count(),
        ModelLogEntry.objects.count() + TicketLogEntry.objects.count(),
    )
    with pytest.raises(PaymentRequired) as refusal:
        factories.open_ticket(paid_department, customer=customer)
    assert "$500.00" in str(refusal.value) and "$499.99" in str(refusal.value)
    assert Ticket.objects.count() == tickets
    assert Message.objects.count() == messages
    assert ModelLogEntry.objects.count() + TicketLogEntry.objects.count() == logs
    assert account(customer).balance == Decimal("499.99")
    # The code was not used up either: the next ticket gets number 1.
    billing.deposit(customer, "0.01")
    assert factories.open_ticket(paid_department, customer=customer).code == "EXP-000001"


def test_credit_limit_lets_the_balance_go_negative_that_far(paid_department, customer):
    billing.set_credit_limit(customer, "600.00")
    factories.open_ticket(paid_department, customer=customer)
    assert account(customer).balance == Decimal("-500.00")
    with pytest.raises(PaymentRequired):
        factories.open_ticket(paid_department, customer=customer)
    assert account(customer).balance == Decimal("-500.00")


def test_no_incidents_refuses(incident_department, customer):
    with pytest.raises(PaymentRequired) as refusal:
        factories.open_ticket(incident_department, customer=customer)
    assert "no incidents left" in str(refusal.value)
    assert not Ticket.objects.exists()


def test_anonymous_ticket_in_a_paid_department_is_refused(incident_department, paid_department):
    for department in (incident_department, paid_department):
        with pytest.raises(PaymentRequired) as refusal:
            factories.open_ticket(department, name="Ann", email="ann@example.com")
        assert "log in" in str(refusal.value)
    assert not Ticket.objects.exists()


def test_grant_covering_other_departments_is_not_used(helpdesk, incident_department, customer):
    other = factories.make_department(helpdesk, title="Gold", prefix="GLD", support_mode="prepaid")
    billing.grant_pack(customer, make_pack("Gold only", incidents=2, departments=[other]))
    with pytest.raises(PaymentRequired):
        factories.open_ticket(incident_department, customer=customer)
    factories.open_ticket(other, customer=customer)
    assert account(customer).incidents_left == 1


def test_replies_and_reopening_cost_nothing(incident_department, customer, pack, agent):
    billing.grant_pack(customer, pack)
    ticket = factories.open_ticket(incident_department, customer=customer)
    workflow.post_reply(ticket, body="More details", author=customer)
    factories.resolve(ticket)
    workflow.post_reply(ticket, body="It is back", author=customer)  # reopens
    workflow.close(ticket)
    workflow.reopen(ticket)
    assert account(customer).incidents_left == 4
    assert LedgerEntry.objects.filter(ticket=ticket).count() == 1


def test_staff_ticket_for_a_customer_account_is_charged_to_it(paid_department, customer, agent):
    billing.deposit(customer, "500")
    ticket, _token = workflow.open_ticket(
        department=paid_department,
        subject="Phoned in",
        body="Called the hotline",
        customer=customer,
        customer_name="Alice",
        customer_email=customer.email,
        actor=agent,
    )
    entry = LedgerEntry.objects.get(ticket=ticket)
    assert entry.actor == agent
    assert account(customer).balance == 0


# --- expiry and renewal on a frozen clock -------------------------------------------


def test_expired_grant_is_never_used(incident_department, customer):
    billing.grant_pack(
        customer, make_pack("Week", incidents=5, validity="days", validity_days=7), at=T0
    )
    expiry = T0 + timedelta(days=7)
    factories.open_ticket(incident_department, customer=customer, at=expiry - timedelta(seconds=1))
    with pytest.raises(PaymentRequired):
        factories.open_ticket(incident_department, customer=customer, at=expiry)
    # The refused request did not write the expiry either; the daily round does.
    assert account(customer).incidents_left == 4
    assert billing.settle_due(at=expiry) == 1
    assert account(customer).incidents_left == 0
    assert kinds(customer)[-1] == Kind.EXPIRE
    assert IncidentGrant.objects.get().ended_at == expiry


def test_monthly_quota_renews_on_the_period_boundary(incident_department, customer):
    pack = make_pack("Monthly", incidents=2, validity="monthly", months=3)
    grant = billing.grant_pack(customer, pack, at=T0)  # 31 January
    assert grant.period_ends_at == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert grant.expires_at == datetime(2026, 4, 30, 12, 0, tzinfo=UTC)
    for _ in range(2):
        factories.open_ticket(incident_department, customer=customer, at=T0 + timedelta(days=1))
    boundary = grant.period_ends_at
    with pytest.raises(PaymentRequired):
        factories.open_ticket(
            incident_department, customer=customer, at=boundary - timedelta(seconds=1)
        )
    # At the boundary the month renews in the same transaction as the request.
    ticket = factories.open_ticket(incident_department, customer=customer, at=boundary)
    grant.refresh_from_db()
    assert grant.remaining == 1
    assert grant.period_starts_at == boundary
    assert grant.period_ends_at == datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    assert kinds(customer)[-2:] == [Kind.RENEW, Kind.USE]
    assert LedgerEntry.objects.get(ticket=ticket).grant_id == grant.pk


def test_unused_incidents_of_a_month_lapse_and_the_quota_ends(customer):
    pack = make_pack("Monthly", incidents=3, validity="monthly", months=2)
    grant = billing.grant_pack(customer, pack, at=T0)
    # Nobody asked for anything for two months: the daily round catches up once per
    # month that ended, then writes the quota off at its end.
    first_month_end = grant.period_ends_at
    billing.settle_due(at=first_month_end + timedelta(days=3))
    assert kinds(customer) == [Kind.GRANT, Kind.EXPIRE, Kind.RENEW]
    assert account(customer).incidents_left == 3
    billing.settle_due(at=grant.expires_at)
    assert kinds(customer)[-1] == Kind.EXPIRE
    grant.refresh_from_db()
    assert grant.remaining == 0 and grant.ended_at is not None
    assert account(customer).incidents_left == 0
    assert account(customer).next_expiry_at is None


def test_quote_counts_a_month_that_renews_on_the_next_request(incident_department, customer):
    grant = billing.grant_pack(
        customer, make_pack("M", incidents=1, validity="monthly", months=6), at=T0
    )
    factories.open_ticket(incident_department, customer=customer, at=T0)
    assert not billing.quote_for(customer, incident_department, at=T0 + timedelta(days=1)).allowed
    quote = billing.quote_for(customer, incident_department, at=grant.period_ends_at)
    assert quote.allowed and quote.incidents == 1


# --- refunds and returns ------------------------------------------------------------


@pytest.fixture
def charged(paid_department, customer):
    billing.deposit(customer, "1000")
    ticket = factories.open_ticket(paid_department, customer=customer)
    return LedgerEntry.objects.get(ticket=ticket)


def test_partial_then_full_refund(charged, customer, manager):
    billing.refund(charged, "100.00", actor=manager, reason="Slow answer")
    assert billing.refundable(charged) == Decimal("400.00")
    entry = billing.refund(charged, actor=manager, reason="All of it")
    assert entry.amount == Decimal("400.00")
    assert account(customer).balance == Decimal("1000.00")
    assert ModelLogEntry.objects.filter(action="wagtail_tickets.billing.refund").count() == 2


def test_refund_larger_than_the_charge_is_refused(charged, customer):
    with pytest.raises(billing.BillingError) as refusal:
        billing.refund(charged, "500.01")
    assert "At most $500.00" in str(refusal.value)
    assert account(customer).balance == Decimal("500.00")


def test_second_refund_of_a_fully_refunded_charge_is_refused(charged):
    billing.refund(charged)
    with pytest.raises(billing.BillingError) as refusal:
        billing.refund(charged)
    assert "already been refunded in full" in str(refusal.value)


def test_the_same_refund_request_twice_is_refused(charged):
    billing.refund(charged, "10", reference="form-1")
    with pytest.raises(billing.BillingError) as refusal:
        billing.refund(charged, "10", reference="form-1")
    assert "already been made" in str(refusal.value)
    assert LedgerEntry.objects.filter(kind=Kind.REFUND).count() == 1


def test_only_charges_are_refunded(customer):
    deposit = billing.deposit(customer, "100")
    with pytest.raises(billing.BillingError) as refusal:
        billing.refund(deposit)
    assert "Only charges" in str(refusal.value)


def test_return_incident_once(incident_department, customer, pack):
    billing.grant_pack(customer, pack)
    ticket = factories.open_ticket(incident_department, customer=customer)
    use = LedgerEntry.objects.get(ticket=ticket)
    billing.return_incident(use, reason="Our outage")
    assert account(customer).incidents_left == 5
    with pytest.raises(billing.BillingError) as refusal:
        billing.return_incident(use)
    assert "already been returned" in str(refusal.value)


def test_return_to_a_lapsed_month_is_refused(incident_department, customer):
    grant = billing.grant_pack(
        customer, make_pack("M", incidents=1, validity="monthly", months=3), at=T0
    )
    ticket = factories.open_ticket(incident_department, customer=customer, at=T0)
    use = LedgerEntry.objects.get(ticket=ticket)
    with pytest.raises(billing.BillingError) as refusal:
        billing.return_incident(use, at=grant.period_ends_at + timedelta(days=1))
    assert "earlier month" in str(refusal.value)


# --- extra charges, deposits, adjustments --------------------------------------------


def test_extra_charge_on_a_ticket(incident_department, customer, pack, manager):
    billing.grant_pack(customer, pack)
    billing.deposit(customer, "100")
    ticket = factories.open_ticket(incident_department, customer=customer)
    entry = billing.add_charge(ticket, "80", actor=manager, reason="Data recovery")
    assert entry.kind == Kind.EXTRA and entry.ticket == ticket
    assert account(customer).balance == Decimal("20.00")
    with pytest.raises(billing.BillingError):
        billing.add_charge(ticket, "20.01", actor=manager, reason="More")
    anonymous = factories.open_ticket(
        factories.make_department(ticket.department.get_parent(), title="Free", prefix="FRE"),
        name="Ann",
        email="ann@example.com",
    )
    with pytest.raises(billing.BillingError) as refusal:
        billing.add_charge(anonymous, "5", reason="x")
    assert "no customer account" in str(refusal.value)


def test_deposit_with_a_reference_credits_once(customer):
    first = billing.deposit(customer, "250", reference="pay_123")
    second = billing.deposit(customer, "250", reference="pay_123")
    assert first.pk == second.pk
    assert account(customer).balance == Decimal("250.00")


def test_reference_of_another_account_is_refused(customer, other_customer):
    billing.deposit(customer, "250", reference="pay_123")
    with pytest.raises(billing.BillingError):
        billing.deposit(other_customer, "250", reference="pay_123")


def test_grant_with_a_reference_grants_once(customer, pack):
    first = billing.grant_pack(customer, pack, reference="order-9")
    second = billing.grant_pack(customer, pack, reference="order-9")
    assert first.pk == second.pk
    assert account(customer).incidents_left == 5


def test_adjustment_needs_a_reason_and_keeps_the_credit_limit(customer):
    billing.deposit(customer, "100")
    with pytest.raises(billing.BillingError) as refusal:
        billing.adjust(customer, "-10", reason="  ")
    assert "reason" in str(refusal.value)
    billing.adjust(customer, "-100", reason="Chargeback")
    with pytest.raises(billing.BillingError) as refusal:
        billing.adjust(customer, "-0.01", reason="Fee")
    assert "credit limit" in str(refusal.value)
    assert account(customer).balance == 0


@pytest.mark.parametrize(
    "amount",
    ["-5", "0", "0.00", "1000000.01", "1e9", "NaN", "Infinity", "12.345", "abc", "", None, "\x00"],
)
def test_bad_amounts_are_refused_with_a_clear_message(customer, amount):
    with pytest.raises(billing.BillingError) as refusal:
        billing.deposit(customer, amount)
    assert "amount" in str(refusal.value)
    assert not LedgerEntry.objects.exists()


def test_a_pack_of_no_incidents_is_refused(customer):
    from django.core.exceptions import ValidationError

    pack = make_pack("Empty", incidents=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(pack).objects.filter(pk=pack.pk).update(incidents=0)
    invalid = type(pack)(name="Zero", incidents=0)
    with pytest.raises(ValidationError) as error:
        invalid.full_clean()
    assert "incidents" in error.value.message_dict


def test_inactive_pack_is_not_granted(customer):
    pack = make_pack("Old", incidents=2, active=False)
    with pytest.raises(billing.BillingError) as refusal:
        billing.grant_pack(customer, pack)
    assert "not active" in str(refusal.value)


def test_end_grant(customer, pack, manager):
    grant = billing.grant_pack(customer, pack)
    billing.end_grant(grant, actor=manager, reason="Granted by mistake")
    assert account(customer).incidents_left == 0
    with pytest.raises(billing.BillingError):
        billing.end_grant(grant, actor=manager, reason="Again")


# --- merging ------------------------------------------------------------------------


def test_merging_gives_back_what_the_merged_away_ticket_cost(
    incident_department, paid_department, customer, pack
):
    # Merging needs "change ticket fields" and both departments in sight (rules.py).
    agent = factories.make_manager(
        "merger", codenames=["view_all_departments", "change_ticket_fields"]
    )
    billing.grant_pack(customer, pack)
    billing.deposit(customer, "1000")
    target = factories.open_ticket(incident_department, customer=customer, subject="First")
    duplicate = factories.open_ticket(incident_department, customer=customer, subject="Again")
    charged = factories.open_ticket(paid_department, customer=customer, subject="And again")
    workflow.merge(target, [duplicate, charged], user=agent)
    assert account(customer).incidents_left == 4  # only the target's incident is used
    assert account(customer).balance == Decimal("1000.00")
    refund = LedgerEntry.objects.get(kind=Kind.REFUND)
    assert refund.reason == f"Merged into {target.code}"
    assert LedgerEntry.objects.filter(kind=Kind.RETURN, ticket=duplicate).exists()


# --- the ledger's guarantees ---------------------------------------------------------


def test_ledger_entries_cannot_be_changed_or_deleted(customer):
    entry = billing.deposit(customer, "10")
    entry.amount = Decimal("1000")
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=5)
    with pytest.raises(TypeError):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get().amount == Decimal("10.00")


def test_database_refuses_a_balance_below_the_credit_limit(customer):
    billing.deposit(customer, "10")
    with pytest.raises(IntegrityError), transaction.atomic():
        SupportAccount.objects.filter(customer=customer).update(balance=Decimal("-0.01"))


def test_database_refuses_a_grant_below_zero_or_above_its_size(customer, pack):
    grant = billing.grant_pack(customer, pack)
    for value in (-1, 6):
        with pytest.raises(IntegrityError), transaction.atomic():
            IncidentGrant.objects.filter(pk=grant.pk).update(remaining=value)


def test_database_refuses_an_amount_that_does_not_fit_the_kind(customer):
    entry = billing.deposit(customer, "10")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=entry.account,
            kind=Kind.DEPOSIT,
            amount=Decimal("-5"),
            balance_after=Decimal("5"),
            incidents_after=0,
        )


def test_a_ticket_is_charged_at_opening_only_once_in_the_database(paid_department, customer):
    billing.deposit(customer, "2000")
    ticket = factories.open_ticket(paid_department, customer=customer)
    entry = LedgerEntry.objects.get(ticket=ticket)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=entry.account,
            kind=Kind.CHARGE,
            amount=-PRICE,
            ticket=ticket,
            balance_after=Decimal("1000"),
            incidents_after=0,
        )
