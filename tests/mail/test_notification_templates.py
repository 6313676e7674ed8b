"""Editable notification templates: the placeholder language, what mails say with and
without an editor's template, per language, and the shipped defaults' subjects."""

import re

import pytest
from django.core import mail
from django.utils import translation

from tests import factories
from wagtail_tickets import notifications, workflow
from wagtail_tickets.mail import compose, events, placeholders, samples
from wagtail_tickets.models import NotificationTemplate, Status

pytestmark = pytest.mark.django_db


def customise(event, language="en", **fields):
    fields.setdefault("subject", "[{{ ticket_code }}] Custom: {{ ticket_subject }}")
    fields.setdefault("text_body", "Dear {{ customer_name }},\n\n{{ message_text }}\n")
    return NotificationTemplate.objects.create(event=event, language=language, **fields)


def mails_to(address):
    return [m for m in mail.outbox if address in m.to]


def html_of(message):
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            return content
    return None


# --- the placeholder language --------------------------------------------------------------


def test_placeholders_are_substituted_and_nothing_else_is_evaluated():
    text = "{{ name }} / {{name}} / {% if x %}{{ name.upper }}{{ name|upper }}{# c #} {{ other }}"
    out = placeholders.render_text(text, {"name": "Ann"})
    assert out == "Ann / Ann / {% if x %}{{ name.upper }}{{ name|upper }}{# c #} {{ other }}"


def test_template_syntax_in_a_value_stays_text():
    out = placeholders.render_text("{{ a }}", {"a": "{{ b }}{% debug %}", "b": "secret"})
    assert out == "{{ b }}{% debug %}"


def test_html_values_are_escaped_with_line_breaks_and_the_html_is_sanitised():
    html = placeholders.render_html(
        '<p onclick="steal()">{{ text }}</p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a><a href="{{ link }}">link</a>',
        {"text": "Q&A <b>bold</b>\nsecond line", "link": "https://example.com/?a=1&b=2"},
    )
    assert "Q&amp;A &lt;b&gt;bold&lt;/b&gt;<br>\nsecond line" in html
    assert "onclick" not in html and "<script" not in html and "alert" not in html
    assert 'href="https://example.com/?a=1&amp;b=2"' in html


def test_a_subject_ending_in_an_empty_placeholder_loses_the_dangling_separator():
    text = "[{{ c }}] We have received your ticket: {{ s }}"
    assert placeholders.render_line(text, {"c": "X-1", "s": ""}) == (
        "[X-1] We have received your ticket"
    )
    assert placeholders.render_line(text, {"c": "X-1", "s": "Hi"}).endswith("ticket: Hi")


def test_subjects_are_one_plain_line():
    assert placeholders.render_line("[{{ c }}]  Q&A:\n {{ s }}", {"c": "X-1", "s": "a < b"}) == (
        "[X-1] Q&A: a < b"
    )


def test_a_line_whose_placeholders_are_all_empty_is_left_out():
    text = "Hello\nReason: {{ reason }}\n{{ a }} and {{ b }}\nBye"
    assert placeholders.render_text(text, {"reason": "", "a": "", "b": "B"}) == (
        "Hello\n and B\nBye"
    )


