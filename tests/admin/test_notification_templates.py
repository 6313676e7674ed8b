"""Helpdesk → Notification templates: who gets in, editing, previews, test mails, reset."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests import factories
from wagtail_tickets.mail import events
from wagtail_tickets.models import NotificationTemplate

pytestmark = pytest.mark.django_db

INDEX = reverse("helpdesk_notification_templates:index")


def edit_url(event="staff_replied", language="en"):
    return reverse("helpdesk_notification_templates:edit", args=[event, language])


def reset_url(event="staff_replied", language="en"):
    return reverse("helpdesk_notification_templates:reset", args=[event, language])


def form_data(**overrides):
    data = {
        "subject": "[{{ ticket_code }}] Answer: {{ ticket_subject }}",
        "text_body": "Dear {{ customer_name }},\n\n{{ message_text }}\n\n{{ ticket_link }}\n",
        "html_body": "",
        "preview_ticket": "",
        "action": "save",
    }
    data.update(overrides)
    return data


@pytest.fixture
def editor(db):
    return factories.make_manager(
        "editor", codenames=["manage_notification_templates"], email="editor@example.com"
    )


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


# --- who gets in -------------------------------------------------------------------------------


def denied(response):
    """Wagtail answers PermissionDenied in its admin with a redirect to the dashboard and a
    message (a 403 for XHR)."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    )


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(INDEX)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("role", ["admin_user", "agent", "billing_manager"])
def test_admin_users_without_the_permission_are_turned_away_everywhere(client, role, department):
    if role == "admin_user":
        user = factories.make_admin_user("plain")
    elif role == "agent":
        user = factories.make_agent("desk", departments=[department])
    else:
        user = factories.make_manager("money", codenames=["manage_billing"])
    NotificationTemplate.objects.create(
        event="staff_replied", language="en", subject="S", text_body="{{ ticket_link }}"
    )
    client.force_login(user)
    for url in (INDEX, edit_url(), reset_url()):
        assert denied(client.get(url))
        assert client.get(url, headers={"x-requested-with": "XMLHttpRequest"}).status_code == 403
    assert denied(client.post(edit_url(), form_data()))
    assert denied(client.post(edit_url(), form_data(action="test")))
    assert denied(client.post(reset_url()))
    assert NotificationTemplate.objects.get().subject == "S"
    assert mail.outbox == []
    menu = client.get(reverse("wagtailadmin_home")).content.decode()
    assert INDEX not in menu


@pytest.mark.parametrize("role", ["editor", "superuser"])
def test_holders_of_the_permission_and_superusers_get_in(client, role, editor, superuser):
    client.force_login(editor if role == "editor" else superuser)
    assert client.get(INDEX).status_code == 200
    assert client.get(edit_url()).status_code == 200
    assert INDEX in client.get(reverse("wagtailadmin_home")).content.decode()


def test_the_permission_is_offered_in_wagtails_group_editor(superuser, client):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Mail writers")
    client.force_login(superuser)
    page = client.get(reverse("wagtailusers_groups:edit", args=[group.pk])).content.decode()
    permission = Permission.objects.get(codename="manage_notification_templates")
    assert f'value="{permission.pk}"' in page and "Can manage notification templates" in page


# --- the listing ------------------------------------------------------------------------------


def test_listing_shows_every_event_in_every_language(editor_client, editor):
    NotificationTemplate.objects.create(
        event="ticket_closed", language="ru", subject="S", text_body="T", updated_by=editor
    )
    NotificationTemplate.objects.create(
        event="access_links", language="en", subject="S", text_body="{{ gone }}"
    )
    html = editor_client.get(INDEX).content.decode()
    for event in events.EVENTS:
        assert str(event.label) in html
        for language in ("en", "ru"):
            assert edit_url(event.name, language) in html
    assert html.count('class="wt-nt-state wt-nt-state--custom"') == 1
    assert html.count('class="wt-nt-state wt-nt-state--broken"') == 1
    assert html.count('class="wt-nt-state wt-nt-state--default"') == len(events.EVENTS) * 2 - 2


