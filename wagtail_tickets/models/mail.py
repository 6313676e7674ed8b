"""Mail intake: the mailboxes the desk reads, and what it remembers about mail.

- ``Mailbox``: an IMAP or POP3 account (or an address an MTA pipes to), the department
  its new tickets go to and what to do with unknown senders.
- ``InboundMail``: one row per message taken in, whatever became of it: the dedup key
  (Message-ID and a hash of the sender), the outcome, and for tickets and replies the
  full text before quotes were cut and the original ``.eml`` (staff only).
- ``TicketMailId``: the Message-IDs of every mail of a ticket, received and sent, so
  that replies find their ticket.
- ``BouncingAddress`` and ``AutoReplyCounter``: loop and bounce protection.
"""

import hashlib
import ipaddress

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..storage import attachment_storage
from .tickets import attachment_upload_to

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback_host(host):
    """Whether ``host`` names this machine (a loopback address or ``localhost``)."""
    host = (host or "").strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sender_hash(address):
    """The sender as stored in the dedup records: hashed, lower-cased."""
    return hashlib.sha256((address or "").strip().lower().encode()).hexdigest()


class Mailbox(models.Model):
    class Protocol(models.TextChoices):
        IMAP = "imap", _("IMAP")
        POP3 = "pop3", _("POP3")
        PIPE = "pipe", _("Delivered by the mail server (pipe)")

    class Security(models.TextChoices):
        TLS = "tls", _("TLS")
        STARTTLS = "starttls", _("STARTTLS")
        PLAIN = "plain", _("None (only to this machine)")

    class AfterFetch(models.TextChoices):
        DELETE = "delete", _("Delete from the server")
        MOVE = "move", _("Move to another folder")
        SEEN = "seen", _("Mark as read and leave in the folder")

    class UnknownSenders(models.TextChoices):
        ACCEPT = "accept", _("Accept: open an anonymous ticket")
        INVITE = "invite", _("Refuse: reply once with the link to the form, create nothing")

    DEFAULT_PORTS = {
        (Protocol.IMAP, Security.TLS): 993,
        (Protocol.IMAP, Security.STARTTLS): 143,
        (Protocol.IMAP, Security.PLAIN): 143,
        (Protocol.POP3, Security.TLS): 995,
        (Protocol.POP3, Security.STARTTLS): 110,
        (Protocol.POP3, Security.PLAIN): 110,
    }

    name = models.SlugField(
        _("name"),
        max_length=60,
        unique=True,
        help_text=_("Letters, digits, hyphens and underscores; the pipe command names it."),
    )
    address = models.EmailField(
        _("e-mail address"),
        help_text=_(
            "The address customers write to. Mail of this mailbox's department goes out "
            "with it as Reply-To, and mail from it is never taken in."
        ),
    )
    protocol = models.CharField(
        _("protocol"), max_length=8, choices=Protocol.choices, default=Protocol.IMAP
    )
    host = models.CharField(_("server"), max_length=255, blank=True)
    port = models.PositiveIntegerField(
        _("port"), null=True, blank=True, help_text=_("Empty: the usual port.")
    )
    security = models.CharField(
        _("connection security"), max_length=10, choices=Security.choices, default=Security.TLS
    )
    username = models.CharField(_("user name"), max_length=255, blank=True)
    # Fernet token (see mail.secrets); never shown back in any form or page.
    password_encrypted = models.TextField(_("password (encrypted)"), blank=True, editable=False)
    password_env = models.CharField(
        _("password from environment variable"),
        max_length=100,
        blank=True,
        help_text=_(
            "The name of an environment variable holding the password, instead of storing it."
        ),
    )
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    after_fetch = models.CharField(
        _("after fetching"), max_length=8, choices=AfterFetch.choices, default=AfterFetch.DELETE
    )
    move_to_folder = models.CharField(
        _("move to folder"),
        max_length=255,
        blank=True,
        help_text=_("Only when messages are moved after fetching."),
    )
    department = models.ForeignKey(
        "wagtail_tickets.DepartmentPage",
        verbose_name=_("department for new tickets"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
    )
    unknown_senders = models.CharField(
        _("mail from unknown senders"),
        max_length=8,
        choices=UnknownSenders.choices,
        default=UnknownSenders.ACCEPT,
        help_text=_(
            "Unknown: no active user has the sender's address. Departments for logged-in "
            "users only or with paid support always refuse them."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True, editable=False)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    # A lock held in the database so that two fetches never read one box at once, on
    # any number of hosts; it expires if its holder dies.
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    lock_token = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        default_permissions = ()
        permissions = [("manage_mailboxes", _("Can manage mailboxes"))]

    def __str__(self):
        return self.name

    @property
    def fetches(self):
        return self.protocol in (self.Protocol.IMAP, self.Protocol.POP3)

    def effective_port(self):
        return self.port or self.DEFAULT_PORTS.get((self.protocol, self.security))

    def clean(self):
        super().clean()
        errors = {}
        if self.fetches:
            if not self.host:
                errors["host"] = _("Enter the mail server's name.")
            if not self.username:
                errors["username"] = _("Enter the user name.")
            if (
                self.security == self.Security.PLAIN
                and self.host
                and not is_loopback_host(self.host)
            ):
                errors["security"] = _(
                    "Without TLS the password would cross the network in clear text: use "
                    "TLS or STARTTLS, or a server on this machine (localhost, 127.0.0.1)."
                )
            if self.protocol == self.Protocol.POP3 and self.after_fetch != self.AfterFetch.DELETE:
                errors["after_fetch"] = _(
                    "POP3 has no folders or read marks: messages are deleted after fetching."
                )
            if self.after_fetch == self.AfterFetch.MOVE:
                if not self.move_to_folder:
                    errors["move_to_folder"] = _("Name the folder to move messages to.")
                elif self.move_to_folder == self.folder:
                    errors["move_to_folder"] = _("Choose a folder other than the one read.")
        if self.password_env and not self.password_env.replace("_", "").isalnum():
            errors["password_env"] = _("Letters, digits and underscores only.")
        if errors:
            raise ValidationError(errors)

    @property
    def requires_invitation(self):
        """Whether unknown senders are refused (and invited to the form) here."""
        department = self.department
        if department is not None and (
            department.login_required or department.support_mode != department.SupportMode.FREE
        ):
            return True
        return self.unknown_senders == self.UnknownSenders.INVITE


def eml_upload_to(instance, filename):
    return attachment_upload_to(instance, "message.eml")


class InboundMail(models.Model):
    """A message the intake has seen; the dedup record and, for tickets, the original."""

    class Outcome(models.TextChoices):
        TICKET = "ticket", _("New ticket")
        REPLY = "reply", _("Customer reply")
        STAFF_REPLY = "staff_reply", _("Staff reply")
        NOTE = "note", _("Internal note")
        INVITED = "invited", _("Unknown sender, refused")
        BOUNCE = "bounce", _("Delivery failure report")
        OWN = "own", _("From the helpdesk's own address")
        IGNORED = "ignored", _("Ignored")

    mailbox = models.ForeignKey(
        Mailbox,
        verbose_name=_("mailbox"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    mail_id = models.CharField(_("Message-ID"), max_length=255)
    sender_hash = models.CharField(_("sender (hashed)"), max_length=64)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    ticket = models.ForeignKey(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # SET_NULL, not CASCADE: the row must outlive a deleted ticket to keep the same
    # message, still on the server, from being taken in again.
    message = models.OneToOneField(
        "wagtail_tickets.Message",
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_mail",
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    full_text = models.TextField(_("full text"), blank=True)
    # Private like the attachments (storage.py): a whole message is as sensitive as its files.
    original = models.FileField(
        _("original message"), upload_to=eml_upload_to, storage=attachment_storage, blank=True
    )
    # Mail that must never be answered automatically (auto-replies, lists, bounces).
    no_auto_reply = models.BooleanField(_("never answer automatically"), default=False)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("received e-mail")
        verbose_name_plural = _("received e-mails")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["mail_id", "sender_hash"], name="wt_inbound_mail_once")
        ]

    def __str__(self):
        return self.mail_id


class TicketMailId(models.Model):
    """A Message-ID of a ticket's thread, received or sent."""

    ticket = models.ForeignKey(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="mail_ids",
    )
    mail_id = models.CharField(_("Message-ID"), max_length=255, db_index=True)
    outgoing = models.BooleanField(_("sent by the helpdesk"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("ticket Message-ID")
        verbose_name_plural = _("ticket Message-IDs")
        default_permissions = ()

    def __str__(self):
        return self.mail_id


class BouncingAddress(models.Model):
    """An address whose mail came back as undeliverable; cleared when it writes again."""

    email = models.EmailField(_("e-mail address"), unique=True)
    bounces = models.PositiveIntegerField(_("bounces"), default=1)
    last_bounce_at = models.DateTimeField(_("last bounce"), default=timezone.now)
    status = models.CharField(_("delivery status"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("bouncing address")
        verbose_name_plural = _("bouncing addresses")
        default_permissions = ()

    def __str__(self):
        return self.email

    @classmethod
    def clear(cls, address):
        """Mail goes to ``address`` again; returns whether it was marked."""
        deleted, _rows = cls.objects.filter(email=(address or "").lower()).delete()
        return bool(deleted)


class AutoReplyCounter(models.Model):
    """How many automatic answers went to one address in one hour."""

    email = models.EmailField(_("e-mail address"))
    hour = models.DateTimeField(_("hour"))
    count = models.PositiveIntegerField(_("automatic replies"), default=0)

    class Meta:
        verbose_name = _("automatic reply counter")
        verbose_name_plural = _("automatic reply counters")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["email", "hour"], name="wt_auto_reply_hour")]

    def __str__(self):
        return f"{self.email} {self.hour:%Y-%m-%d %H}: {self.count}"
