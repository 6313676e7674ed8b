"""The README's first command: the example site migrates, loads its demo and serves it."""

import os
import subprocess
import sys
from pathlib import Path

MANAGE = Path(__file__).resolve().parent.parent / "example_site" / "manage.py"

CHECK = """
from django.test import Client
from wagtail_tickets.models import ArticlePage, Ticket
client = Client(HTTP_HOST="localhost")
for path in ("/", "/support/", "/support/help/", "/support/help/search/?q=invoice",
             "/support/technical/"):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
assert Ticket.objects.filter(department__support_mode="free").count() == 50
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
print("demo ok")
"""


def test_demo_loads_twice_and_serves_its_pages(tmp_path):
    env = dict(
        os.environ,
        EXAMPLE_DATABASE=str(tmp_path / "demo.sqlite3"),
        EXAMPLE_MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_SETTINGS_MODULE="example_site.settings",
    )
    env.pop("WT_DB", None)

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
    again = manage("load_demo")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing was added" in again.stdout
    served = manage("shell", "-c", CHECK)
    assert served.returncode == 0, served.stderr[-3000:]
    assert "demo ok" in served.stdout
