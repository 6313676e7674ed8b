"""What the public pages keep in Django's cache is forgotten when it changes."""

import re
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation
from wagtail.models import Site

from tests import factories
from wagtail_tickets import blank_form, captcha
from wagtail_tickets.forms import TicketForm
from wagtail_tickets.models import DepartmentPage, HelpdeskSettings, Ticket, TicketFormField

pytestmark = pytest.mark.django_db


def test_a_settings_change_shows_at_once(client, department, site_settings):
    assert 'name="website"' not in client.get(department.url).content.decode()
    settings = HelpdeskSettings.objects.get(pk=site_settings.pk)
    settings.captcha_mode = HelpdeskSettings.CaptchaMode.HONEYPOT
    settings.save()
    assert 'name="website"' in client.get(department.url).content.decode()


def test_the_knowledge_base_link_follows_publishing(client, helpdesk, department, site_settings):
    assert "/search/" not in client.get(department.url).content.decode()
    kb = factories.make_kb(helpdesk, "Help", slug="help")
    html = client.get(department.url).content.decode()
    assert "/support/help/search/" in html or kb.url + "search/" in html
    kb.unpublish()
    assert kb.url is None or "/help/search/" not in client.get(department.url).content.decode()


def test_a_department_is_routed_with_its_support_centre(
    client, helpdesk, department, site_settings
):
    response = client.get(department.url)
    assert response.status_code == 200
    assert response.context["helpdesk"].pk == helpdesk.pk
    # Unpublished departments are not served; other children are routed as before.
    department.unpublish()
    assert client.get(department.url).status_code == 404
    kb = factories.make_kb(helpdesk, "Help", slug="help")
    assert client.get(kb.url).status_code == 200
    assert client.get(helpdesk.url + "lookup/").status_code == 200


# --- the blank form's fields (blank_form.py) -----------------------------------------------

STARTED = re.compile(r'(name="form_started" value=")[^"]+"')


def _fields(html):
    """The form's fields, tags joined and the visitor's own start time left out."""
    note = "Fields marked * are required.</p>"
    if note in html:
        html = html[html.index(note) + len(note) : html.index('<div class="wt-actions">')]
    return re.sub(r">\s+<", "><", STARTED.sub(r'\1"', html)).strip()


def _start_token(html):
    return STARTED.search(html).group(0)


def _rendered_afresh(department):
    """The fields as Django's widgets render them from a newly built form."""
    site_settings = HelpdeskSettings.for_site(Site.objects.get(is_default_site=True))
    form = TicketForm(
        department=department,
        site_settings=site_settings,
        user=AnonymousUser(),
        captcha_mode=captcha.effective_mode(site_settings),
    )
    return blank_form.render_fields(form, None)


@pytest.mark.parametrize("mode", ["none", "honeypot"])
def test_the_blank_form_is_kept_and_is_the_form_django_renders(client, rich_department, mode):
    factories.site_settings(captcha_mode=mode)
    first = client.get(rich_department.url).content.decode()
    with mock.patch.object(TicketForm, "__init__", side_effect=AssertionError("form built")):
        second = client.get(rich_department.url)
    assert second.status_code == 200
    second = second.content.decode()
    assert _fields(second) == _fields(first) == _fields(_rendered_afresh(rich_department))
    assert 'name="cf_product"' in second and 'name="attachments"' in second
    if mode == "honeypot":
        # Every visitor has a start time of their own.
        assert _start_token(first) != _start_token(second)
    else:
        assert 'name="form_started"' not in second


def test_each_visitor_of_a_kept_form_can_send_it(client, department):
    factories.site_settings(captcha_mode="honeypot", min_fill_seconds=0)
    tokens = []
    for _ in range(2):
        html = client.get(department.url).content.decode()
        tokens.append(re.search(r'name="form_started" value="([^"]+)"', html).group(1))
    for n, token in enumerate(tokens):
        response = client.post(
            department.url,
            {
                "name": "Ann",
                "email": f"ann{n}@example.com",
                "subject": "Printer",
                "message": "It jams.",
                captcha.HONEYPOT_FIELD: "",
                captcha.STARTED_FIELD: token,
            },
        )
        assert response.status_code == 302
    assert Ticket.objects.count() == 2


def test_a_changed_field_shows_at_once(client, rich_department, site_settings):
    assert "Serial number" in client.get(rich_department.url).content.decode()
    # A change that sends no signal (a queryset update) is seen too: the rows are the key.
    TicketFormField.objects.filter(page=rich_department, label="Serial number").update(
        label="Model number", help_text="On the sticker underneath."
    )
    html = client.get(rich_department.url).content.decode()
    assert "Serial number" not in html
    assert "Model number" in html and "On the sticker underneath." in html


def test_changed_attachment_settings_show_at_once(client, department, site_settings):
    assert 'name="attachments"' in client.get(department.url).content.decode()
    factories.site_settings(max_attachments=0)
    assert 'name="attachments"' not in client.get(department.url).content.decode()
    DepartmentPage.objects.filter(pk=department.pk).update(max_attachments=2)
    assert "Up to 2 files" in client.get(department.url).content.decode()


def test_the_kept_form_is_in_the_visitors_language(client, department, site_settings):
    with translation.override("ru"):
        subject_ru = str(TicketForm.base_fields["subject"].label)
    assert subject_ru != "Subject"
    assert ">Subject" in client.get(department.url).content.decode()
    html = client.get(department.url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert f">{subject_ru}" in html and ">Subject" not in html


def test_a_logged_in_visitors_form_is_their_own(client, department, site_settings, customer):
    for user, name in ((customer, "Alice"), (factories.make_user("bob", first_name="Bob"), "Bob")):
        client.force_login(user)
        html = client.get(department.url).content.decode()
        assert re.search(rf'name="name" value="{name}"', html)


def test_a_form_sent_back_with_errors_is_not_the_kept_one(client, department, site_settings):
    client.get(department.url)
    response = client.post(department.url, {"name": "Ann", "email": "not an address"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="wt-error-summary"' in html and 'value="Ann"' in html
    assert 'class="wt-field__error"' in html