def test_a_label_over_values_that_all_came_out_empty_is_left_out():
    text = (
        "Rated 2 of 5.\n\nTheir comment:\n{{ comment }}\n\nThe reply:\n{{ reply }}\n\n"
        "{{ outcome }}\n"
    )
    values = {"comment": "", "reply": "Try again.", "outcome": ""}
    assert placeholders.render_text(text, values) == "Rated 2 of 5.\n\nThe reply:\nTry again.\n"
    values.update(comment="No help.", outcome="Reopened.")
    assert placeholders.render_text(text, values) == (
        "Rated 2 of 5.\n\nTheir comment:\nNo help.\n\nThe reply:\nTry again.\n\nReopened.\n"
    )
    # The first paragraph going takes the blank line after it; a label with its value on
    # the same line goes with the line; a paragraph that lost nothing is kept as written.
    assert placeholders.render_text("Note:\n{{ a }}\n\nBye:", {"a": ""}) == "Bye:"
    assert placeholders.render_text("Hi\n\nReason: {{ a }}\nBye", {"a": ""}) == "Hi\n\nBye"


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("comment", ["", "This did not help at all."])
def test_the_unhappy_rating_mail_has_no_empty_comment_heading(helpdesk, comment, language):
    """The editable starting text of the unhappy-rating mail, saved unchanged, sends
    what the shipped files send, with or without the customer's comment."""
    event = events.get("rating_unhappy")
    with translation.override(language):
        context = samples.sample(event)
        context["rating"].comment = comment
        shipped = compose.render_shipped(event.name, context)
        edited = compose.render_editable(event, context, language, event.subject, event.body)
        heading = translation.gettext("Their comment:")
    assert _paragraphs(edited.text) == _paragraphs(shipped.text)
    assert (heading in edited.text) == bool(comment)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("{% load static %}hi", "Template tags"),
        ("{# note #}hi", "Template tags"),
        ("{{ ticket.code }}", "{{ ticket.code }}"),
        ("{{ ticket_code|upper }}", "{{ ticket_code|upper }}"),
        ("{{ ticket_code.__class__ }}", "{{ ticket_code.__class__ }}"),
        ("{{ settings }}", "{{ settings }}"),
        ("{{ ticket_code }} {{ secret_key }} {{ request }}", "{{ secret_key }}, {{ request }}"),
        ("{{ ticket_code", "does not belong"),
    ],
)
def test_unsafe_or_unknown_syntax_is_refused_with_a_message_naming_it(text, expected):
    event = events.get("staff_replied")
    with translation.override("en"):
        errors = compose.field_errors(event, "Subject", text + "\n{{ ticket_link }}")
    assert any(expected in message for message in errors["text_body"]), errors


def test_subject_refuses_multi_line_placeholders_and_line_breaks():
    event = events.get("staff_replied")
    errors = compose.field_errors(event, "{{ message_text }}\nx", "{{ ticket_code }}")
    assert len(errors["subject"]) == 2
    assert "{{ message_text }}" in errors["subject"][1]


def test_required_placeholders_must_be_in_the_text_and_in_an_html_body():
    event = events.get("access_links")
    errors = compose.field_errors(event, "Links", "No links here", "<p>none</p>")
    assert "{{ links }}" in errors["text_body"][0]
    assert "{{ links }}" in errors["html_body"][0]
    assert not compose.field_errors(event, "Links", "{{ links }}", "")


# --- the registry -----------------------------------------------------------------------


def test_every_mail_the_package_sends_is_a_registered_event():
    from pathlib import Path

    import wagtail_tickets

    folder = Path(wagtail_tickets.__file__).parent / "templates/wagtail_tickets/emails"
    shipped = {p.name.removesuffix("_subject.txt") for p in folder.glob("*_subject.txt")}
    assert shipped == set(events.BY_NAME)


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("name", sorted(events.BY_NAME))
def test_every_event_has_a_sample_that_renders_both_ways(helpdesk, name, language):
    event = events.get(name)
    with translation.override(language):
        context = samples.sample(event)
        shipped = compose.render_shipped(name, context)
        assert shipped.subject and shipped.text.strip()
        # The starting text offered to editors passes its own checks and renders.
        assert not compose.field_errors(event, str(event.subject), str(event.body))
        values = event.values(context)
        edited = compose.render_editable(event, context, language, event.subject, event.body)
    assert edited.subject and edited.text.strip()
    for used in placeholders.names_in(str(event.body)):
        if values[used] and "\n" not in values[used]:
            assert values[used] in edited.text
    assert "{{" not in edited.text and "{{" not in edited.subject


def _paragraphs(text):
    lines = "\n".join(line.rstrip() for line in text.strip().split("\n"))
    return re.sub(r"\n{3,}", "\n\n", lines)


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(
    "name, show_details",
    [("ticket_opened_customer", True), ("ticket_opened_customer", False), ("access_links", None)],
)
def test_starting_texts_say_what_the_shipped_mails_say(helpdesk, name, show_details, language):
    """The mails the security review rewrote (the confirmation that may not repeat the
    submission, the private links that no longer revoke earlier ones): an editor who saves
    the starting text unchanged sends what the shipped files send, word for word."""
    event = events.get(name)
    with translation.override(language):
        context = samples.sample(event)
        if show_details is not None:
            context["show_details"] = show_details
        shipped = compose.render_shipped(name, context)
        edited = compose.render_editable(event, context, language, event.subject, event.body)
    assert edited.subject == shipped.subject
    assert _paragraphs(edited.text) == _paragraphs(shipped.text)


