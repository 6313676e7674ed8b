"""scrub(): a ticket's personal data out, the numbers an article needs left in."""

from types import SimpleNamespace

import pytest

from tests import factories
from wagtail_tickets import links
from wagtail_tickets.scrub import is_signed_token, scrub

NAME, EMAIL, PHONE, IP, LINK = (
    "[name]",
    "[e-mail address]",
    "[phone number]",
    "[IP address]",
    "[private link]",
)


def bare_ticket(name="Alice Smithson", email="alice.smith@example.org"):
    """What scrub reads from a ticket, without the database."""
    return SimpleNamespace(
        customer_name=name, customer_email=email, customer_id=None, customer=None, helpdesk=None
    )


def clean(text, **kwargs):
    return scrub(text, ticket=bare_ticket(), **kwargs)


# --------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello Alice Smithson,", f"Hello {NAME},"),
        ("Hello ALICE  SMITHSON,", f"Hello {NAME},"),
        ("alice\nsmithson wrote", f"{NAME} wrote"),
        ("Thanks, alice!", f"Thanks, {NAME}!"),
        ("Dear Ms Smithson", f"Dear Ms {NAME}"),
        ("Alice's printer", f"{NAME}'s printer"),
        ("«Алиса»", "«Алиса»"),
    ],
)
def test_customer_name_and_its_words_are_replaced(text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Malice is not a name here",  # part of a longer word
        "aliceX and Smithsonian",
        "ali and smi",
        "The palace smiths",
    ],
)
def test_name_only_as_a_whole_word(text):
    assert clean(text) == text


def test_short_name_parts_are_left_but_the_full_name_goes():
    ticket = bare_ticket(name="Li Wu")
    assert scrub("Li Wu called; Li said the Wu-Tang file is at li.txt", ticket=ticket) == (
        f"{NAME} called; Li said the Wu-Tang file is at li.txt"
    )


def test_unicode_names():
    ticket = bare_ticket(name="Ольга Петрова-Водкина", email="olga@example.ru")
    result = scrub("Ольга Петрова-Водкина пишет: петрова и ВОДКИНА, Ольгерд", ticket=ticket)
    assert result == f"{NAME} пишет: {NAME} и {NAME}, Ольгерд"


def test_extra_names():
    assert clean("Signed, Bartholomew Q.", extra_names=["Bartholomew Quist"]) == (
        f"Signed, {NAME} Q."
    )


def test_a_customer_called_name_does_not_touch_placeholders():
    ticket = bare_ticket(name="Mail Address", email="x@example.org")
    assert scrub("Mail Address, write to x@example.org", ticket=ticket) == (
        f"{NAME}, write to {EMAIL}"
    )
    ticket = bare_ticket(name="Name", email="x@example.org")
    assert scrub("Name: Name", ticket=ticket) == f"{NAME}: {NAME}"


def test_account_names_and_username(db):
    customer = factories.make_user(
        "zorro77", email="diego@example.org", first_name="Diego", last_name="Vega"
    )
    ticket = SimpleNamespace(
        customer_name="D. V.",
        customer_email="other@example.org",
        customer_id=customer.pk,
        customer=customer,
        helpdesk=None,
    )
    result = scrub("Diego Vega aka zorro77 (diego@example.org); zorro77x stays", ticket=ticket)
    assert result == f"{NAME} aka {NAME} ({EMAIL}); zorro77x stays"


# --------------------------------------------------------------------------------------
# E-mail addresses
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("write to alice.smith@example.org.", f"write to {EMAIL}."),
        ("ALICE.SMITH@EXAMPLE.ORG", EMAIL),
        ("cc bob+tag@mail.co.uk, eve@sub.example.com", f"cc {EMAIL}, {EMAIL}"),
        ("<o'hara@example.ie>", f"<{EMAIL}>"),
        ("mailto:help@firma.de?subject=x", f"mailto:{EMAIL}?subject=x"),
        ("почта: иван@пример.рф", f"почта: {EMAIL}"),
    ],
)
def test_email_addresses_are_replaced(text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize(
    "text",
    ["@mention me", "user@localhost", "a @ b", "see foo@bar", "C# and F@ are not mail"],
)
def test_not_email_addresses(text):
    assert clean(text) == text


# --------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "+7 (912) 345-67-89",
        "8 912 345 67 89",
        "+44 20 7946 0958",
        "555-123-4567",
        "(555) 123 4567",
        "555.123.4567",
        "+79123456789",
        "89123456789",
        "8(912)345-67-89",
        "+1-202-555-0143",
        "01 23 45 67 89",
        "555-1234",
    ],
)
def test_phone_numbers_are_replaced(text):
    assert clean(f"Call me on {text}, please.") == f"Call me on {PHONE}, please."


def test_phone_in_brackets_and_at_line_ends():
    assert clean("(tel. +44 20 7946 0958)\n555-123-4567") == f"(tel. {PHONE})\n{PHONE}"
    assert clean("tel:+79123456789") == f"tel:{PHONE}"


