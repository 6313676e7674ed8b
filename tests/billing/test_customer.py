"""The customer's side of paid support: the department form's cost notice, the log-in
page in place of a form, refusals that keep what was typed, "My account", the PDF
statement, the sign-up, and anonymous tickets joining a verified account."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from tests import factories
from tests.billing.helpers import make_pack
from wagtail_tickets import billing
from wagtail_tickets.models import CustomerSignup, LedgerEntry, SupportAccount, Ticket

pytestmark = pytest.mark.django_db

FORM = {"name": "Alice", "email": "alice@example.com", "subject": "Disk full", "message": "Help"}


def html(response):
    return response.content.decode()


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


# --- the department form -------------------------------------------------------------


def test_anonymous_visitor_sees_the_price_and_log_in_instead_of_a_form(
    client, paid_department, incident_department, site_settings
):
    site_settings.signup_enabled = True
    site_settings.save()
    response = client.get(paid_department.url)
    page = html(response)
    assert response.status_code == 200
    assert "A request here costs $500.00." in page
    assert 'name="subject"' not in page
    assert f'href="/accounts/login/?next={paid_department.url}"' in page
    assert "signup/?next=" in page
    page = html(client.get(incident_department.url))
    assert "uses 1 prepaid incident" in page
    assert 'name="subject"' not in page


def test_anonymous_post_to_a_paid_department_creates_nothing(
    client, paid_department, site_settings
):
    response = client.post(paid_department.url, FORM)
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_form_states_the_incident_it_will_use(incident_department, customer, site_settings):
    grant = billing.grant_pack(
        customer, make_pack("Q", incidents=4, validity="days", validity_days=30)
    )
    page = html(logged_in(customer).get(incident_department.url))
    date = grant.expires_at.strftime("%-d %B %Y")
    assert f"This request uses 1 of your 4 incidents (valid until {date})." in page
    assert 'name="subject"' in page


def test_form_states_the_charge_and_the_balance(paid_department, customer, site_settings):
    billing.deposit(customer, "1250")
    page = html(logged_in(customer).get(paid_department.url))
    assert "$500.00 will be charged; your balance is $1,250.00." in page


def test_form_in_russian_formats_money_the_russian_way(paid_department, customer, site_settings):
    billing.deposit(customer, "1250")
    page = html(logged_in(customer).get(paid_department.url, HTTP_ACCEPT_LANGUAGE="ru"))
    assert "1\xa0250,00\xa0$" in page


def test_nothing_left_says_so_links_to_the_shop_and_keeps_what_was_typed(
    incident_department, customer, site_settings
):
    site_settings.purchase_url = "https://shop.example.com/packs"
    site_settings.save()
    client = logged_in(customer)
    page = html(client.get(incident_department.url))
    assert "You have no incidents left for this department." in page
    assert 'href="https://shop.example.com/packs"' in page
    typed = {**FORM, "subject": "Server <down>", "message": "It stopped at 3 am & won't start"}
    response = client.post(incident_department.url, typed)
    assert response.status_code == 402
    page = html(response)
    assert "You have no incidents left for this department." in page
    assert escape("Server <down>") in page
    assert escape("It stopped at 3 am & won't start") in page
    assert not Ticket.objects.exists()


def test_filing_uses_the_incident_and_thanks(incident_department, customer, pack, site_settings):
    billing.grant_pack(customer, pack)
    response = logged_in(customer).post(incident_department.url, FORM)
    assert response.status_code == 302
    assert SupportAccount.objects.get(customer=customer).incidents_left == 4


def test_support_centre_lists_prices(client, helpdesk, paid_department, incident_department):
    page = html(client.get(helpdesk.url))
    assert "Paid support: $500.00 per request" in page
    assert "Prepaid support: uses 1 incident" in page


# --- My account ---------------------------------------------------------------------


def account_url(helpdesk):
    return f"{helpdesk.url}account/"


def test_my_account_needs_log_in(client, helpdesk):
    response = client.get(account_url(helpdesk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = client.get(account_url(helpdesk) + "statement/")
    assert response.status_code == 302


def test_my_account_without_an_account(helpdesk, customer):
    response = logged_in(customer).get(account_url(helpdesk))
    assert response.status_code == 200
    assert "You have no prepaid incidents." in html(response)
    assert not SupportAccount.objects.exists()  # reading opens nothing
    assert logged_in(customer).get(account_url(helpdesk) + "statement/").status_code == 404


def test_my_account_shows_only_my_own(
    helpdesk, incident_department, customer, other_customer, pack
):
    billing.grant_pack(customer, pack)
    factories.open_ticket(incident_department, customer=customer, subject="Mine")
    billing.deposit(other_customer, "777", reason="Bob's order")
    page = html(logged_in(customer).get(account_url(helpdesk) + f"?account={other_customer.pk}"))
    assert "Five incidents" in page
    assert "PRE-000001" in page
    assert "$777.00" not in page and "Bob&#x27;s order" not in page
    pdf = logged_in(other_customer).get(account_url(helpdesk) + "statement/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_statement_filters_by_period_and_pages(helpdesk, customer):
    now = timezone.now()
    for day in range(30):
        billing.deposit(customer, "1", reason=f"Day {day}", at=now - timedelta(days=60 - day))
    client = logged_in(customer)
    page = html(client.get(account_url(helpdesk)))
    assert "Page 1 of 2" in page
    start = (now - timedelta(days=40)).date()
    end = (now - timedelta(days=35)).date()
    page = html(client.get(account_url(helpdesk), {"start": start, "end": end}))
    shown = set(re.findall(r"Day (\d+)", page))
    assert shown == {
        str(d) for d in range(30) if start <= (now - timedelta(days=60 - d)).date() <= end
    }
    assert "Before the period" in page
    bad = client.get(account_url(helpdesk), {"start": "2026-13-45", "end": "x" * 5000})
    assert bad.status_code == 200


def test_statement_pdf_is_rate_limited(helpdesk, customer, settings):
    settings.WAGTAIL_TICKETS_STATEMENTS_PER_MINUTE = 2
    billing.deposit(customer, "5")
    client = logged_in(customer)
    url = account_url(helpdesk) + "statement/"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


# --- sign-up ------------------------------------------------------------------------


def signup_url(helpdesk):
    return f"{helpdesk.url}signup/"


SIGNUP = {
    "name": "Carol New",
    "email": "carol@example.com",
    "password1": "a-Long-enough-passphrase-42",
    "password2": "a-Long-enough-passphrase-42",
}


def test_signup_is_off_by_default(client, helpdesk, site_settings):
    assert client.get(signup_url(helpdesk)).status_code == 404
    assert client.post(signup_url(helpdesk), SIGNUP).status_code == 404


@pytest.fixture
def signup_on(site_settings, incident_department):
    site_settings.signup_enabled = True
    site_settings.welcome_pack = make_pack("Welcome", incidents=1)
    site_settings.save()
    return site_settings


def test_signup_verifies_the_address_and_grants_the_welcome_pack(
    client, helpdesk, signup_on, incident_department, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    anonymous = factories.open_ticket(
        factories.make_department(helpdesk, title="Free", prefix="FRE"),
        name="Carol",
        email="CAROL@example.com",
        subject="Before I had an account",
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(signup_url(helpdesk), SIGNUP)
    assert response.status_code == 302
    assert not get_user_model().objects.filter(email="carol@example.com").exists()
    (message,) = mail.outbox
    link = re.search(r"(http://\S+/signup/verify/\S+/)", message.body).group(1)
    # Built from the Site record, whatever Host the request carried.
    assert link.startswith("http://localhost/") or link.startswith("http://testserver/")
    path = (
        link.split("testserver", 1)[-1] if "testserver" in link else link.split("localhost", 1)[-1]
    )
    confirm = client.get(path)
    assert confirm.status_code == 200
    assert not get_user_model().objects.filter(email="carol@example.com").exists()
    done = client.post(path)
    assert done.status_code == 302
    user = get_user_model().objects.get(email="carol@example.com")
    assert user.is_active and user.check_password(SIGNUP["password1"])
    assert SupportAccount.objects.get(customer=user).incidents_left == 1
    anonymous.refresh_from_db()
    assert anonymous.customer == user  # "my tickets" shows it
    # Logged in, and the link is used up.
    assert client.get(f"{helpdesk.url}account/").status_code == 200
    assert Client().post(path).status_code == 404


def test_signup_refuses_weak_and_mismatched_passwords(client, helpdesk, signup_on):
    weak = client.post(signup_url(helpdesk), {**SIGNUP, "password1": "123", "password2": "123"})
    assert weak.status_code == 400
    mismatch = client.post(signup_url(helpdesk), {**SIGNUP, "password2": "other-Passphrase-99"})
    assert mismatch.status_code == 400
    assert "The two passwords differ." in html(mismatch)
    assert not CustomerSignup.objects.exists()


def test_signup_is_rate_limited_per_address(client, helpdesk, signup_on, settings):
    settings.WAGTAIL_TICKETS_SIGNUPS_PER_HOUR = 2
    codes = [
        client.post(signup_url(helpdesk), {**SIGNUP, "email": f"c{n}@example.com"}).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 400]
    assert CustomerSignup.objects.count() == 2


def test_the_signup_limit_holds_in_the_workflow_not_only_in_the_form(helpdesk, settings):
    """Any route that signs up (a form today, an API tomorrow) meets the limit, counted
    under the address's lock like every write limit."""
    from wagtail_tickets.workflow import accounts
    from wagtail_tickets.workflow.limits import RateLimited

    settings.WAGTAIL_TICKETS_SIGNUPS_PER_HOUR = 1
    signup = {"name": "C", "password": "Long-passphrase-42", "helpdesk": helpdesk}
    accounts.request_signup(email="c1@example.com", ip="203.0.113.9", **signup)
    with pytest.raises(RateLimited):
        accounts.request_signup(email="c2@example.com", ip="203.0.113.9", **signup)
    # Another address is not held back.
    accounts.request_signup(email="c3@example.com", ip="198.51.100.4", **signup)
    assert CustomerSignup.objects.count() == 2


