from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ... import digests


class Command(BaseCommand):
    help = _(
        "Send the staff the customer replies held for a digest whose window has closed. "
        "Needed only with a task backend that cannot run a task later (django_tasks' "
        "ImmediateBackend): run it every minute from cron. A django-tasks-db worker sends "
        "the digests by itself."
    )

    def handle(self, *args, **options):
        sent = total = digests.send_due()
        while sent == digests.SWEEP_LIMIT:
            sent = digests.send_due()
            total += sent
        self.stdout.write(_("%(count)s digests sent") % {"count": total})
