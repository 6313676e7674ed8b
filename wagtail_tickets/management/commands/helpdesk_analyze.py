from django.core.management.base import BaseCommand
from django.db import connections
from django.utils.translation import gettext as _

from ...models import Message, Ticket


class Command(BaseCommand):
    help = _(
        "Refresh the database's statistics of the helpdesk tables, so its query planner "
        "keeps using the right indexes as tickets pile up. Run it now and then (daily from "
        "cron) on SQLite; PostgreSQL's autovacuum does the same by itself."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help=_("Database alias."))

    def handle(self, *args, database="default", **options):
        connection = connections[database]
        tables = [Ticket._meta.db_table, Message._meta.db_table]
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        self.stdout.write(_("Statistics refreshed: %(tables)s") % {"tables": ", ".join(tables)})
