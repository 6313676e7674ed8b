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


def test_every_command_prints_its_help():
    """``manage.py help NAME`` works for every command of the package (argparse needs
    the help text as a plain string, not a lazy translation)."""
    from pathlib import Path

    from django.core.management import load_command_class

    import wagtail_tickets

    folder = Path(wagtail_tickets.__file__).parent / "management" / "commands"
    names = sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))
    assert "helpdesk_worker" in names
    for name in names:
        command = load_command_class("wagtail_tickets", name)
        text = command.create_parser("manage.py", name).format_help()
        assert f"manage.py {name}" in text, name
