"""One message in: a new ticket, a reply, a staff reply or note, a refusal, or nothing.

Tickets and messages are made only by the workflow (``open_ticket``, ``post_reply``);
this module decides which call to make and keeps its own records (the dedup row with
the original message, the thread's Message-IDs) in the same transaction, so that a
message is either taken in whole or not at all. Callers delete a message from its
server only after ``receive`` has returned.
"""

import io
import logging
import tempfile
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import background, conf, workflow
from ..attachments import AttachmentRules
from ..models import DepartmentPage, HelpdeskSettings, InboundMail, Message, TicketMailId
from ..models.mail import sender_hash
from . import authres, loops, quotes, thread
from .parse import parse

logger = logging.getLogger(__name__)
Outcome = InboundMail.Outcome

NOTE_MARKER = "#note"
_SPOOL_BYTES = 1024 * 1024
INVITATION_INTERVAL = timedelta(days=1)


class TemporaryFailure(Exception):
    """The message cannot be taken in now; leave it where it is and try again later."""


class TooLarge(Exception):
    """The message is larger than WAGTAIL_TICKETS_MAIL_MAX_BYTES."""


@dataclass
class Result:
    outcome: str
    duplicate: bool = False
    ticket: object = None
    message: object = None
    detail: str = ""


def receive(raw, mailbox):
    """Take one raw message in through ``mailbox``; returns a Result.

    Raises TooLarge, TemporaryFailure, or the database's errors (also temporary).
    Taking in the same message twice (same Message-ID and sender) stores it once.
    """
    limit = conf.get("MAIL_MAX_BYTES")
    if limit and len(raw) > limit:
        raise TooLarge(f"{len(raw)} bytes, more than {limit}")
    if len(raw) > _SPOOL_BYTES:
        # A large message waits in a temporary file, so that its bytes are not held
        # in memory while the parser builds its own copy (callers pass the only
        # reference; see fetch._take_one).
        spool = tempfile.TemporaryFile()
        spool.write(raw)
        del raw
        with spool:
            return _receive(spool, mailbox)
    return _receive(raw, mailbox)


def _receive(raw, mailbox):
    parsed = parse(raw)
    key = {"mail_id": parsed.message_id, "sender_hash": sender_hash(parsed.from_address)}
    if InboundMail.objects.filter(**key).exists():
        return Result(Outcome.IGNORED, duplicate=True, detail="already taken in")
    try:
        with transaction.atomic():
            return _Intake(raw, parsed, mailbox).run()
    except IntegrityError:
        # Another run took the same message in between the check and the insert.
        if InboundMail.objects.filter(**key).exists():
            return Result(Outcome.IGNORED, duplicate=True, detail="already taken in")
        raise


def _language(code):
    available = {lang for lang, _name in settings.LANGUAGES}
    return code if code in available else settings.LANGUAGE_CODE


