import hashlib
import os
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import colours, conf
from ..storage import attachment_storage

colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # and six hexadecimal digits, e.g. #2563eb.")
)


class TranslatedNameMixin:
    """Seeded names are English msgids; show them in the active language.

    Names typed by managers are not in the catalogue and come back unchanged.
    """

    def __str__(self):
        return gettext(self.name) if self.name else ""


class BadgeColourMixin:
    """Statuses and priorities are shown as badges in their colour (colours.py)."""

    @property
    def badge_colour(self):
        return colours.readable(self.colour)

    @property
    def text_colour(self):
        return colours.text_colour(self.colour)


class Status(TranslatedNameMixin, BadgeColourMixin, models.Model):
    class Kind(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting for customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    ACTIVE_KINDS = (Kind.NEW, Kind.OPEN, Kind.WAITING)
    ARCHIVED_KINDS = (Kind.RESOLVED, Kind.CLOSED)

    name = models.CharField(_("name"), max_length=60)
    customer_name = models.CharField(
        _("name for customers"),
        max_length=60,
        blank=True,
        default="",
        help_text=_(
            "What customers see on their pages and in their e-mails, e.g. “Waiting for "
            "your reply” for “Waiting for customer”. Empty: the name."
        ),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OPEN)
    colour = models.CharField(
        _("colour"), max_length=7, default="#6b7280", validators=[colour_validator]
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_default = models.BooleanField(
        _("default for new tickets"),
        default=False,
        help_text=_("The status a new ticket gets. Only one status can be the default."),
    )

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("status")
        verbose_name_plural = _("statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="wagtail_tickets_one_default_status",
            )
        ]

    @property
    def is_archived(self):
        return self.kind in self.ARCHIVED_KINDS

    @property
    def customer_label(self):
        """The name customers see, in the active language (seeded names are msgids)."""
        if self.customer_name:
            return gettext(self.customer_name)
        return str(self)

    @classmethod
    def default(cls):
        # Read from the database, not the cached rows: the workflow writes what these
        # return, and another process's cache may still hold a status since deleted.
        status = cls.objects.filter(is_default=True).first()
        return status or cls.objects.filter(kind=cls.Kind.NEW).first() or cls.objects.first()

    @classmethod
    def first_of_kind(cls, kind):
        return cls.objects.filter(kind=kind).first()


class Priority(TranslatedNameMixin, BadgeColourMixin, models.Model):
    name = models.CharField(_("name"), max_length=60)
    colour = models.CharField(
        _("colour"), max_length=7, default="#6b7280", validators=[colour_validator]
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_default = models.BooleanField(_("default"), default=False)
    first_response_minutes = models.PositiveIntegerField(
        _("first response target (minutes)"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no first-response target."),
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution target (minutes)"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no resolution target."),
    )

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("priority")
        verbose_name_plural = _("priorities")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="wagtail_tickets_one_default_priority",
            )
        ]

    @classmethod
    def default(cls):
        # From the database, as Status.default().
        return cls.objects.filter(is_default=True).first() or cls.objects.first()


class DepartmentCounter(models.Model):
    """The sequence behind ticket codes, one row per code prefix.

    Kept off the page so that publishing an old revision can never rewind it; keyed by
    prefix so that two departments sharing a prefix (or translations of one department)
    share one sequence and codes stay unique.
    """

    prefix = models.CharField(_("code prefix"), max_length=10, unique=True)
    last_number = models.PositiveBigIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("ticket code counter")
        verbose_name_plural = _("ticket code counters")

    def __str__(self):
        return f"{self.prefix}: {self.last_number}"


def hash_token(raw_token):
    return hashlib.sha256(raw_token.encode()).hexdigest()


LOOKUP_CACHE_SECONDS = 60


def _lookup_cache_key(model):
    return f"wagtail_tickets:rows:{model._meta.label_lower}"


def cached_rows(model):
    """Every row of a small table that managers edit (Status, Priority), in its order.

    Read from Django's cache, so the desk's screens and filters do not query them on
    every request. Saving or deleting a row clears the cache (signal_handlers), so with
    a shared cache a manager's change shows at once; with a per-process cache the other
    processes see it within LOOKUP_CACHE_SECONDS.
    """
    key = _lookup_cache_key(model)
    rows = cache.get(key)
    if rows is None:
        rows = list(model.objects.all())
        cache.set(key, rows, LOOKUP_CACHE_SECONDS)
    return rows


def forget_cached_rows(model):
    cache.delete(_lookup_cache_key(model))