def test_listing_costs_the_same_queries_with_more_templates(
    editor_client, django_assert_max_num_queries
):
    editor_client.get(INDEX)
    with django_assert_max_num_queries(12) as few:
        editor_client.get(INDEX)
    for event in events.EVENTS:
        NotificationTemplate.objects.create(
            event=event.name, language="ru", subject="S", text_body="T"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        editor_client.get(INDEX)


def test_unknown_event_or_language_is_404(editor_client):
    assert editor_client.get(edit_url("no_such_event")).status_code == 404
    assert editor_client.get(edit_url("staff_replied", "xx")).status_code == 404
    assert editor_client.get(reset_url("no_such_event")).status_code == 404


# --- editing ----------------------------------------------------------------------------------


def test_an_event_not_yet_customised_offers_the_starting_text_in_its_language(editor_client):
    english = editor_client.get(edit_url()).content.decode()
    assert "There is a new reply on your ticket {{ ticket_code }}:" in english
    russian = editor_client.get(edit_url(language="ru")).content.decode()
    assert "{{ ticket_code }}" in russian and "Новый ответ" in russian
    # Beside the fields: the event's placeholders, with their descriptions.
    assert "{{ ticket_link }}" in english and "The customer&#x27;s link" in english


def test_saving_stores_the_template_and_logs_it(editor_client, editor):
    response = editor_client.post(edit_url(), form_data())
    assert response.status_code == 302
    row = NotificationTemplate.objects.get(event="staff_replied", language="en")
    assert row.subject == "[{{ ticket_code }}] Answer: {{ ticket_subject }}"
    assert row.updated_by == editor and row.html_body == ""
    assert "\r" not in row.text_body
    editor_client.post(edit_url(), form_data(subject="Changed {{ ticket_code }}"))
    actions = list(
        ModelLogEntry.objects.filter(object_id=str(row.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["wagtail.create", "wagtail.edit"]
    assert NotificationTemplate.objects.count() == 1


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("text_body", "{% load static %}{{ ticket_link }}", "Template tags"),
        ("text_body", "{{ ticket.customer.password }} {{ ticket_link }}", "names only"),
        ("text_body", "{{ ticket_code|lower }} {{ ticket_link }}", "names only"),
        ("text_body", "{{ secret }} {{ ticket_link }}", "{{ secret }}"),
        ("subject", "{{ message_text }}", "cannot be in the subject"),
        ("html_body", "<p>{% debug %}</p>", "Template tags"),
    ],
)
def test_unsafe_templates_are_refused_and_not_saved(editor_client, field, value, message):
    response = editor_client.post(edit_url(), form_data(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not NotificationTemplate.objects.exists()


@pytest.mark.parametrize(
    "values",
    [
        {"subject": "a\x00b"},
        {"text_body": "nul \x00 byte {{ ticket_link }}"},
        {"subject": "x" * 10000},
        {"text_body": "y" * 30000},
        {"preview_ticket": "9" * 400, "action": "preview"},
        {"preview_ticket": "'; DROP TABLE x; --", "action": "preview"},
        {"action": "something-else"},
    ],
)
def test_odd_input_gets_a_form_error_not_a_500(editor_client, values):
    response = editor_client.post(edit_url(), form_data(**values))
    assert response.status_code in (200, 302)


# --- previews ---------------------------------------------------------------------------------


def test_preview_of_the_unsaved_text_with_sample_data(editor_client):
    response = editor_client.post(
        edit_url(),
        form_data(
            action="preview",
            html_body="<p>{{ message_text }}</p><script>x()</script>",
        ),
    )
    html = response.content.decode()
    assert "Preview of the text above" in html
    assert "[SUP-000123] Answer: The printer prints blank pages" in html
    # The mail's HTML is shown in a sandboxed frame, as one escaped attribute value.
    frame = re.search(r'<iframe sandbox [^>]*srcdoc="([^"]*)"[^>]*data-wt-preview-html>', html)
    assert frame, html
    assert "&lt;p&gt;Please open the printer" in frame.group(1)
    assert "script" not in frame.group(1)
    assert not NotificationTemplate.objects.exists()


def test_preview_with_a_ticket_the_user_may_see(client, department, customer):
    manager = factories.make_manager(
        "deskeditor",
        codenames=["manage_notification_templates"],
        departments=[department],
        email="de@example.com",
    )
    ticket = factories.open_ticket(department, customer=customer, subject="Screen flickers")
    client.force_login(manager)
    response = client.post(
        edit_url("ticket_opened_customer"),
        form_data(
            action="preview",
            text_body="{{ ticket_subject }} {{ message_text }} {{ ticket_link }}",
            preview_ticket=ticket.code.lower(),
        ),
    )
    html = response.content.decode()
    assert "Screen flickers It started smoking." in html
    # The link in a preview opens nothing.
    assert "example-link-not-valid" in html


def test_preview_of_a_ticket_the_user_may_not_see_is_refused(client, department, other_agent):
    editor = factories.make_manager(
        "salesed",
        codenames=["manage_notification_templates"],
        departments=list(other_agent.helpdesk_profile.departments.all()),
    )
    secret = factories.open_ticket(department, subject="Confidential merger plans")
    client.force_login(editor)
    response = client.post(
        edit_url("ticket_opened_customer"),
        form_data(
            action="preview",
            text_body="{{ ticket_subject }} {{ ticket_link }}",
            preview_ticket=secret.code,
        ),
    )
    html = response.content.decode()
    assert "No ticket with this code that you may see." in html
    assert "Confidential merger plans" not in html
    response = client.post(
        edit_url("ticket_opened_customer"),
        form_data(
            action="test",
            text_body="{{ ticket_subject }} {{ ticket_link }}",
            preview_ticket=secret.code,
        ),
    )
    assert mail.outbox == []


def test_get_previews_what_is_sent_now(editor_client):
    html = editor_client.get(edit_url()).content.decode()
    assert "Preview of the shipped default" in html
    assert "There is a new reply on your ticket SUP-000123:" in html
    NotificationTemplate.objects.create(
        event="staff_replied",
        language="en",
        subject="Mine {{ ticket_code }}",
        text_body="{{ ticket_link }}",
    )
    html = editor_client.get(edit_url()).content.decode()
    assert "Preview of the saved text" in html and "Mine SUP-000123" in html


# --- test mails -------------------------------------------------------------------------------


def test_a_test_mail_goes_only_to_the_requester(editor_client, editor, department, customer):
    factories.open_ticket(department, customer=customer)
    mail.outbox.clear()
    response = editor_client.post(
        edit_url(), form_data(action="test", html_body="<p>{{ message_text }}</p>")
    )
    assert response.status_code == 200
    [sent] = mail.outbox
    assert sent.to == ["editor@example.com"] and not sent.cc and not sent.bcc
    assert sent.reply_to == ["editor@example.com"]
    assert sent.subject.startswith("[Test] [SUP-000123] Answer:")
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    assert sent.alternatives and "example-link-not-valid" in sent.body
    assert not NotificationTemplate.objects.exists()  # a test does not save
    assert (
        ModelLogEntry.objects.filter(
            action="wagtail_tickets.notification_template.test", user=editor
        ).count()
        == 1
    )


def test_test_mails_are_rate_limited_per_user(editor_client, settings):
    settings.WAGTAIL_TICKETS_NOTIFICATION_TEST_MAILS_PER_HOUR = 2
    for _ in range(4):
        editor_client.post(edit_url(), form_data(action="test"))
    assert len(mail.outbox) == 2
    response = editor_client.post(edit_url(), form_data(action="test"), follow=True)
    assert "as many test mails as allowed" in response.content.decode()


def test_test_mail_needs_a_post(editor_client):
    editor_client.get(edit_url() + "?action=test")
    assert mail.outbox == []


# --- reset ------------------------------------------------------------------------------------


def test_reset_asks_first_then_deletes_and_logs(editor_client, editor):
    row = NotificationTemplate.objects.create(
        event="staff_replied", language="en", subject="Mine", text_body="{{ ticket_link }}"
    )
    confirm = editor_client.get(reset_url())
    assert confirm.status_code == 200 and "Yes, reset to default" in confirm.content.decode()
    assert NotificationTemplate.objects.exists()
    response = editor_client.post(reset_url())
    assert response.status_code == 302 and response["Location"] == edit_url()
    assert not NotificationTemplate.objects.exists()
    assert ModelLogEntry.objects.filter(
        action="wagtail_tickets.notification_template.reset", object_id=str(row.pk)
    ).exists()


def test_reset_of_a_default_changes_nothing(editor_client):
    response = editor_client.post(reset_url())
    assert response.status_code == 302