class _Intake:
    def __init__(self, raw, parsed, mailbox):
        self.raw = raw
        self.parsed = parsed
        self.mailbox = mailbox
        self.address = parsed.from_address
        self.no_answer = ""
        # Staff mail whose sender the receiving mail server did not confirm (authres).
        self.unverified_staff = False

    def record(self, outcome, *, ticket=None, message=None, detail="", keep=False):
        inbound = InboundMail(
            mailbox=self.mailbox if self.mailbox and self.mailbox.pk else None,
            mail_id=self.parsed.message_id,
            sender_hash=sender_hash(self.address),
            outcome=outcome,
            ticket=ticket,
            message=message,
            subject=self.parsed.subject[:255],
            no_auto_reply=bool(self.no_answer),
            detail=detail[:255],
        )
        if keep:
            inbound.full_text = self.parsed.text
            if hasattr(self.raw, "read"):
                self.raw.seek(0)
                original = File(self.raw)
            else:
                original = ContentFile(self.raw)
            inbound.original.save("message.eml", original, save=False)
        inbound.save(force_insert=True)
        if ticket is not None and self.parsed.has_message_id:
            TicketMailId.objects.create(ticket=ticket, mail_id=self.parsed.message_id)
        return Result(outcome, ticket=ticket, message=message, detail=detail)

    def run(self):
        parsed = self.parsed
        if parsed.report is not None:
            self.no_answer = "delivery report"
            marked = loops.record_bounces(parsed.report)
            return self.record(Outcome.BOUNCE, detail=", ".join(marked))
        if not self.address:
            self.no_answer = "no sender"
            return self.record(Outcome.IGNORED, detail="no sender address")
        if loops.is_robot_sender(self.address):
            self.no_answer = "mailer-daemon sender"
            return self.record(Outcome.IGNORED, detail="mail from a mail system")
        if self.address.lower() in _own_addresses(self.mailbox):
            self.no_answer = "own address"
            return self.record(Outcome.OWN, detail="from the helpdesk's own address")
        self.no_answer = loops.never_answer_reason(parsed)
        check = authres.verdict(parsed.auth_results, self.address)
        if check != authres.FAIL:
            # Mail a trusted server found forged says nothing of the address.
            loops.clear_bounce(self.address)
        match = thread.find(parsed)
        if match.ticket is not None:
            if match.role == "customer" and check == authres.FAIL:
                # The customer's address, but not from the customer's mail server: a
                # stranger's mail, which opens a ticket of its own.
                match = thread.Match(quoted_codes=[match.ticket.code])
            else:
                self.unverified_staff = match.role == "staff" and check != authres.PASS
                return self.reply(match)
        return self.new_ticket(match)

    # --- the text and the files -----------------------------------------------------

    def files(self, department, language):
        """Attachments through the department's upload rules; notes for refused ones."""
        if not self.parsed.attachments:
            return [], []
        site = department.get_site() if department else None
        if site is None:
            from wagtail.models import Site

            site = Site.objects.filter(is_default_site=True).first()
        # A ticket whose department was deleted follows the site's rules alone.
        rules = AttachmentRules.for_department(
            department or DepartmentPage(), HelpdeskSettings.for_site(site)
        )
        accepted, notes = [], []
        with translation.override(language):
            for item in self.parsed.attachments:
                # A File over the bytes, read in chunks when stored and hashed (an
                # uploaded-file object would copy a large attachment whole each time).
                upload = File(io.BytesIO(item.data), name=item.name)
                if len(accepted) >= rules.max_count:
                    notes.append(
                        _("Attachment “%(name)s” was not accepted: too many files.")
                        % {"name": item.name}
                    )
                    continue
                try:
                    accepted.extend(rules.validate([upload]))
                except ValidationError as error:
                    reason = " ".join(error.messages)
                    if rules.max_count == 0 or not rules.extensions:
                        reason = _("This form does not accept attachments.")
                    notes.append(
                        _("Attachment “%(name)s” was not accepted: %(reason)s")
                        % {"name": item.name, "reason": reason}
                    )
        return accepted, notes

    def body(self, text, notes, language):
        text = text.strip()
        if not text:
            with translation.override(language):
                text = _("(The e-mail had no text.)")
        if notes:
            text += "\n\n" + "\n".join(f"[{note}]" for note in notes)
        return text

    # --- a reply on a ticket --------------------------------------------------------

    def reply(self, match):
        ticket = match.ticket
        language = _language(ticket.language)
        text = quotes.latest_reply(self.parsed.text)
        is_note = False
        if match.role == "staff":
            lines = text.strip().split("\n")
            if lines and lines[0].strip().lower() == NOTE_MARKER:
                is_note = True
                text = "\n".join(lines[1:])
        files, notes = self.files(ticket.department, language)
        body = self.body(text, notes, language)
        if self.unverified_staff:
            # Anyone can write an agent's address into From: what the desk cannot trust
            # stays among the staff, marked, instead of going to the customer.
            is_note = True
            with translation.override(language):
                warning = _(
                    "[Sent by e-mail from %(address)s. The mail server did not confirm "
                    "the sender, so this was kept as an internal note and not sent to "
                    "the customer.]"
                ) % {"address": self.address}
            body = f"{warning}\n\n{body}"
        message = workflow.post_reply(
            ticket,
            body=body,
            author=match.user,
            author_name=(
                self.parsed.from_name or (ticket.customer_name if match.role == "customer" else "")
            )
            if match.user is None
            else "",
            author_email=self.address,
            by_staff=match.role == "staff",
            is_internal=is_note,
            attachments=files,
            source=Message.Source.EMAIL,
            email_message_id=self.parsed.message_id,
        )
        outcome = {
            "customer": Outcome.REPLY,
            "staff": Outcome.NOTE if is_note else Outcome.STAFF_REPLY,
        }[match.role]
        detail = "sender not verified" if self.unverified_staff else ""
        return self.record(outcome, ticket=ticket, message=message, detail=detail, keep=True)

    # --- a new ticket ---------------------------------------------------------------

    def new_ticket(self, match):
        mailbox = self.mailbox
        department = mailbox.department if mailbox else None
        if department is None or not department.live:
            raise TemporaryFailure(
                "the mailbox has no published department for new tickets"
                if department is None
                else f"the department “{department.title}” is not published"
            )
        users = thread.users_with_address(self.address)
        customer = users[0] if len(users) == 1 else None
        if customer is None and mailbox.requires_invitation:
            return self.refuse(department)
        language = _language(self.parsed.language)
        files, notes = self.files(department, language)
        custom_fields = []
        if match.quoted_codes:
            with translation.override(language):
                label = _("Ticket quoted in the subject")
            custom_fields.append(
                {
                    "name": "quoted_ticket",
                    "label": label,
                    "type": "singleline",
                    "value": ", ".join(match.quoted_codes),
                }
            )
        with translation.override(language):
            subject = self.parsed.subject.strip() or _("(no subject)")
        name = self.parsed.from_name or self.address.split("@", 1)[0]
        ticket, _token = workflow.open_ticket(
            department=department,
            subject=subject,
            body=self.body(self.parsed.text, notes, language),
            customer=customer,
            customer_name=name[:150],
            customer_email=self.address,
            custom_fields=custom_fields,
            attachments=files,
            language=language,
            source=Message.Source.EMAIL,
            email_message_id=self.parsed.message_id,
        )
        message = ticket.messages.order_by("pk").first()
        return self.record(Outcome.TICKET, ticket=ticket, message=message, keep=True)

    def refuse(self, department):
        """An unknown sender where unknown senders are refused: answer once, store nothing."""
        reason = self.no_answer
        if not reason and loops.bouncing([self.address]):
            reason = "the address bounces"
        if not reason:
            recent = InboundMail.objects.filter(
                sender_hash=sender_hash(self.address),
                outcome=Outcome.INVITED,
                detail="answered",
                received_at__gte=timezone.now() - INVITATION_INTERVAL,
            ).exists()
            if recent:
                reason = "answered already"
        if not reason and not loops.take_auto_reply(self.address):
            reason = "hourly limit of automatic replies"
        if not reason:
            from ..tasks import send_mail_invitation

            background.enqueue_on_commit(
                send_mail_invitation,
                address=self.address,
                department_id=department.pk,
                subject=self.parsed.subject,
                in_reply_to=self.parsed.message_id if self.parsed.has_message_id else "",
                language=_language(self.parsed.language),
            )
        return self.record(
            Outcome.INVITED, detail="answered" if not reason else f"not answered: {reason}"
        )


def _own_addresses(mailbox):
    """The helpdesk's addresses, read once per fetch run (kept on the mailbox object)."""
    if mailbox is None:
        return loops.own_addresses()
    cached = getattr(mailbox, "_wagtail_tickets_own_addresses", None)
    if cached is None:
        cached = loops.own_addresses()
        mailbox._wagtail_tickets_own_addresses = cached
    return cached
