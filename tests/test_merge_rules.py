"""Merging: only one customer's tickets, only tickets the user may change, a few at once."""

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def merger(department):
    user = factories.make_agent("merger", departments=[department])
    return factories.grant(user, "change_ticket_fields")


def _state():
    return (
        list(Ticket.objects.order_by("pk").values_list("pk", "merged_into_id", "status_id")),
        list(Message.objects.order_by("pk").values_list("pk", "ticket_id")),
    )


def _bulk_merge(user, tickets, target):
    client = Client()
    client.force_login(user)
    query = urlencode([("id", t.pk) for t in tickets] + [("next", "/admin/")])
    url = reverse("wagtail_bulk_action", args=["wagtail_tickets", "ticket", "merge"])
    return client.post(f"{url}?{query}", {"target": target.pk}, follow=True)


def _messages(response):
    return [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param({"customer": "alice"}, {"customer": "bob"}, id="two-accounts"),
        pytest.param({"email": "ann@example.com"}, {"email": "eve@example.com"}, id="addresses"),
        pytest.param({"customer": "alice"}, {"email": "alice@example.com"}, id="account-and-not"),
    ],
)
def test_tickets_of_different_customers_are_never_merged(
    first, second, department, merger, customer, other_customer
):
    accounts = {"alice": customer, "bob": other_customer}

    def make(spec, subject):
        if "customer" in spec:
            return factories.open_ticket(
                department, customer=accounts[spec["customer"]], subject=subject
            )
        return factories.open_ticket(department, email=spec["email"], subject=subject)

    target = make(first, "Target")
    source = make(second, "Source with a secret")
    before = _state()
    with pytest.raises(workflow.WorkflowError):
        workflow.merge(target, [source], user=merger)
    assert _state() == before
    response = _bulk_merge(merger, [target, source], target)
    assert _state() == before
    assert any("another customer" in text for text in _messages(response))


def test_one_customers_tickets_merge_and_addresses_compare_in_any_case(department, merger):
    target = factories.open_ticket(department, email="Ann@Example.com", subject="Target")
    source = factories.open_ticket(department, email="ann@example.COM", subject="Source")
    assert workflow.merge(target, [source], user=merger) == 1
    assert Ticket.objects.get(pk=source.pk).merged_into_id == target.pk


def test_merging_needs_the_right_and_every_ticket_visible(department, helpdesk, merger, agent):
    sales = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    mine = factories.open_ticket(department, email="ann@example.com")
    theirs = factories.open_ticket(sales, email="ann@example.com")
    also_mine = factories.open_ticket(department, email="ann@example.com")
    before = _state()
    # A ticket of a department the user does not work in.
    with pytest.raises(workflow.WorkflowError):
        workflow.merge(mine, [theirs], user=merger)
    # Without "Can change ticket fields".
    with pytest.raises(workflow.WorkflowError):
        workflow.merge(mine, [also_mine], user=agent)
    assert _state() == before


def test_a_merge_is_capped_with_a_clear_message(department, merger, settings):
    settings.WAGTAIL_TICKETS_MERGE_MAX_TICKETS = 3
    tickets = [factories.open_ticket(department, email="ann@example.com") for _ in range(4)]
    before = _state()
    with pytest.raises(workflow.WorkflowError, match="at most 3"):
        workflow.merge(tickets[0], tickets[1:], user=merger)
    response = _bulk_merge(merger, tickets, tickets[0])
    assert _state() == before
    assert any("at most 3 tickets" in text for text in _messages(response))
    assert workflow.merge(tickets[0], tickets[1:3], user=merger) == 2
