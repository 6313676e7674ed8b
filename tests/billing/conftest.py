"""Fixtures of the paid-support tests. Every test here ends with the ledger check: the
accounts' balances and incidents must still equal the sums of their ledgers."""

import io

import pytest
from django.core.management import call_command

from tests import factories
from tests.billing import helpers
from wagtail_tickets.ledger_check import check_ledger


@pytest.fixture(autouse=True)
def _ledger_adds_up(request):
    yield
    if "db" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        if not request.node.get_closest_marker("django_db"):
            return
    problems = check_ledger()
    assert not problems, problems
    # The command says the same, with its exit status.
    call_command("helpdesk_check_ledger", stdout=io.StringIO())


@pytest.fixture
def incident_department(helpdesk):
    return factories.make_department(
        helpdesk, title="Premium support", prefix="PRE", support_mode="prepaid"
    )


@pytest.fixture
def paid_department(helpdesk):
    return factories.make_department(
        helpdesk,
        title="Expert help",
        prefix="EXP",
        support_mode="per_request",
        price_per_request=helpers.PRICE,
    )


@pytest.fixture
def pack(db):
    return helpers.make_pack("Five incidents", incidents=5)


@pytest.fixture
def manager(helpdesk):
    """An admin user who may read and change accounts (but works in no department)."""
    return factories.make_manager("manager", codenames=["manage_billing", "view_supportaccount"])


@pytest.fixture
def reader(helpdesk):
    """An admin user who may read accounts, not change them."""
    return factories.make_manager("reader", codenames=["view_supportaccount"])
