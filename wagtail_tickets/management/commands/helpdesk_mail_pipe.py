"""Take one message from standard input, for a mail server to deliver into.

    python manage.py helpdesk_mail_pipe --mailbox support < message.eml

Exit codes follow sysexits.h, which mail servers understand: 0 when the message was
taken in (or deliberately dropped: a duplicate, a bounce, an auto-reply loop); 75
(EX_TEMPFAIL) when it could not be taken in now (the database is down, the mailbox is
unknown or has no published department, an unexpected error), so the mail server keeps
it and tries again; 65 (EX_DATAERR) when it is larger than WAGTAIL_TICKETS_MAIL_MAX_BYTES,
so the mail server returns it to the sender.
"""

import logging
import sys

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from ... import conf
from ...mail import intake
from ...models import Mailbox

logger = logging.getLogger("wagtail_tickets.mail.pipe")

EX_OK = 0
EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Take one e-mail message from standard input into the helpdesk."

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", required=True, metavar="NAME")

    def execute(self, *args, **options):
        # Every outcome is an exit code for the mail server, never a traceback.
        try:
            super().execute(*args, **options)
            code = self.exit_code
        except Exception:
            logger.exception("helpdesk_mail_pipe failed")
            code = EX_TEMPFAIL
        if code != EX_OK:
            sys.exit(code)

    def handle(self, *args, mailbox, **options):
        self.exit_code = EX_TEMPFAIL
        self.exit_code = self.take(mailbox)

    def take(self, mailbox):
        try:
            box = Mailbox.objects.select_related("department").filter(name=mailbox).first()
        except DatabaseError:
            logger.exception("helpdesk_mail_pipe: the database cannot be reached")
            return EX_TEMPFAIL
        if box is None:
            logger.error("helpdesk_mail_pipe: no mailbox named %r", mailbox)
            return EX_TEMPFAIL
        try:
            # Read here, with no name kept: receive() may free a large message early.
            # One byte past the limit is enough to refuse it.
            limit = conf.get("MAIL_MAX_BYTES")
            result = intake.receive(sys.stdin.buffer.read(limit + 1 if limit else -1), box)
        except intake.TooLarge as exc:
            logger.warning("helpdesk_mail_pipe: refused a message: %s", exc)
            return EX_DATAERR
        except intake.TemporaryFailure as exc:
            logger.error("helpdesk_mail_pipe: %s", exc)
            return EX_TEMPFAIL
        except DatabaseError:
            logger.exception("helpdesk_mail_pipe: the database failed")
            return EX_TEMPFAIL
        logger.info(
            "helpdesk_mail_pipe: %s%s", result.outcome, " (duplicate)" if result.duplicate else ""
        )
        return EX_OK
