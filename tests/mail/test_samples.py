"""Every real-world message of django-mailbox's test suite becomes a sound ticket.

Each property has its own test, run over every message: taken in without an exception,
attachments kept, a readable subject, a readable body, the original kept for staff.
"""

import hashlib
import re

import pytest

from tests.mail import helpers
from wagtail_tickets.mail.parse import parse
from wagtail_tickets.models import InboundMail, Ticket

pytestmark = pytest.mark.django_db

SAMPLES = helpers.sample_names()
UNREADABLE = re.compile("[\ufffd\udc80-\udcff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# The attachments each message must arrive with (file name as the sender gave it).
# message_with_utf8_attachment.eml names two .jpg files whose bytes were replaced by
# "REDACTED" in the sample: they fail the upload check like any fake image would, and
# the ticket says so (see test_refused_attachments_are_named_in_the_ticket).
ATTACHMENTS = {
    "bad_character_attachment.eml": ["K\ufffdrelem.pdf"],
    "message_with_attachment.eml": ["heart.png"],
    "message_with_image_jpg_mimetype.eml": ["image-1.jpg", "image-2.jpg", "image-3.gif"],
    "message_with_koi8r_filename_attachments.eml": [
        "Пакет предложений HSE Career Fair 8 апреля 2016.pdf",
        "Ведомости.pdf",
        "Пакет предложений 2016.pptx",
    ],
    "message_with_not_decoded_attachment_header.eml": ["ð̞oβ̞le.png"],
    "message_with_text_attachment.eml": ["attachment.txt"],
}
REFUSED = {"message_with_utf8_attachment.eml": ["piłkochwyty.jpg", "odpowiedź Burmistrza.jpg"]}

# What the broken ones must read as.
SUBJECTS = {
    "message_with_single_byte_extended_subject_encoding.eml": (
        "Узнай как зарабатывать от 1000$ в неделю!"
    ),
    "message_with_koi8r_filename_attachments.eml": "Предложения от НИУ ВШЭ на 2016 год",
    "message_with_utf8_attachment.eml": "Odpowiedź od burmistrza na wniosek stowarzyszenia",
}
BODIES = {
    "message_with_invalid_content_for_declared_encoding.eml": (
        "Это сообщение имеет неправильную кодировка."
    ),
    "message_with_single_byte_encoding.eml": "Это сообщение имеет неправильную кодировка.",
    "message_with_invalid_encoding.eml": "We offer loans to private individuals",
    "email_issue_82.eml": "Atención",
    "message_with_utf8_char.eml": 'this one "✿"',
    "message_with_koi8r_filename_attachments.eml": "Добрый день, уважаемые коллеги.",
    "message_with_rfc822_attachment.eml": "This is the attached email.",
    "message_with_many_multiparts_stripped_html.eml": "Sample Text Content",
}


@pytest.fixture
def take_in(mailbox):
    def run(name):
        raw = helpers.sample(name)
        result = helpers.receive(raw, mailbox)
        ticket = Ticket.objects.get(pk=result.ticket.pk)
        return raw, result, ticket, ticket.messages.get()

    return run


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_is_taken_in_without_an_exception(take_in, name):
    _raw, result, ticket, message = take_in(name)
    assert result.outcome == InboundMail.Outcome.TICKET
    assert message.source == "email"
    assert message.email_message_id == parse(helpers.sample(name)).message_id
    assert "@" in ticket.customer_email


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_keeps_its_attachments(take_in, name):
    raw, _result, _ticket, message = take_in(name)
    stored = {a.original_name: a for a in message.attachments.all()}
    assert sorted(stored) == sorted(ATTACHMENTS.get(name, []))
    expected = {a.name: a.data for a in parse(raw).attachments}
    for stored_name, attachment in stored.items():
        with attachment.file.open("rb") as handle:
            content = handle.read()
        assert hashlib.sha256(content).hexdigest() == attachment.sha256
        assert content == expected[stored_name]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_attachments_are_named_in_the_ticket(take_in, name):
    _raw, _result, _ticket, message = take_in(name)
    assert message.attachments.count() == 0
    for refused in REFUSED[name]:
        assert f"“{refused}” was not accepted" in message.body


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_has_a_readable_subject(take_in, name):
    _raw, _result, ticket, _message = take_in(name)
    assert ticket.subject.strip()
    assert not UNREADABLE.search(ticket.subject), ticket.subject
    if name in SUBJECTS:
        assert ticket.subject == SUBJECTS[name]


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_has_a_readable_body(take_in, name):
    _raw, _result, _ticket, message = take_in(name)
    assert message.body.strip()
    assert not UNREADABLE.search(message.body), UNREADABLE.search(message.body)
    if name in BODIES:
        assert BODIES[name] in message.body


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_keeps_its_original_for_staff(take_in, name):
    raw, _result, _ticket, message = take_in(name)
    inbound = message.inbound_mail
    with inbound.original.open("rb") as handle:
        assert handle.read() == raw
    assert inbound.full_text.strip()
    assert not message.attachments.filter(original_name__endswith=".eml").exists()
