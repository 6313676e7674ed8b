import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ...analytics import rollups


class Command(BaseCommand):
    help = _(
        "Recompute the analytics rollups (and each ticket's share of them) from the "
        "tickets, their messages and ratings. The workflow keeps them up to date; run this "
        "after importing tickets in bulk, after changing TIME_ZONE, or to repair them. "
        "Ticket changes wait while it runs."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()

        def progress(done, total):
            if options["verbosity"] > 1:
                message = ngettext(
                    "%(done)d of %(total)d ticket", "%(done)d of %(total)d tickets", total
                ) % {"done": done, "total": total}
                self.stdout.write(message)

        count = rollups.rebuild(progress=progress)
        self.stdout.write(
            ngettext(
                "Analytics rebuilt from %(count)d ticket in %(seconds).1f s.",
                "Analytics rebuilt from %(count)d tickets in %(seconds).1f s.",
                count,
            )
            % {"count": count, "seconds": time.perf_counter() - started}
        )