@pytest.mark.parametrize(
    "text",
    [
        "It broke on 2026-11-26 at 10:30.",
        "It broke on 26.11.2026 and 11/26/2026.",
        "Upgrade to version 1.2.3 or 10.0.19045.2965.",
        "See TECH-000042 and TECH-0000042.",
        "It says error 404.",
        "Open port 8080 and 443.",
        "We covered 2019-2024.",
        "The invoice was for 1 000 000 roubles, or $1 500 000.",
        "Pi is 3.14159265.",
        "Order 1234567 was shipped.",
        "The build 20260126 is fine.",
        "Ratio 16:9, time 12:30:45.",
        "Path /files/12345678901/report and ?id=5551234567",
        "Ticket #5551234567",
        "Amounts 1,234,567 and 12.50",
    ],
)
def test_numbers_that_are_not_phones(text):
    assert clean(text) == text


# --------------------------------------------------------------------------------------
# IP addresses
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("from 192.168.0.12.", f"from {IP}."),
        ("10.0.0.1:8080", f"{IP}:8080"),
        ("range 10.0.0.0/24", f"range {IP}/24"),
        ("v6 2001:db8::1 here", f"v6 {IP} here"),
        ("[2001:db8:85a3::8a2e:370:7334]:443", f"[{IP}]:443"),
        ("loopback ::1.", f"loopback {IP}."),
        ("link-local fe80::1%eth0", f"link-local {IP}"),
        ("mapped ::ffff:192.0.2.128", f"mapped {IP}"),
    ],
)
def test_ip_addresses_are_replaced(text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3",
        "999.1.1.1 is not an address",
        "999.255.255.255 neither",
        "1.2.3.4.5 is a version",
        "time 12:30:45",
        "MAC 00:1A:2B:3C:4D:5E",
        "C++ std::vector and a::b::c::d::e::f::g::h::i",
    ],
)
def test_not_ip_addresses(text):
    assert clean(text) == text


# --------------------------------------------------------------------------------------
# Private links
# --------------------------------------------------------------------------------------


@pytest.fixture
def linked_ticket(department, helpdesk):
    ticket, raw = factories.open_ticket_with_token(department)
    return ticket, raw, helpdesk


def test_private_link_of_the_support_centre(linked_ticket):
    ticket, raw, helpdesk = linked_ticket
    absolute = links.private_link_url(helpdesk, raw)
    relative = helpdesk.get_url() + helpdesk.reverse_subpage("access_route", args=[raw])
    other_host = "https://help.example.net" + relative
    text = f"Link: {absolute}. Also ({relative}) and {other_host}!"
    assert scrub(text, ticket=ticket) == f"Link: {LINK}. Also ({LINK}) and {LINK}!"


def test_signed_mail_link_in_any_absolute_url(linked_ticket):
    ticket, _raw, helpdesk = linked_ticket
    mail_link = links.mail_link_url(ticket, helpdesk)
    token = links.signed_token(ticket)
    assert is_signed_token(token)
    elsewhere = f"https://mail.example.com/redirect?to=x&t={token}"
    text = f"From the mail: {mail_link} and {elsewhere}"
    assert scrub(text, ticket=ticket) == f"From the mail: {LINK} and {LINK}"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/docs/access/configuring-permissions/",
        "https://example.com/other-helpdesk/access/AbCdEfGhIjKlMnOpQrStUvWx/",
        "https://example.com/support/access/short/",
        "https://example.com/support/tickets/TECH-000001/",
        "https://example.com/page?t=" + "A" * 40,
    ],
)
def test_other_links_stay(linked_ticket, url):
    ticket, _raw, _helpdesk = linked_ticket
    assert scrub(f"See {url} now", ticket=ticket) == f"See {url} now"


def test_forged_signed_token_is_not_a_private_link():
    import base64

    forged = base64.urlsafe_b64encode(b'[1,"abc"]:1tXyZ:forgedsignature00000').decode()
    assert not is_signed_token(forged.rstrip("="))


def test_without_a_support_centre_any_access_route_counts():
    text = "https://example.com/help/access/AbCdEfGhIjKlMnOpQrStUvWx12/"
    assert clean(f"go {text}") == f"go {LINK}"


# --------------------------------------------------------------------------------------
# All together, and the placeholders' language
# --------------------------------------------------------------------------------------


def test_everything_in_one_message():
    text = (
        "Hi, I'm Alice Smithson (alice.smith@example.org, +7 (912) 345-67-89).\n"
        "My PC 192.168.1.20 shows error 0x80070005 since 2026-11-26 with driver 4.5.6."
    )
    assert clean(text) == (
        f"Hi, I'm {NAME} ({EMAIL}, {PHONE}).\n"
        f"My PC {IP} shows error 0x80070005 since 2026-11-26 with driver 4.5.6."
    )


def test_empty_text():
    assert clean("") == ""
    assert clean(None) == ""


@pytest.mark.parametrize(
    "text",
    [
        "1-" * 10000,
        "a:" * 10000,
        "1." * 10000,
        "x@" * 5000,
        "https://example.com/" + "a/" * 10000,
        "+1 " * 7000,
        "Alice " * 5000,
    ],
)
def test_long_unusual_text_stays_fast(text):
    """A 20,000-character message (the reply form's limit) scrubs in well under a second.

    Patterns that could backtrack over a whole run of characters made such text take
    seconds per pattern.
    """
    import time

    started = time.perf_counter()
    clean(text)
    assert time.perf_counter() - started < 1.0
