"""The shop-facing commands, the ledger check, the daily round and paid support's mails."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils.formats import date_format
from django.utils.timezone import localtime

from tests import factories
from tests.billing.helpers import make_pack
from wagtail_tickets import billing
from wagtail_tickets.ledger_check import check_ledger
from wagtail_tickets.models import IncidentGrant, LedgerEntry, SupportAccount

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_deposit_command_credits_once_per_reference(customer):
    output = run("helpdesk_deposit", customer.email, "99.50", "--reference", "pay-7")
    assert "$99.50" in output
    run("helpdesk_deposit", "ALICE", "99.50", "--reference", "pay-7")
    assert SupportAccount.objects.get(customer=customer).balance == Decimal("99.50")


def test_grant_command_by_name_or_id(customer):
    pack = make_pack("Gold", incidents=3)
    run("helpdesk_grant", customer.username, "Gold", "--reference", "order-1")
    run("helpdesk_grant", customer.username, str(pack.pk), "--reference", "order-1")
    run("helpdesk_grant", customer.username, str(pack.pk))
    assert SupportAccount.objects.get(customer=customer).incidents_left == 6


@pytest.mark.parametrize(
    "args, message",
    [
        (("helpdesk_deposit", "nobody", "10"), "No user"),
        (("helpdesk_deposit", "alice", "-10"), "more than zero"),
        (("helpdesk_deposit", "alice", "1.001"), "two decimals"),
        (("helpdesk_grant", "alice", "No such pack"), "No single incident pack"),
    ],
)
def test_commands_refuse_bad_input(customer, args, message):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)


def test_check_ledger_finds_a_tampered_balance(customer):
    billing.deposit(customer, "100")
    billing.deposit(customer, "50")
    assert "adds up" in run("helpdesk_check_ledger")
    # A write behind the workflow's back, as a bad migration or SQL console would.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SupportAccount._meta.db_table} SET balance = 175 WHERE customer_id = %s",
            [customer.pk],
        )
    with pytest.raises(CommandError):
        run("helpdesk_check_ledger")
    assert any("adds up to 150.00" in problem for problem in check_ledger())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SupportAccount._meta.db_table} SET balance = 150 WHERE customer_id = %s",
            [customer.pk],
        )


def test_check_ledger_finds_a_broken_chain_and_a_grant_off_its_entries(customer, pack):
    grant = billing.grant_pack(customer, pack)
    entry = billing.deposit(customer, "10")
    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET balance_after = 11 WHERE id = %s", [entry.pk])
        cursor.execute(
            f"UPDATE {IncidentGrant._meta.db_table} SET remaining = 4 WHERE id = %s", [grant.pk]
        )
    problems = check_ledger()
    assert any(f"Entry {entry.pk}" in problem for problem in problems)
    assert any(f"Grant {grant.pk}" in problem for problem in problems)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET balance_after = 10 WHERE id = %s", [entry.pk])
        cursor.execute(
            f"UPDATE {IncidentGrant._meta.db_table} SET remaining = 5 WHERE id = %s", [grant.pk]
        )


def test_daily_round_renews_expires_and_warns_once(
    customer, other_customer, django_capture_on_commit_callbacks
):
    from unittest import mock

    billing.grant_pack(
        customer, make_pack("Month", incidents=2, validity="monthly", months=2), at=T0
    )
    week = make_pack("Week", incidents=3, validity="days", validity_days=10)
    billing.grant_pack(other_customer, week, at=T0)
    mail.outbox.clear()
    later = T0 + timedelta(days=5)
    with mock.patch("django.utils.timezone.now", return_value=later):
        with django_capture_on_commit_callbacks(execute=True):
            output = run("helpdesk_billing_daily")
        with django_capture_on_commit_callbacks(execute=True):
            run("helpdesk_billing_daily")
    assert "1 customers told" in output
    (warning,) = mail.outbox
    assert warning.to == [other_customer.email]
    assert "expire" in warning.subject
    assert "3 incidents" in warning.body
    # The day it expires, as in the subject, ends its sentence with one full stop.
    expiry = IncidentGrant.objects.get(account__customer=other_customer).expires_at
    assert f"expire on {date_format(localtime(expiry), 'DATE_FORMAT')}." in warning.body
    assert ".." not in warning.body
    with mock.patch("django.utils.timezone.now", return_value=T0 + timedelta(days=40)):
        run("helpdesk_billing_daily")
    kinds = list(
        LedgerEntry.objects.filter(account__customer=customer)
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == ["grant", "expire", "renew"]
    assert SupportAccount.objects.get(customer=other_customer).incidents_left == 0


def test_incidents_running_low_and_gone_are_mailed(
    incident_department, customer, site_settings, django_capture_on_commit_callbacks
):
    site_settings.low_incidents_threshold = 1
    site_settings.save()
    billing.grant_pack(customer, make_pack("Three", incidents=3))
    mail.outbox.clear()
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            factories.open_ticket(incident_department, customer=customer, subject=f"S{n}")
    billing_mails = [m for m in mail.outbox if "incident" in m.subject.lower()]
    assert [m.subject for m in billing_mails] == [
        "Your last prepaid incident",
        "You have no prepaid incidents left",
    ]
    assert "http://localhost/support/account/" in billing_mails[0].body


def test_refund_and_returned_incident_are_mailed(
    incident_department, paid_department, customer, pack, django_capture_on_commit_callbacks
):
    billing.deposit(customer, "500")
    billing.grant_pack(customer, pack)
    charged = factories.open_ticket(paid_department, customer=customer)
    used = factories.open_ticket(incident_department, customer=customer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        billing.refund(LedgerEntry.objects.get(ticket=charged), "120", reason="Slow reply")
        billing.return_incident(LedgerEntry.objects.get(ticket=used), reason="Our fault")
    subjects = [m.subject for m in mail.outbox]
    assert subjects == ["Refund of $120.00", f"Incident of {used.code} returned"]
    assert "Reason: Slow reply" in mail.outbox[0].body
    assert "You now have 5 incidents left." in mail.outbox[1].body


def test_mail_to_a_russian_customer_is_in_russian(
    paid_department, customer, django_capture_on_commit_callbacks
):
    billing.deposit(customer, "500")
    ticket = factories.open_ticket(paid_department, customer=customer, language="ru")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        billing.refund(LedgerEntry.objects.get(ticket=ticket))
    assert "500,00" in mail.outbox[0].subject
