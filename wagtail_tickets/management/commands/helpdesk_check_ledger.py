from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ...ledger_check import check_ledger, totals


class Command(BaseCommand):
    help = _(
        "Check that every support account's balance and incidents equal the sums of its "
        "ledger, and that each entry's balance and incidents after it follow from the one "
        "before. Exits with status 1 when something does not add up."
    )

    def handle(self, *args, **options):
        problems = check_ledger()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(
                _("The ledger does not add up: %(count)d problem(s).") % {"count": len(problems)}
            )
        accounts, entries, balance = totals()
        self.stdout.write(
            _("The ledger adds up: %(accounts)d accounts, %(entries)d entries.")
            % {"accounts": accounts, "entries": entries}
        )
