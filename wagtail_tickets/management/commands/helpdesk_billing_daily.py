from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ...workflow import billing


class Command(BaseCommand):
    help = _(
        "Paid support's daily round (run it from cron): renew monthly incident quotas, "
        "write off expired incidents, and tell customers whose incidents expire within "
        "seven days (once per grant)."
    )

    def handle(self, *args, **options):
        written = billing.settle_due()
        warned = billing.warn_expiring()
        self.stdout.write(
            _(
                "%(entries)d ledger entries written; %(warned)d customers told that "
                "incidents expire soon."
            )
            % {"entries": written, "warned": warned}
        )