#: Mails whose shipped files word a count (“2 replies”, “3 incidents left”, in Russian
#: in three plural forms) or choose a subject by a condition, which the placeholder
#: language cannot express; their starting texts say the same in other words.
WORDED_DIFFERENTLY = {
    "billing_grant_expiring",
    "billing_incident_returned",
    "billing_incidents_low",
    "billing_refund",
    "customer_replied",
    "mail_unknown_sender",
    "tickets_merged",
}


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("name", sorted(set(events.BY_NAME) - WORDED_DIFFERENTLY))
def test_every_other_starting_text_sends_what_the_shipped_files_send(helpdesk, name, language):
    event = events.get(name)
    with translation.override(language):
        context = samples.sample(event)
        shipped = compose.render_shipped(name, context)
        edited = compose.render_editable(event, context, language, event.subject, event.body)
    assert edited.subject == shipped.subject
    assert _paragraphs(edited.text) == _paragraphs(shipped.text)


def test_customer_mails_name_the_status_as_customers_see_it(helpdesk):
    """A status's staff name (“Waiting for customer”) stays on the desk; a customer's
    mail says “Waiting for your reply”, as the shipped files and pages do."""
    from wagtail_tickets.models import Status

    status = Status.objects.get(kind=Status.Kind.WAITING)
    assert status.customer_name and status.customer_name != status.name
    customer_events = [
        e
        for e in events.EVENTS
        if e.group == events.CUSTOMER_TICKET and "ticket_status" in e.by_name
    ]
    assert len(customer_events) >= 4
    for event in customer_events:
        with translation.override("en"):
            context = samples.sample(event)
            context["ticket"].status = status
            values = event.values(context)
        assert values["ticket_status"] == status.customer_label, event.name
    staff = events.get("customer_replied")
    with translation.override("en"):
        context = samples.sample(staff)
        context["ticket"].status = status
        assert staff.values(context)["ticket_status"] == str(status)


def test_a_confirmation_without_show_details_repeats_nothing(helpdesk):
    """As in the shipped files, a context that does not say the submission may be
    repeated (``show_details`` missing) gets the mail that repeats nothing."""
    event = events.get("ticket_opened_customer")
    with translation.override("en"):
        context = samples.sample(event)
        del context["show_details"]
        edited = compose.render_editable(event, context, "en", event.subject, event.body)
    ticket = context["ticket"]
    assert edited.text.startswith("Hello,\n")
    assert ticket.subject not in edited.text + edited.subject
    assert ticket.customer_name not in edited.text
    assert "If you did not send this request" in edited.text


def test_a_preview_on_a_ticket_repeats_the_submission_only_where_its_mail_did(
    helpdesk, ticket, anon_ticket
):
    """A ticket filed from the customer's own account had its submission repeated; one
    filed under a typed address did not, and its preview must not either."""
    event = events.get("ticket_opened_customer")
    with translation.override("en"):
        own = samples.for_ticket(event, ticket)
        typed = samples.for_ticket(event, anon_ticket)
        own_text = compose.render_editable(event, own, "en", event.subject, event.body).text
        typed_text = compose.render_editable(event, typed, "en", event.subject, event.body).text
    assert ticket.subject in own_text and "Hello Alice" in own_text
    assert anon_ticket.subject not in typed_text and "Ann Onymous" not in typed_text
    assert typed_text.startswith("Hello,\n")


def test_starting_texts_keep_their_placeholders_in_russian():
    for event in events.EVENTS:
        with translation.override("en"):
            english = set(placeholders.names_in(str(event.body)))
            english_subject = set(placeholders.names_in(str(event.subject)))
        with translation.override("ru"):
            assert set(placeholders.names_in(str(event.body))) == english, event.name
            assert set(placeholders.names_in(str(event.subject))) == english_subject


# --- sending ----------------------------------------------------------------------------


def test_without_a_template_the_shipped_files_are_sent(helpdesk, department, ticket, agent, commit):
    with commit():
        workflow.post_reply(ticket, body="Try this.", author=agent, by_staff=True)
    [sent] = mails_to(ticket.customer_email)
    assert "New reply" in sent.subject and "There is a new reply" in sent.body
    assert html_of(sent) is None


