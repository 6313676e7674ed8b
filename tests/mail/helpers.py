"""Building messages and mailboxes for the mail tests."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from django.utils import timezone

from wagtail_tickets.mail import intake
from wagtail_tickets.mail.secrets import encrypt
from wagtail_tickets.models import Mailbox

SAMPLES = Path(__file__).resolve().parent / "django_mailbox"
HELPDESK_ADDRESS = "support@helpdesk.example"


def sample_names():
    return sorted(path.name for path in SAMPLES.glob("*.eml"))


def sample(name):
    return (SAMPLES / name).read_bytes()


def make_mailbox(department, *, name="support", password="s3cret-Pa55", **fields):
    values = {
        "address": HELPDESK_ADDRESS,
        "protocol": Mailbox.Protocol.PIPE,
        "department": department,
        "password_encrypted": encrypt(password) if password else "",
        **fields,
    }
    return Mailbox.objects.create(name=name, **values)


def message(
    *,
    sender="carol@example.org",
    sender_name="Carol",
    to=HELPDESK_ADDRESS,
    subject="Printer broken",
    body="The printer prints nothing.",
    message_id=None,
    in_reply_to=None,
    references=None,
    headers=None,
    html=None,
    attachments=(),
):
    """A message as a mail client would send it; returns its bytes."""
    msg = EmailMessage()
    msg["From"] = f"{sender_name} <{sender}>" if sender_name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or make_msgid(domain="example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for key, value in (headers or {}).items():
        msg[key] = value
    if body is None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body)
        if html:
            msg.add_alternative(html, subtype="html")
    for name, data, content_type in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def message_id_of(raw):
    from wagtail_tickets.mail.parse import parse

    return parse(raw).message_id


def receive(raw, mailbox, commit=None):
    """Take ``raw`` in through ``mailbox`` and run its on-commit work (notifications)."""
    if commit is None:
        return intake.receive(raw, mailbox)
    with commit():
        return intake.receive(raw, mailbox)