def test_signup_with_an_existing_address_tells_its_owner_and_makes_nothing(
    client, helpdesk, signup_on, customer, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            signup_url(helpdesk), {**SIGNUP, "email": customer.email}, HTTP_HOST="evil.example"
        )
    assert response.status_code == 302  # the same answer as for a new address
    assert not CustomerSignup.objects.exists()
    (message,) = mail.outbox
    assert message.to == [customer.email]
    assert "already has an account" in message.body
    assert "evil.example" not in message.body


@pytest.mark.parametrize("token", ["x" * 20, "a" * 300, "bad-token-0000000000000", "Z" * 64])
def test_forged_or_garbled_verification_links_do_not_work(client, helpdesk, signup_on, token):
    assert client.get(f"{helpdesk.url}signup/verify/{token}/").status_code == 404
    assert client.post(f"{helpdesk.url}signup/verify/{token}/").status_code == 404


def test_expired_verification_link_does_not_work(client, helpdesk, signup_on, settings):
    from wagtail_tickets.workflow.accounts import signup_token

    client.post(signup_url(helpdesk), SIGNUP)
    signup = CustomerSignup.objects.get()
    CustomerSignup.objects.filter(pk=signup.pk).update(
        created_at=timezone.now() - timedelta(days=4)
    )
    settings.WAGTAIL_TICKETS_SIGNUP_LINK_DAYS = 3
    token = signup_token(signup)
    assert client.post(f"{helpdesk.url}signup/verify/{token}/").status_code == 404