def test_an_edited_template_is_sent_for_its_event_and_language(
    helpdesk, department, ticket, agent, commit
):
    customise(
        "staff_replied",
        subject="Answer on {{ ticket_code }}: {{ ticket_subject }}",
        text_body="Dear {{ customer_name }},\n\n{{ message_text }}\n\n{{ ticket_link }}",
    )
    customise("staff_replied", language="ru", subject="RU {{ ticket_code }}")
    with commit():
        workflow.post_reply(ticket, body="Try this.\nThen that.", author=agent, by_staff=True)
    [sent] = mails_to(ticket.customer_email)
    assert sent.subject == f"Answer on {ticket.code}: {ticket.subject}"
    assert sent.body.startswith(f"Dear {ticket.customer_name},\n\nTry this.\nThen that.\n\nhttp")
    # The headers of every notification are still there.
    assert sent.extra_headers["Message-ID"].startswith("<")


def test_the_tickets_language_picks_the_template(helpdesk, department, agent, commit):
    customise("staff_replied", language="ru", subject="Ответ по {{ ticket_code }}")
    customise("staff_replied", language="en", subject="Answer on {{ ticket_code }}")
    russian = factories.open_ticket(department, email="ivan@example.com", language="ru")
    with commit():
        workflow.post_reply(russian, body="Ответ.", author=agent, by_staff=True)
    [sent] = mails_to("ivan@example.com")
    assert sent.subject == f"Ответ по {russian.code}"


def test_staff_mails_use_the_site_language_template(settings, helpdesk, department, agent, commit):
    customise("ticket_opened_staff", language="en", subject="EN new {{ ticket_code }}")
    customise("ticket_opened_staff", language="ru", subject="RU new {{ ticket_code }}")
    with commit():
        ticket = factories.open_ticket(department, email="ivan@example.com", language="ru")
    [staff] = mails_to(agent.email)
    assert staff.subject == f"EN new {ticket.code}"


def test_a_template_in_another_language_leaves_this_one_on_the_shipped_files(
    helpdesk, department, ticket, agent, commit
):
    customise("staff_replied", language="ru", subject="RU {{ ticket_code }}")
    with commit():
        workflow.post_reply(ticket, body="Try this.", author=agent, by_staff=True)
    [sent] = mails_to(ticket.customer_email)
    assert "New reply" in sent.subject


def test_an_html_body_makes_a_multipart_mail_with_escaped_values(
    helpdesk, department, customer, agent, commit
):
    customise(
        "staff_replied",
        html_body="<p>Dear {{ customer_name }},</p>\n<div>{{ message_text }}</div>\n"
        '<p><a href="{{ ticket_link }}">Open your ticket</a></p>',
    )
    ticket = factories.open_ticket(department, customer=customer, subject="Q&A <script>")
    with commit():
        workflow.post_reply(
            ticket, body="Use <b>this</b> & that\nline two", author=agent, by_staff=True
        )
    [sent] = mails_to(ticket.customer_email)
    html = html_of(sent)
    assert sent.message().get_content_type() == "multipart/alternative"
    assert "Use &lt;b&gt;this&lt;/b&gt; &amp; that<br>\nline two" in html
    assert '<html lang="en">' in html and "<title>" in html
    assert "Q&amp;A &lt;script&gt;" in html  # the subject in <title>, escaped
    assert "Use <b>this</b> & that\nline two" in sent.body  # the text part as it is
    assert 'href="http' in html
    assert sent.extra_headers["Message-ID"]


def test_a_subject_keeps_ampersands_and_angle_brackets(
    helpdesk, department, agent, customer, commit
):
    """Subjects are plain text: Q&A stays Q&A (the shipped files once escaped them)."""
    with commit():
        # From the customer's own account: only then does the confirmation repeat the
        # subject (notifications.confirmation_echoes_details).
        ticket = factories.open_ticket(department, customer=customer, subject="Q&A <help>")
    with commit():
        workflow.post_reply(ticket, body="Yes.", author=agent, by_staff=True)
    # Resolving is a status change beyond close/reopen (workflow/rules.py).
    agent = factories.grant(agent, "change_ticket_fields")
    with commit():
        workflow.change_status(ticket, Status.first_of_kind("resolved"), user=agent)
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) >= 3
    for subject in subjects:
        assert "Q&A <help>" in subject, subject
        assert "&amp;" not in subject


