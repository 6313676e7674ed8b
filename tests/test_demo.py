"""The README's first command: the example site migrates, loads its demo and serves it."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

MANAGE = Path(__file__).resolve().parent.parent / "example_site" / "manage.py"

CHECK = """
from django.test import Client
from home.demo.history import HISTORY_TICKETS
from wagtail_tickets.analytics import rollups
from wagtail_tickets.models import ActivityRollup, ArticlePage, Rating, Ticket
client = Client(HTTP_HOST="localhost")
for path in ("/", "/support/", "/support/help/", "/support/help/search/?q=invoice",
             "/support/technical/"):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
# The 50 recent tickets and a year of older history, in the free departments.
free = Ticket.objects.filter(department__support_mode="free").count()
assert free == 50 + HISTORY_TICKETS, free
assert Rating.objects.filter(score__lte=2).exists() and Rating.objects.count() > 50
# Paid support: two paid departments, a statement worth reading, a ledger that adds up.
for path in ("/support/expert/", "/support/premium/"):
    assert client.get(path).status_code == 200, path
assert Ticket.objects.exclude(department__support_mode="free").count() >= 5
from django.core.management import call_command
call_command("helpdesk_check_ledger")
assert client.login(username="anna", password="demo-customer")
account = client.get("/support/account/")
assert account.status_code == 200 and "PRE-000001" in account.content.decode()
client.logout()
assert ArticlePage.objects.live().count() >= 5
assert client.login(username="olga", password="demo-staff")
assert client.get("/admin/").status_code == 200
# The manager reads a year of analytics, kept by the workflow exactly as a rebuild has it.
assert client.login(username="mira", password="demo-staff")
assert client.get("/admin/helpdesk/analytics/?period=365").status_code == 200
kept = sorted(ActivityRollup.objects.exclude(opened=0, replies=0).values_list(
    "grain", "day", "department_id", "agent_id", "opened", "resolved", "replies", "rated_5"))
rollups.rebuild()
assert kept == sorted(ActivityRollup.objects.exclude(opened=0, replies=0).values_list(
    "grain", "day", "department_id", "agent_id", "opened", "resolved", "replies", "rated_5"))
from wagtail.models import Site
site = Site.objects.get(is_default_site=True)
assert (site.hostname, site.port) == ("localhost", 8123), (site.hostname, site.port)
print("demo ok")
"""


def test_demo_loads_twice_and_serves_its_pages(tmp_path):
    env = dict(
        os.environ,
        EXAMPLE_DATABASE=str(tmp_path / "demo.sqlite3"),
        EXAMPLE_MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_SETTINGS_MODULE="example_site.settings",
    )
    for name in ("WT_DB", "PORT", "EXAMPLE_ALLOWED_HOSTS"):
        env.pop(name, None)

    def manage(*args):
        return subprocess.run(
            [sys.executable, str(MANAGE), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    for args in (("migrate", "--no-input", "-v0"), ("load_demo",)):
        result = manage(*args)
        assert result.returncode == 0, result.stderr[-3000:]
    assert "Created 50 demo tickets" in result.stdout
    assert "admin /" in result.stdout  # the admin's printed login
    assert "http://localhost:8000/support/" in result.stdout
    assert "at http://localhost:8000/accounts/login/" in result.stdout
    # `make demo PORT=8123` on the same database: the Site and every printed URL follow.
    again = manage("load_demo", "--port", "8123")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing was added" in again.stdout
    assert "http://localhost:8123/support/" in again.stdout
    assert ":8000" not in again.stdout
    served = manage("shell", "-c", CHECK)
    assert served.returncode == 0, served.stderr[-3000:]
    assert "demo ok" in served.stdout


def _example_settings(monkeypatch, **env):
    for name in ("EXAMPLE_ALLOWED_HOSTS", "PORT", "EXAMPLE_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(MANAGE.parent / "example_site" / "settings.py"))


def test_example_site_answers_only_local_names_unless_told(monkeypatch):
    settings = _example_settings(monkeypatch)
    assert settings["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert settings["DEMO_HOSTNAME"] == "localhost" and settings["DEMO_PORT"] == 8000
    assert "django_recaptcha" not in settings["INSTALLED_APPS"]

    settings = _example_settings(
        monkeypatch, EXAMPLE_ALLOWED_HOSTS="demo.example.lan, 192.0.2.4", PORT="8080"
    )
    assert settings["ALLOWED_HOSTS"] == ["demo.example.lan", "192.0.2.4"]
    assert settings["DEMO_HOSTNAME"] == "demo.example.lan"
    assert settings["WAGTAILADMIN_BASE_URL"] == "http://demo.example.lan:8080"


def test_make_demo_listens_on_localhost_by_default():
    def dry_run(*args):
        result = subprocess.run(
            ["make", "-n", "demo", *args],
            cwd=MANAGE.parent.parent,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout

    out = dry_run()
    assert "runserver 127.0.0.1:8000" in out
    assert "load_demo --port 8000" in out
    out = dry_run("HOST=0.0.0.0", "PORT=8123")
    assert "runserver 0.0.0.0:8123" in out
    assert "load_demo --port 8123" in out
