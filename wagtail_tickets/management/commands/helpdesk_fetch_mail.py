"""Read the helpdesk's IMAP and POP3 mailboxes once; for cron or a systemd timer.

    python manage.py helpdesk_fetch_mail              # every active mailbox
    python manage.py helpdesk_fetch_mail --mailbox support

Each mailbox is read under a lock held in the database, so runs that overlap (a slow
run and the next timer, or two hosts) never read one mailbox at once. Exits with 1 when
a mailbox could not be read; the error is also shown on its admin screen.
"""

from django.core.management.base import BaseCommand, CommandError

from ...mail.fetch import fetch_mailbox
from ...models import Mailbox


class Command(BaseCommand):
    help = "Read the helpdesk's IMAP and POP3 mailboxes and turn their mail into tickets."

    def add_arguments(self, parser):
        parser.add_argument(
            "--mailbox",
            action="append",
            dest="names",
            metavar="NAME",
            help="read only this mailbox (may be repeated)",
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="messages to read per mailbox at most"
        )

    def handle(self, *args, names=None, limit=None, **options):
        mailboxes = Mailbox.objects.filter(
            protocol__in=[Mailbox.Protocol.IMAP, Mailbox.Protocol.POP3]
        ).select_related("department")
        if names:
            mailboxes = mailboxes.filter(name__in=names)
            missing = set(names) - {m.name for m in mailboxes}
            if missing:
                raise CommandError("No IMAP or POP3 mailbox named: " + ", ".join(sorted(missing)))
        else:
            mailboxes = mailboxes.filter(active=True)
        failed = False
        for mailbox in mailboxes:
            report = fetch_mailbox(mailbox, limit=limit)
            if report.locked:
                self.stdout.write(f"{mailbox.name}: skipped, another run is reading it")
                continue
            line = (
                f"{mailbox.name}: {report.taken} taken in, {report.duplicates} already known, "
                f"{report.left} left on the server"
            )
            self.stdout.write(line)
            for error in report.errors:
                failed = True
                self.stderr.write(f"{mailbox.name}: {error}")
        if failed:
            raise CommandError("Some mail could not be read; see above.", returncode=1)