def attach_lookups(tickets):
    """Give ``tickets`` their status and priority from the cached rows, without a join."""
    statuses = {row.pk: row for row in cached_rows(Status)}
    priorities = {row.pk: row for row in cached_rows(Priority)}
    status_field, priority_field = Ticket.status.field, Ticket.priority.field
    for ticket in tickets:
        status = statuses.get(ticket.status_id)
        if status is not None:
            status_field.set_cached_value(ticket, status)
        priority = priorities.get(ticket.priority_id)
        if priority is not None or ticket.priority_id is None:
            priority_field.set_cached_value(ticket, priority)


def status_ids(kinds):
    """The ids of the statuses of ``kinds``, from the cached statuses.

    Filtering tickets by a literal list of status ids lets the database use the ticket
    indexes that start with the status: with a subquery or a join, SQLite's planner
    cannot tell that the active statuses hold a few of many tickets and scans them all.
    """
    return sorted(status.pk for status in cached_rows(Status) if status.kind in kinds)


class TicketQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status_id__in=status_ids(Status.ACTIVE_KINDS))

    def archived(self):
        return self.filter(status_id__in=status_ids(Status.ARCHIVED_KINDS))

    def for_customer(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(customer=user)


class Ticket(models.Model):
    code = models.CharField(_("code"), max_length=24, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    # The subject's normalised terms (topics.topic_key), kept by the workflow so that the
    # frequent-requests report groups tickets in SQL.
    subject_key = models.CharField(_("topic key"), max_length=120, blank=True, editable=False)
    department = models.ForeignKey(
        "wagtail_tickets.DepartmentPage",
        verbose_name=_("department"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    status = models.ForeignKey(
        Status, verbose_name=_("status"), on_delete=models.PROTECT, related_name="tickets"
    )
    priority = models.ForeignKey(
        Priority, verbose_name=_("priority"), on_delete=models.PROTECT, related_name="tickets"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_tickets",
    )
    customer_name = models.CharField(_("customer name"), max_length=150)
    customer_email = models.EmailField(_("customer e-mail"), db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    custom_fields = models.JSONField(
        _("custom fields"),
        default=list,
        blank=True,
        help_text=_("The department's extra fields, with the labels the customer saw."),
    )

    submitter_ip = models.GenericIPAddressField(_("submitter IP address"), null=True, blank=True)
    submitter_user_agent = models.CharField(_("submitter browser"), max_length=500, blank=True)
    submitter_referrer = models.CharField(_("referring page"), max_length=500, blank=True)
    source_page = models.CharField(_("source page"), max_length=500, blank=True)
    submitted_logged_in = models.BooleanField(_("submitted while logged in"), default=False)
    access_token_hash = models.CharField(
        _("private link hash"), max_length=64, blank=True, db_index=True, editable=False
    )
    language = models.CharField(_("language"), max_length=12, blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # Denormalised facts; only the workflow writes them.
    last_message_at = models.DateTimeField(_("last reply"), null=True, blank=True, db_index=True)
    last_customer_message_at = models.DateTimeField(_("last customer reply"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    time_spent_minutes = models.PositiveIntegerField(_("time spent (minutes)"), default=0)
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    # When the customer last opened the ticket's page: staff replies after it are unread.
    customer_seen_at = models.DateTimeField(
        _("customer last read"), null=True, blank=True, editable=False
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_tickets",
        editable=False,
    )
    # What this ticket has added to the analytics rollups (analytics.rollups), so that a
    # change takes back exactly that. Only the workflow writes it.
    analytics_facts = models.JSONField(
        _("analytics facts"), default=dict, blank=True, editable=False
    )

    objects = TicketQuerySet.as_manager()

    # Searched through the package's own table (models.search.TicketSearch), kept by the
    # workflow; tickets are not in Wagtail's search index, whose every update costs time
    # in the size of the whole index.

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [
            ("view_all_departments", _("Can see tickets of all departments")),
            ("assign_ticket", _("Can assign tickets")),
            ("change_ticket_fields", _("Can change ticket fields")),
            ("edit_message", _("Can edit messages")),
            ("delete_message", _("Can delete messages")),
            ("view_analytics", _("Can view helpdesk analytics")),
            ("manage_billing", _("Can manage paid support")),
        ]
        indexes = [
            models.Index(fields=["status", "-last_message_at"], name="wt_ticket_status_last"),
            models.Index(fields=["department", "status"], name="wt_ticket_dept_status"),
            # Status first: the desk's counts ask for a few active statuses (a literal
            # list, see status_ids) and one assignee, so only active rows are read.
            models.Index(
                fields=["status", "assignee", "department"], name="wt_ticket_status_assignee"
            ),
            # The desk's "overdue" count: a few active statuses, due_at < now, read from the
            # index alone (department included for the visibility filter).
            models.Index(fields=["status", "due_at", "department"], name="wt_ticket_status_due"),
            models.Index(fields=["customer", "-created_at"], name="wt_ticket_customer"),
            models.Index(fields=["submitter_ip", "created_at"], name="wt_ticket_ip_created"),
            models.Index(fields=["resolved_at", "subject_key"], name="wt_ticket_resolved_topic"),
            # The frequent-requests report's "most detailed ticket" of a topic: one walk
            # down this index per topic on the page.
            models.Index(
                fields=["department", "subject_key", "message_count", "resolved_at"],
                name="wt_ticket_topic_best",
            ),
            # The analytics' backlog and open tickets per agent or department: only the
            # unresolved tickets, however long the history.
            models.Index(
                fields=["assignee", "department"],
                condition=models.Q(resolved_at__isnull=True),
                name="wt_ticket_unresolved",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.subject}"

    @property
    def is_archived(self):
        return self.status.is_archived

    @property
    def has_unread_reply(self):
        """A staff reply came after the customer last read the page (and last wrote)."""
        latest = self.last_message_at
        if latest is None:
            return False
        if self.last_customer_message_at and latest <= self.last_customer_message_at:
            return False  # the last public message is the customer's own
        return self.customer_seen_at is None or latest > self.customer_seen_at

    @property
    def helpdesk(self):
        """The live support centre above the ticket's department; one query, kept on
        the instance for as long as the department stays the same (a mail and its
        links ask for it several times)."""
        department_id = self.department_id
        if department_id is None:
            return None
        kept = self.__dict__.get("_wt_helpdesk")
        if kept is not None and kept[0] == department_id:
            return kept[1]
        from .pages import HelpdeskPage

        # HelpdeskPage's own manager already gives the specific page.
        helpdesk = HelpdeskPage.objects.ancestor_of(self.department).live().last()
        self.__dict__["_wt_helpdesk"] = (department_id, helpdesk)
        return helpdesk

    def check_access_token(self, raw_token):
        """Whether ``raw_token`` opens this ticket: the link it was filed with, or a
        mailed link (``AccessLink``) that has not expired."""
        if not self.access_token_hash or not raw_token:
            return False
        token_hash = hash_token(raw_token)
        if secrets.compare_digest(self.access_token_hash, token_hash):
            return True
        return self.access_links.valid().filter(token_hash=token_hash).exists()

    def is_customer(self, user):
        return bool(user and user.is_authenticated and self.customer_id == user.pk)


class Message(models.Model):
    class Source(models.TextChoices):
        WEB = "web", _("Web form")
        EMAIL = "email", _("E-mail")
        STAFF = "staff", _("Staff desk")
        API = "api", _("API")
        IMPORT = "import", _("Import")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages"
    )
    body = models.TextField(_("message"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_name = models.CharField(_("author name"), max_length=150, blank=True)
    author_email = models.EmailField(_("author e-mail"), blank=True)
    is_staff_reply = models.BooleanField(_("staff reply"), default=False)
    is_internal = models.BooleanField(
        _("internal note"), default=False, help_text=_("Never shown or mailed to the customer.")
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.WEB
    )
    email_message_id = models.CharField(_("e-mail Message-ID"), max_length=255, blank=True)
    time_spent_minutes = models.PositiveIntegerField(_("time spent (minutes)"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("edited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["ticket", "created_at"], name="wt_message_ticket_created")]

    def __str__(self):
        return _("Message on %(code)s") % {"code": self.ticket.code}

    @property
    def display_author(self):
        if self.author_id and self.author:
            return self.author.get_full_name() or self.author.get_username()
        return self.author_name


def attachment_upload_to(instance, filename):
    # A random folder per file: the path is never guessable, the name stays readable.
    _base, ext = os.path.splitext(filename)
    return "{}/{}/{}{}".format(
        conf.get("UPLOAD_TO").rstrip("/"),
        timezone.now().strftime("%Y/%m"),
        secrets.token_hex(16),
        ext.lower()[:10],
    )


class Attachment(models.Model):
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    # A storage of its own, never MEDIA_ROOT (see storage.py); a callable, so the choice
    # stays out of the migrations.
    file = models.FileField(
        _("file"), upload_to=attachment_upload_to, storage=attachment_storage, max_length=255
    )
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.original_name
