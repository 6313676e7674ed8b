"""The topic key that groups tickets and articles on the same subject."""

import pytest

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.topics import topic_key


@pytest.mark.parametrize(
    "one, other",
    [
        ("Can't log in to my account!", "Logging in to your account"),
        ("Printer stopped", "printer STOPS"),
        ("Не приходит письмо для сброса пароля", "Письмо сброса пароля не приходит"),
        ("Invoice PDF is blank", "invoice pdf: blank?"),
    ],
)
def test_variants_of_one_subject_share_a_key(one, other):
    assert topic_key(one) == topic_key(other) != ""


@pytest.mark.parametrize(
    "one, other",
    [
        ("Invoice PDF is blank", "Refund for invoice"),
        ("Can't log in to my account", "Delete my account"),
    ],
)
def test_different_subjects_get_different_keys(one, other):
    assert topic_key(one) != topic_key(other)


def test_stop_words_numbers_and_punctuation_leave_nothing():
    assert topic_key("Help!!! 404 ??? please, urgent") == ""
    assert topic_key("") == ""
    assert topic_key(None) == ""


def test_key_is_short_and_bounded():
    key = topic_key(" ".join(f"word{n}alpha" for n in range(100)) + " extraordinarily")
    assert len(key.split()) <= 4
    assert len(key) <= 120


def test_the_workflow_keeps_the_ticket_key(department):
    ticket = factories.open_ticket(department, subject="Cannot log in to the account")
    assert ticket.subject_key == topic_key("Cannot log in to the account")
    workflow.update_fields(ticket, subject="Invoice PDF is blank")
    ticket.refresh_from_db()
    assert ticket.subject_key == topic_key("Invoice PDF is blank")
