import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from ...models import search


class Command(BaseCommand):
    help = _(
        "Rebuild the tickets' search table from the tickets and their messages. The "
        "workflow keeps it up to date; run this after importing tickets around it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=search.BATCH, help=_("Tickets per batch."))

    def handle(self, *args, batch=search.BATCH, **options):
        started = time.perf_counter()
        with transaction.atomic():
            count = search.rebuild_all(batch=max(1, batch))
        self.stdout.write(
            _("%(count)s tickets indexed in %(seconds).1f s")
            % {"count": count, "seconds": time.perf_counter() - started}
        )
