"""The tickets' own search table (models.search): kept by the workflow, searched by the inbox.

Runs on SQLite (FTS5) and PostgreSQL (tsvector + GIN) alike: WT_DB=postgres.
"""

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from wagtail.search.index import get_indexed_models

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import Ticket, TicketSearch, search

pytestmark = pytest.mark.django_db

INDEX = "/admin/helpdesk_inbox/"


def found(query):
    ids = search.matching_ids(query)
    return set() if ids is None else set(ids.values_list("ticket_id", flat=True))


def codes(response):
    import re

    return re.findall(r'id="ticket_\d+_title">([A-Z]+-\d+)<', response.content.decode())


@pytest.fixture
def printer(department, customer):
    return factories.open_ticket(
        department, customer=customer, subject="Printers jammed", body="The paper tray is stuck."
    )


def test_tickets_left_wagtails_search_index():
    # Every write to Wagtail's index rescans it whole; tickets have their own table.
    assert Ticket not in get_indexed_models()


def test_open_ticket_writes_its_row(printer):
    entry = TicketSearch.objects.get(ticket=printer)
    assert printer.code.split("-")[1] in entry.title
    assert "printers jammed" in entry.title
    assert "tray" in entry.body and "alice" in entry.body


@pytest.mark.parametrize(
    "query",
    [
        "jammed",  # subject
        "JAMMED",
        "printer",  # a stem of "Printers"
        "print",  # prefix
        "tray stuck",  # every word, from the body
        "alice",  # the customer's name / address
        "alice@example.com",  # the whole address
        "example",  # a part of it
    ],
)
def test_matches(printer, query):
    assert printer.pk in found(query)


@pytest.mark.parametrize("query", ["scanner", "tray scanner", "jammed xylophone"])
def test_all_words_must_match(printer, query):
    assert printer.pk not in found(query)


def test_code_parts_match(printer):
    number = printer.code.split("-")[1]
    assert printer.pk in found(number)
    assert printer.pk in found(printer.code)


def test_russian_words_match_by_stem_or_prefix(department):
    ticket = factories.open_ticket(
        department, subject="Принтеры не печатают", body="Ошибка после обновления драйвера"
    )
    for query in ("принтер", "Принтеры", "обновлен", "драйвер ошибка"):
        assert ticket.pk in found(query), query
    assert ticket.pk not in found("сканер")


def test_reply_and_internal_note_are_searchable(printer, agent):
    workflow.post_reply(printer, body="Replaced the fuser unit", author=agent, by_staff=True)
    workflow.post_reply(
        printer, body="Vendor case 77AB", author=agent, by_staff=True, is_internal=True
    )
    assert printer.pk in found("fuser")
    assert printer.pk in found("77ab")


def test_edit_delete_subject_and_merge_keep_the_table_right(printer, department, customer, agent):
    # Changing fields and merging take "change ticket fields" (workflow/rules.py).
    agent = factories.grant(agent, "change_ticket_fields")
    reply = workflow.post_reply(printer, body="Try the walrus setting", author=customer)
    workflow.edit_message(reply, "Try the penguin setting", user=agent)
    assert printer.pk not in found("walrus")
    assert printer.pk in found("penguin")
    workflow.delete_message(reply, user=agent)
    assert printer.pk not in found("penguin")

    workflow.update_fields(printer, subject="Scanner offline", user=agent)
    assert printer.pk in found("scanner")
    assert printer.pk not in found("jammed")

    other = factories.open_ticket(department, customer=customer, body="Toner smudges everywhere")
    workflow.merge(printer, [other], user=agent)
    assert printer.pk in found("smudges")
    assert other.pk not in found("smudges")


def test_reply_costs_the_same_whatever_the_history(
    printer, department, customer, django_assert_max_num_queries
):
    """One UPDATE of the ticket's row, however many tickets and messages exist."""
    from django.test.utils import CaptureQueriesContext

    def reply_queries():
        with CaptureQueriesContext(connection) as captured:
            workflow.post_reply(printer, body="Still jammed", author=customer)
        return [q["sql"] for q in captured.captured_queries if "ticketsearch" in q["sql"]]

    small = reply_queries()
    for n in range(15):
        factories.open_ticket(department, subject=f"Other {n}", body="words " * 50)
    assert reply_queries() == small
    assert len(small) == 1 and small[0].startswith("UPDATE")


def test_reindex_command_rebuilds_the_table(printer, department):
    second = factories.open_ticket(department, subject="Keyboard sticky")
    TicketSearch.objects.all().delete()
    assert not found("keyboard")
    call_command("helpdesk_reindex", "--batch", "1", stdout=open("/dev/null", "w"))
    assert found("keyboard") == {second.pk}
    assert printer.pk in found("tray")


def test_rows_missing_are_rebuilt_by_the_next_reply(printer, customer):
    TicketSearch.objects.filter(ticket=printer).delete()
    workflow.post_reply(printer, body="Now the scanner too", author=customer)
    assert printer.pk in found("scanner")
    assert printer.pk in found("tray")


ODD_QUERIES = [
    '"',
    "'",
    "\"jammed' OR 1=1 --",
    "jam\x00med",
    "\x00",
    "a" * 10_000,
    " ".join(f"word{n}" for n in range(2000)),
    "jammed*",
    "NEAR(jammed tray)",
    "title:jammed",
    "!& | ( ) :* <->",
    "-jammed",
    "%_%",
    "😀 printer",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_queries_never_fail(client, printer, agent, query):
    found(query)  # no database error
    client.force_login(agent)
    response = client.get(INDEX, {"q": query})
    assert response.status_code == 200


def test_operators_are_words_not_syntax(printer):
    # "jammed*" or "-jammed" are the word jammed: a match, not an exclusion.
    assert printer.pk in found("jammed*")
    assert printer.pk in found("-jammed")
    assert printer.pk in found('(jammed) tray: "paper"')


def test_queries_without_words_search_nothing(printer):
    assert search.matching_ids('"" !! ::') is None


def test_inbox_search_uses_the_table(client, printer, department, agent):
    other = factories.open_ticket(department, subject="Router blinking")
    client.force_login(agent)
    assert codes(client.get(INDEX, {"q": "tray"})) == [printer.code]
    assert codes(client.get(INDEX, {"q": "blink"})) == [other.code]
    # The exact code first, then the others that mention it.
    workflow.post_reply(other, body=f"Same as {printer.code}", author_name="Alice")
    assert codes(client.get(INDEX, {"q": printer.code})) == [printer.code, other.code]
    assert reverse("helpdesk_inbox:index") == INDEX
