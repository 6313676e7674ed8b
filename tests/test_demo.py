"""The README's first command: the example site migrates, loads its demo and serves it."""

import os
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
# The 50 recent tickets and a year of older history.
assert Ticket.objects.count() == 50 + HISTORY_TICKETS, Ticket.objects.count()
assert Rating.objects.filter(score__lte=2).exists() and Rating.objects.count() > 50
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