def test_verified_addresses_setting_joins_tickets_on_log_in(
    helpdesk, department, customer, settings
):
    ticket = factories.open_ticket(department, name="Alice", email=customer.email)
    client = Client()
    client.login(username=customer.username, password="pass-123-word")
    ticket.refresh_from_db()
    assert ticket.customer is None  # off by default: anyone may type any address
    settings.WAGTAIL_TICKETS_VERIFIED_EMAILS = True
    client.login(username=customer.username, password="pass-123-word")
    ticket.refresh_from_db()
    assert ticket.customer == customer


def test_refused_request_keeps_files_out_and_ledger_clean(
    incident_department, customer, site_settings
):
    client = logged_in(customer)
    upload = factories.upload("log.txt", b"trace\n")
    response = client.post(incident_department.url, {**FORM, "attachments": upload})
    assert response.status_code == 402
    assert not LedgerEntry.objects.exists()
    assert "choose your attachments again" in html(response)


def test_a_paid_request_costs_three_statements_more_than_a_free_one(
    department, incident_department, customer, pack, site_settings
):
    """Take an incident off the account (locking it), off the grant, write the entry:
    the billing adds three statements to a logged-in customer's submission."""
    billing.grant_pack(customer, pack)
    client = logged_in(customer)
    for target in (department, incident_department):  # code counters and caches warm
        client.post(target.url, {**FORM, "subject": "warm"})
    with CaptureQueriesContext(connection) as free:
        assert client.post(department.url, FORM).status_code == 302
    with CaptureQueriesContext(connection) as paid:
        assert client.post(incident_department.url, FORM).status_code == 302
    assert len(paid.captured_queries) == len(free.captured_queries) + 3
