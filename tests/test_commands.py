from io import StringIO

from django.core.management import call_command
from django.db import connection

from tests import factories


def test_helpdesk_analyze_gives_the_planner_statistics(department):
    factories.open_ticket(department)
    out = StringIO()
    call_command("helpdesk_analyze", stdout=out)
    assert "wagtail_tickets_ticket" in out.getvalue()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'wagtail_tickets_ticket'")
            assert cursor.fetchone()[0] > 0
