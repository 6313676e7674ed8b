"""Paid support under concurrent submissions, on PostgreSQL (real row locks, real
commits): twenty requests at once by one customer who can afford five."""

import threading

import pytest
from django.db import connection
from django.test import Client

from tests import factories
from tests.billing.helpers import PRICE, make_pack
from wagtail_tickets import billing
from wagtail_tickets.ledger_check import check_ledger
from wagtail_tickets.models import LedgerEntry, SupportAccount, Ticket

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THREADS = 20
AFFORDABLE = 5
FORM = {"name": "Alice", "email": "alice@example.com", "message": "Please help"}


def at_once(work):
    """Run ``work(index)`` in THREADS threads released together; their results."""
    barrier = threading.Barrier(THREADS)
    results, errors, lock = [], [], threading.Lock()

    def worker(index):
        try:
            barrier.wait(timeout=30)
            result = work(index)
            with lock:
                results.append(result)
        except BaseException as error:  # noqa: B036 - reported below
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert not errors, errors
    return results


@pytest.fixture
def scene():
    helpdesk = factories.make_helpdesk()
    factories.site_settings(captcha_mode="none")
    incidents = factories.make_department(
        helpdesk, title="Premium", prefix="PRE", support_mode="prepaid"
    )
    paid = factories.make_department(
        helpdesk, title="Expert", prefix="EXP", support_mode="per_request", price_per_request=PRICE
    )
    customer = factories.make_user("alice", email="alice@example.com")
    return incidents, paid, customer


def submit_all(department, customer):
    def work(index):
        client = Client()
        client.force_login(customer)
        response = client.post(department.url, {**FORM, "subject": f"Request {index}"})
        return response.status_code, response.content.decode()

    return at_once(work)


def assert_five_of_twenty(results, refusal):
    codes = sorted(code for code, _html in results)
    assert codes == [302] * AFFORDABLE + [402] * (THREADS - AFFORDABLE), codes
    refused = [html for code, html in results if code == 402]
    assert all(refusal in html for html in refused)
    assert Ticket.objects.count() == AFFORDABLE
    assert LedgerEntry.objects.filter(ticket__isnull=False).count() == AFFORDABLE
    assert not check_ledger()


def test_twenty_requests_with_five_incidents(scene):
    assert connection.vendor == "postgresql"
    incidents, _paid, customer = scene
    billing.grant_pack(customer, make_pack("Five", incidents=AFFORDABLE))
    results = submit_all(incidents, customer)
    assert_five_of_twenty(results, "You have no incidents left for this department.")
    account = SupportAccount.objects.get(customer=customer)
    assert account.incidents_left == 0
    assert account.grants.get().remaining == 0
    assert LedgerEntry.objects.filter(kind="use").count() == AFFORDABLE


def test_twenty_requests_with_a_balance_for_five(scene):
    _incidents, paid, customer = scene
    billing.deposit(customer, PRICE * AFFORDABLE)
    results = submit_all(paid, customer)
    assert_five_of_twenty(results, "This request costs $500.00 and your balance is $0.00.")
    assert SupportAccount.objects.get(customer=customer).balance == 0
    assert LedgerEntry.objects.filter(kind="charge").count() == AFFORDABLE


def test_concurrent_webhook_retries_credit_once(scene):
    _incidents, _paid, customer = scene
    at_once(lambda index: billing.deposit(customer, "100", reference="pay_retried"))
    assert SupportAccount.objects.get(customer=customer).balance == 100
    assert LedgerEntry.objects.filter(kind="deposit").count() == 1
    assert not check_ledger()


def test_concurrent_refunds_never_exceed_the_charge(scene):
    _incidents, paid, customer = scene
    billing.deposit(customer, PRICE)
    ticket = factories.open_ticket(paid, customer=customer)
    charge = LedgerEntry.objects.get(ticket=ticket)

    def work(index):
        try:
            billing.refund(charge, "100")
        except billing.BillingError:
            return "refused"
        return "refunded"

    results = at_once(work)
    assert results.count("refunded") == 5
    assert SupportAccount.objects.get(customer=customer).balance == PRICE
    assert not check_ledger()