def test_every_shipped_subject_is_plain_text(helpdesk):
    for name in events.BY_NAME:
        with translation.override("en"):
            context = samples.sample(name)
            if "ticket" in context:
                context["ticket"].subject = "Q&A <x>"
            if "target" in context:
                context["target"].code = "A&B-1"
            subject = compose.render_shipped(name, context).subject
        assert "&amp;" not in subject and "&lt;" not in subject, (name, subject)


def test_a_stored_template_that_no_longer_checks_out_falls_back_to_the_file(
    helpdesk, department, ticket, agent, commit, caplog
):
    customise("staff_replied", text_body="{{ removed_placeholder }} {{ ticket_link }}")
    with commit():
        workflow.post_reply(ticket, body="Try this.", author=agent, by_staff=True)
    [sent] = mails_to(ticket.customer_email)
    assert "There is a new reply" in sent.body and "removed_placeholder" not in sent.body
    assert "does not pass its checks" in caplog.text


def test_a_value_that_cannot_be_computed_falls_back_to_the_file(
    helpdesk, department, ticket, agent, commit, monkeypatch, caplog
):
    customise("staff_replied")

    def broken(self, context):
        raise RuntimeError("no value")

    monkeypatch.setattr(events.Event, "values", broken)
    with commit():
        workflow.post_reply(ticket, body="Try this.", author=agent, by_staff=True)
    [sent] = mails_to(ticket.customer_email)
    assert "There is a new reply" in sent.body
    assert "Could not render the notification template staff_replied" in caplog.text


def test_a_confirmation_that_may_not_repeat_the_submission_leaves_it_out(helpdesk):
    """Where the sending code says the address may not be the sender's own
    (``show_details`` false), the typed name, subject, fields and message stay out."""
    event = events.get("ticket_opened_customer")
    with translation.override("en"):
        body = str(event.body) + "\nFiles: {{ attachments }}"
        context = samples.sample(event)
        context["show_details"] = False
        hidden = compose.render_editable(event, context, "en", event.subject, body)
        context["show_details"] = True
        shown = compose.render_editable(event, context, "en", event.subject, body)
    ticket = context["ticket"]
    assert hidden.subject == f"[{ticket.code}] We have received your ticket"
    for typed in (ticket.subject, ticket.customer_name, "LaserJet", "blank", "test-page.pdf"):
        assert typed not in hidden.text and typed in shown.text + shown.subject
    assert ticket.code in hidden.text and "example-link-not-valid" in hidden.text


def test_digest_placeholders_list_every_reply(helpdesk, department, ticket, agent, commit):
    customise(
        "customer_replied",
        subject="{{ reply_count }} on {{ ticket_code }}",
        text_body="{{ replies }}\n{{ digest_note }}",
    )
    replies = factories.add_replies(ticket, 2)
    mail.outbox.clear()
    notifications.customer_replies(ticket, replies, more=3)
    [sent] = mails_to(agent.email)
    assert sent.subject == f"5 on {ticket.code}"
    assert "3 earlier replies are not shown" in sent.body
    assert sent.body.count("--- ") == 2
    assert "Customer reply 0" in sent.body and "Customer reply 1" in sent.body
    assert "collected into one mail" in sent.body


def test_mail_intake_refusals_use_the_template(department):
    from wagtail_tickets.mail import replies

    NotificationTemplate.objects.create(
        event="mail_unknown_sender",
        language="en",
        subject="About “{{ original_subject }}”",
        text_body="{{ form_instructions }} {{ form_link }}",
        html_body="<p>{{ form_link }}</p>",
    )
    replies.send_invitation("x@example.org", department, "Q&A", "<id@example.org>", "en")
    [sent] = mail.outbox
    assert sent.subject == "About “Q&A”"
    assert sent.body.startswith("Please open a ticket with the form: http")
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"
    assert sent.extra_headers["In-Reply-To"] == "<id@example.org>"
    assert html_of(sent)


def test_password_reset_uses_the_template(client, helpdesk, customer, settings):
    NotificationTemplate.objects.create(
        event="password_reset",
        language="en",
        subject="Reset at {{ site_name }}",
        text_body="Hi {{ user_name }}: {{ reset_link }}",
    )
    client.post("/accounts/password-reset/", {"email": customer.email})
    [sent] = mail.outbox
    assert sent.subject.startswith("Reset at ")
    assert sent.body.startswith(f"Hi {customer.get_username()}: http")
    assert "/accounts/reset/" in sent.body
