"""django-recaptcha and WeasyPrint are needed only by the features that use them.

A site without reCAPTCHA keys need not list ``django_recaptcha`` in INSTALLED_APPS, and
a server without Pango (WeasyPrint's system libraries) runs everything but PDFs.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.apps import apps
from django.core import checks

from tests import factories
from wagtail_tickets.models import Ticket

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def without_recaptcha_app(monkeypatch):
    """The registry says django_recaptcha is not installed.

    Changing INSTALLED_APPS in the process would set up Wagtail's apps a second time,
    which its API router refuses; the subprocess test below removes the app for real.
    """
    is_installed = apps.is_installed
    monkeypatch.setattr(
        apps, "is_installed", lambda name: name != "django_recaptcha" and is_installed(name)
    )


def _errors():
    return [
        message.id
        for message in checks.run_checks()
        if message.level >= checks.ERROR and message.id.startswith("wagtail_tickets.")
    ]


@pytest.mark.usefixtures("without_recaptcha_app")
def test_keys_without_the_recaptcha_app_stop_the_check(settings):
    settings.RECAPTCHA_PUBLIC_KEY = "public"
    settings.RECAPTCHA_PRIVATE_KEY = "private"
    errors = [m for m in checks.run_checks() if m.id == "wagtail_tickets.E001"]
    assert len(errors) == 1
    assert errors[0].level == checks.ERROR
    assert "INSTALLED_APPS" in errors[0].msg and "django_recaptcha" in errors[0].hint


@pytest.mark.usefixtures("without_recaptcha_app")
def test_no_keys_need_no_recaptcha_app(settings):
    settings.RECAPTCHA_PUBLIC_KEY = ""
    settings.RECAPTCHA_PRIVATE_KEY = ""
    assert _errors() == []


def test_keys_with_the_recaptcha_app_pass_the_check(settings):
    settings.RECAPTCHA_PUBLIC_KEY = "public"
    settings.RECAPTCHA_PRIVATE_KEY = "private"
    assert "wagtail_tickets.E001" not in _errors()


@pytest.mark.django_db
@pytest.mark.usefixtures("without_recaptcha_app")
@pytest.mark.parametrize("keys", [False, True], ids=["no keys", "keys but no app"])
def test_the_honeypot_protects_a_form_without_the_recaptcha_app(client, department, settings, keys):
    # With keys but no app, the check stops manage.py; a server started anyway must
    # still answer with the honeypot, never a 500 from a missing widget template.
    settings.RECAPTCHA_PUBLIC_KEY = "public" if keys else ""
    settings.RECAPTCHA_PRIVATE_KEY = "private" if keys else ""
    factories.site_settings(captcha_mode="recaptcha" if keys else "auto", min_fill_seconds=0)
    response = client.get(department.url)
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find(class_="g-recaptcha") is None
    started = soup.find("input", attrs={"name": "form_started"})["value"]
    response = client.post(
        department.url,
        {
            "name": "Vera",
            "email": "vera@example.com",
            "subject": "No captcha app",
            "message": "Hello",
            "form_started": started,
            "website": "",
        },
    )
    assert response.status_code == 302
    assert Ticket.objects.get().subject == "No captcha app"


# Blocks the two packages, so importing them anywhere fails as on a machine without them.
NO_EXTRAS = textwrap.dedent(
    """
    import importlib.abc
    import pkgutil
    import sys

    BLOCKED = ("django_recaptcha", "weasyprint")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked for this test")
            return None

    sys.meta_path.insert(0, Block())

    import django
    django.setup()

    from django.core.management import call_command
    call_command("check", fail_level="WARNING")

    import wagtail_tickets
    for module in pkgutil.walk_packages(wagtail_tickets.__path__, "wagtail_tickets."):
        __import__(module.name)
    imported = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
    assert not imported, imported
    print("imported every module without django_recaptcha and weasyprint")
    """
)


def test_the_package_imports_and_checks_without_recaptcha_and_weasyprint(tmp_path):
    (tmp_path / "no_extras_settings.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        'INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "django_recaptcha"]\n'
        "SILENCED_SYSTEM_CHECKS = []\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "no_extras_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
    }
    result = subprocess.run(
        [sys.executable, "-c", NO_EXTRAS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "without django_recaptcha and weasyprint" in result.stdout
