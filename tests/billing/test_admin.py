"""The managers' panel: who may open and do what (the role x route matrix), the
actions, the listing's filters, search, sorting and exports, the report, the ticket
screen's panel, and constant query counts."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests import factories
from tests.billing.helpers import make_pack
from wagtail_tickets import billing
from wagtail_tickets.models import IncidentPack, LedgerEntry, SupportAccount

pytestmark = pytest.mark.django_db

A = "helpdesk_billing_accounts"
P = "helpdesk_billing_packs"
R = "helpdesk_billing_report"

LOGIN = "login"
DENIED = "403"
OK = "ok"
ROLES = ["anonymous", "customer", "agent", "reader", "manager", "superuser"]


def _row(anonymous=LOGIN, customer=LOGIN, agent=DENIED, reader=DENIED, manager=OK, superuser=OK):
    return dict(
        anonymous=anonymous,
        customer=customer,
        agent=agent,
        reader=reader,
        manager=manager,
        superuser=superuser,
    )


READ = _row(reader=OK)
WRITE = _row()
NOBODY = _row(manager=DENIED, superuser=DENIED)


@pytest.fixture
def scene(helpdesk, paid_department, incident_department, customer, pack):
    billing.deposit(customer, "2000")
    billing.grant_pack(customer, pack)
    charged = factories.open_ticket(paid_department, customer=customer, subject="Charged")
    used = factories.open_ticket(incident_department, customer=customer, subject="Used")
    account = SupportAccount.objects.get(customer=customer)
    return {
        "account": account,
        "charged": charged,
        "charge": LedgerEntry.objects.get(ticket=charged),
        "use": LedgerEntry.objects.get(ticket=used),
        "grant": account.grants.get(),
        "pack": pack,
    }


@pytest.fixture
def users(customer, paid_department, incident_department, superuser):
    departments = [paid_department, incident_department]
    return {
        "customer": customer,
        "agent": factories.make_agent("desk", departments=departments),
        "reader": factories.make_manager(
            "reader", codenames=["view_supportaccount"], departments=departments
        ),
        "manager": factories.make_manager(
            "manager", codenames=["manage_billing"], departments=departments
        ),
        "superuser": superuser,
    }


def routes(scene):
    account, charge, use = scene["account"], scene["charge"], scene["use"]
    pk = account.pk
    return [
        # (method, url, data, expected per role)
        ("get", reverse(f"{A}:index"), None, READ),
        ("get", reverse(f"{A}:index") + "?export=csv", None, READ),
        ("get", reverse(f"{A}:index") + "?export=xlsx", None, READ),
        ("get", reverse(f"{A}:inspect", args=[pk]), None, READ),
        ("get", reverse(f"{A}:statement", args=[pk]), None, READ),
        ("get", reverse(f"{A}:add"), None, WRITE),
        ("post", reverse(f"{A}:deposit", args=[pk]), {"amount": "10", "reason": ""}, WRITE),
        (
            "post",
            reverse(f"{A}:adjust", args=[pk]),
            {"direction": "credit", "amount": "1", "reason": "x"},
            WRITE,
        ),
        ("post", reverse(f"{A}:grant", args=[pk]), {"pack": scene["pack"].pk}, WRITE),
        ("post", reverse(f"{A}:credit_limit", args=[pk]), {"credit_limit": "5"}, WRITE),
        ("get", reverse(f"{A}:refund", args=[charge.pk]), None, WRITE),
        ("post", reverse(f"{A}:refund", args=[charge.pk]), {"amount": "1", "reason": "x"}, WRITE),
        ("get", reverse(f"{A}:return", args=[use.pk]), None, WRITE),
        ("post", reverse(f"{A}:return", args=[use.pk]), {"reason": "x"}, WRITE),
        ("get", reverse(f"{A}:end_grant", args=[scene["grant"].pk]), None, WRITE),
        ("get", reverse(f"{A}:extra_charge", args=[scene["charged"].pk]), None, WRITE),
        (
            "post",
            reverse(f"{A}:extra_charge", args=[scene["charged"].pk]),
            {"amount": "1", "reason": "x"},
            WRITE,
        ),
        # Accounts are never edited or deleted as rows.
        ("get", reverse(f"{A}:edit", args=[pk]), None, NOBODY),
        ("post", reverse(f"{A}:delete", args=[pk]), {}, NOBODY),
        ("get", reverse(f"{P}:index"), None, READ),
        ("get", reverse(f"{P}:add"), None, WRITE),
        ("get", reverse(f"{P}:edit", args=[scene["pack"].pk]), None, WRITE),
        ("get", reverse(R + ":index"), None, READ),
        ("get", reverse(R + ":index") + "?export=csv", None, READ),
    ]


def _client(role, users):
    client = Client()
    if role != "anonymous":
        client.force_login(users[role])
    return client


def _snapshot():
    return (
        LedgerEntry.objects.count(),
        list(SupportAccount.objects.values_list("balance", "credit_limit", "incidents_left")),
        IncidentPack.objects.count(),
    )


@pytest.mark.parametrize("role", ROLES)
def test_role_route_matrix(role, scene, users):
    client = _client(role, users)
    failures = []
    for method, url, data, expected in routes(scene):
        before = _snapshot()
        response = getattr(client, method)(url, data or {})
        got = response.status_code
        if expected[role] == LOGIN:
            ok = got == 302 and "/admin/login/" in response["Location"]
        elif expected[role] == DENIED:
            ok = got == 403
        else:
            ok = got in (200, 302)
        if expected[role] != OK and method == "post":
            ok = ok and _snapshot() == before
        if not ok:
            failures.append((method, url, expected[role], got))
    assert not failures, failures


def test_actions_are_post_only_and_need_csrf(scene, users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["manager"])
    pk = scene["account"].pk
    assert client.post(reverse(f"{A}:deposit", args=[pk]), {"amount": "5"}).status_code == 403
    assert Client().get(reverse(f"{A}:deposit", args=[pk])).status_code in (302, 405)
    manager = Client()
    manager.force_login(users["manager"])
    assert manager.get(reverse(f"{A}:deposit", args=[pk])).status_code == 405


def test_missing_rows_are_404(users):
    client = _client("manager", users)
    for url in (
        reverse(f"{A}:inspect", args=[999999]),
        reverse(f"{A}:refund", args=[999999]),
        reverse(f"{A}:return", args=[999999]),
        reverse(f"{A}:end_grant", args=[999999]),
        reverse(f"{A}:extra_charge", args=[999999]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse(f"{A}:deposit", args=[999999]), {"amount": "1"}).status_code == 404


def test_refund_page_refuses_a_use_and_return_page_refuses_a_charge(scene, users):
    client = _client("manager", users)
    assert client.get(reverse(f"{A}:refund", args=[scene["use"].pk])).status_code == 404
    assert client.get(reverse(f"{A}:return", args=[scene["charge"].pk])).status_code == 404


# --- actions ----------------------------------------------------------------------


def test_manager_deposits_grants_adjusts_and_sets_a_credit_limit(scene, users, customer):
    client = _client("manager", users)
    pk = scene["account"].pk
    follow = {"follow": True}
    page = client.post(
        reverse(f"{A}:deposit", args=[pk]), {"amount": "250.50", "reason": "Cash"}, **follow
    )
    assert "$250.50 credited" in page.content.decode()
    client.post(reverse(f"{A}:grant", args=[pk]), {"pack": scene["pack"].pk, "reason": "Gift"})
    client.post(
        reverse(f"{A}:adjust", args=[pk]),
        {"direction": "debit", "amount": "0.50", "reason": "Bank fee"},
    )
    client.post(reverse(f"{A}:credit_limit", args=[pk]), {"credit_limit": "300"})
    account = SupportAccount.objects.get(pk=pk)
    assert account.balance == Decimal("1750.00")
    assert account.incidents_left == 9
    assert account.credit_limit == Decimal("300.00")
    actions = set(ModelLogEntry.objects.values_list("action", flat=True))
    assert {
        "wagtail_tickets.billing.deposit",
        "wagtail_tickets.billing.grant",
        "wagtail_tickets.billing.adjust",
        "wagtail_tickets.billing.credit_limit",
    } <= actions
    assert LedgerEntry.objects.filter(actor=users["manager"]).count() == 3


@pytest.mark.parametrize(
    "data, message",
    [
        ({"amount": "-5"}, "more than zero"),
        ({"amount": "0"}, "more than zero"),
        ({"amount": "99999999999"}, "too large"),
        ({"amount": "1000000.01"}, "at most"),
        ({"amount": "1.234"}, "two decimal places"),
        ({"amount": "NaN"}, "Enter an amount"),
        ({"amount": "1e400"}, ""),
        ({"amount": "\x00"}, ""),
        ({"amount": "x" * 10000}, ""),
    ],
)
def test_bad_amounts_typed_by_staff_are_refused(scene, users, data, message):
    client = _client("manager", users)
    before = _snapshot()
    response = client.post(reverse(f"{A}:deposit", args=[scene["account"].pk]), data, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was changed" in page
    assert message in page
    assert _snapshot() == before


def test_refund_from_the_confirmation_page_and_a_replayed_form(scene, users):
    client = _client("manager", users)
    url = reverse(f"{A}:refund", args=[scene["charge"].pk])
    page = client.get(url).content.decode()
    token = __import__("re").search(r'name="token" value="([^"]+)"', page).group(1)
    data = {"amount": "100", "reason": "Late answer", "token": token}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 400
    assert "already been made" in again.content.decode()
    too_much = client.post(url, {"amount": "450", "reason": "More", "token": "t2"})
    assert too_much.status_code == 400
    assert "At most $400.00" in too_much.content.decode()
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_return_end_grant_and_extra_charge(scene, users, customer):
    client = _client("manager", users)
    ticket_url = reverse("helpdesk_tickets:detail", args=[scene["charged"].pk])
    response = client.post(
        reverse(f"{A}:return", args=[scene["use"].pk]) + f"?next={ticket_url}", {"reason": "Ours"}
    )
    assert response.status_code == 302 and response["Location"] == ticket_url
    response = client.post(
        reverse(f"{A}:extra_charge", args=[scene["charged"].pk]),
        {"amount": "120", "reason": "Weekend work"},
    )
    assert response.status_code == 302
    client.post(reverse(f"{A}:end_grant", args=[scene["grant"].pk]), {"reason": "Cancelled"})
    account = SupportAccount.objects.get(customer=customer)
    assert account.incidents_left == 0
    assert account.balance == Decimal("1380.00")


def test_next_cannot_leave_the_site(scene, users):
    client = _client("manager", users)
    url = reverse(f"{A}:return", args=[scene["use"].pk]) + "?next=https://evil.example/"
    response = client.post(url, {"reason": "x"})
    assert response["Location"].startswith("/admin/")


def test_open_an_account_for_a_customer(users, other_customer):
    client = _client("manager", users)
    response = client.post(reverse(f"{A}:add"), {"customer": other_customer.email})
    account = SupportAccount.objects.get(customer=other_customer)
    assert response["Location"] == reverse(f"{A}:inspect", args=[account.pk])
    unknown = client.post(reverse(f"{A}:add"), {"customer": "nobody@example.com"})
    assert unknown.status_code == 200
    assert "No active user" in unknown.content.decode()


# --- listing ----------------------------------------------------------------------


@pytest.fixture
def many_accounts(db, helpdesk):
    from datetime import timedelta

    from django.utils import timezone

    people = []
    for n, (balance, incidents, days) in enumerate(
        [("100", 0, None), ("0", 3, 10), ("0", 2, 90), ("-50", 0, None), ("0", 0, None)]
    ):
        user = factories.make_user(f"person{n}", first_name=f"Person{n}")
        people.append(user)
        if balance.startswith("-"):
            billing.set_credit_limit(user, "100")
            billing.adjust(user, balance, reason="Debt")
        elif balance != "0":
            billing.deposit(user, balance)
        if incidents:
            pack = make_pack(f"P{n}", incidents=incidents, validity="days", validity_days=days)
            billing.grant_pack(user, pack, at=timezone.now())
        if not (balance != "0" or incidents):
            billing.open_account(user)
    assert timedelta
    return people


def _names(response):
    import re

    return re.findall(r"Person\d", response.content.decode())


@pytest.mark.parametrize(
    "query, expected",
    [
        ("has_balance=on", ["Person0"]),
        ("negative=on", ["Person3"]),
        ("incidents=on", ["Person1", "Person2"]),
        ("expiring=on", ["Person1"]),
        ("q=person4", ["Person4"]),
    ],
)
def test_listing_filters_and_search(many_accounts, superuser, query, expected):
    client = Client()
    client.force_login(superuser)
    response = client.get(reverse(f"{A}:index") + "?" + query)
    assert sorted(set(_names(response))) == expected


def test_listing_sorts_by_balance(many_accounts, superuser):
    client = Client()
    client.force_login(superuser)
    names = _names(client.get(reverse(f"{A}:index") + "?ordering=balance"))
    assert names[0] == "Person3" and names[-1] == "Person0"


def test_csv_export_neutralises_formulas(db, superuser, helpdesk):
    user = factories.make_user("formula", first_name="=HYPERLINK(1)", email="x@example.com")
    billing.set_credit_limit(user, "10")
    billing.adjust(user, "-5", reason="Debt")
    client = Client()
    client.force_login(superuser)
    response = client.get(reverse(f"{A}:index") + "?export=csv")
    content = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(1)" in content
    assert ",-5.00," in content  # numbers stay numbers


def test_listing_query_count_does_not_grow(superuser, django_assert_max_num_queries, helpdesk):
    client = Client()
    client.force_login(superuser)
    url = reverse(f"{A}:index") + "?ordering=-balance"

    def measure():
        client.get(url)
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    for n in range(3):
        billing.deposit(factories.make_user(f"few{n}"), "1")
    few = measure()
    for n in range(60):
        billing.deposit(factories.make_user(f"many{n}"), "1")
    assert measure() == few


def test_account_screen_query_count_does_not_grow(
    scene, superuser, customer, paid_department, django_assert_max_num_queries
):
    client = Client()
    client.force_login(superuser)
    url = reverse(f"{A}:inspect", args=[scene["account"].pk])

    def measure():
        client.get(url)
        with django_assert_max_num_queries(30) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    few = measure()
    billing.deposit(customer, "100000")
    for _ in range(40):
        factories.open_ticket(paid_department, customer=customer)
    assert measure() <= few


# --- report -------------------------------------------------------------------------


def test_report_per_department_and_month(scene, superuser, paid_department):
    billing.refund(scene["charge"], "100")
    client = Client()
    client.force_login(superuser)
    response = client.get(reverse(R + ":index") + "?export=csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("Month,Department,Tickets,Incidents used")
    rows = {line.split(",")[1]: line.split(",") for line in lines[1:]}
    expert = rows["Expert help"]
    assert expert[2:] == ["1", "0", "0", "500.00", "100.00", "400.00"]
    assert rows["Premium support"][2:4] == ["1", "1"]
    only = client.get(reverse(R + ":index") + f"?department={paid_department.pk}&export=csv")
    only = b"".join(only.streaming_content).decode().splitlines()
    assert [line.split(",")[1] for line in only[1:]] == ["Expert help"]
    bad = client.get(reverse(R + ":index") + "?start=2026-99&end=zzz&department=abc")
    assert bad.status_code == 200


# --- ticket screen --------------------------------------------------------------------


def test_ticket_screen_shows_the_cost_and_the_actions(scene, users):
    url = reverse("helpdesk_tickets:detail", args=[scene["charged"].pk])
    page = _client("manager", users).get(url).content.decode()
    assert "Paid support" in page
    assert "Net cost: $500.00" in page
    assert reverse(f"{A}:refund", args=[scene["charge"].pk]) in page
    reader = _client("reader", users).get(url).content.decode()
    assert "Net cost: $500.00" in reader
    assert reverse(f"{A}:refund", args=[scene["charge"].pk]) not in reader
    agent = _client("agent", users).get(url).content.decode()
    assert "Net cost" not in agent


def test_view_permission_is_offered_in_the_group_editor(superuser):
    from wagtail import hooks

    offered = set()
    for fn in hooks.get_hooks("register_permissions"):
        offered |= set(fn().values_list("codename", flat=True))
    assert {"view_supportaccount", "manage_billing"} <= offered
    assert Permission.objects.filter(codename="view_supportaccount").exists()


def test_agent_opening_a_ticket_in_a_paid_department_is_refused_clearly(
    paid_department, customer, users
):
    client = _client("agent", users)
    data = {
        "account": customer.username,
        "department": paid_department.pk,
        "subject": "Phoned in",
        "message": "The customer called.",
    }
    response = client.post(reverse("helpdesk_tickets:create"), data)
    assert response.status_code == 400
    assert "This request costs $500.00 and your balance is $0.00." in response.content.decode()
    billing.deposit(customer, "500")
    assert client.post(reverse("helpdesk_tickets:create"), data).status_code == 302
    assert SupportAccount.objects.get(customer=customer).balance == 0
