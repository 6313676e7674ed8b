"""What the public pages keep in Django's cache is forgotten when it changes."""

import pytest

from tests import factories
from wagtail_tickets.models import HelpdeskSettings

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
