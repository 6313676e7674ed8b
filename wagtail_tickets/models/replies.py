"""What agents keep for writing replies: saved replies (canned responses) and drafts."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SavedReply(models.Model):
    """A text an agent inserts into a reply, with placeholders filled for the ticket.

    Private to its owner, or shared: with one department's agents, or with every agent
    when no department is given. ``language`` limits it to tickets in that language.
    """

    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Placeholders: {customer_name}, {ticket_code}, {agent_name}, {department}. "
            "They are filled in for the ticket when the text is inserted."
        ),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("private to"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty for a shared reply."),
    )
    department = models.ForeignKey(
        "wagtail_tickets.DepartmentPage",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Offered only on this department's tickets; empty for every department."),
    )
    language = models.CharField(
        _("language"),
        max_length=12,
        blank=True,
        help_text=_("Offered only on tickets in this language; empty for every language."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        indexes = [models.Index(fields=["owner", "department"], name="wt_saved_reply_scope")]

    def __str__(self):
        return self.title

    @property
    def is_shared(self):
        return self.owner_id is None

    def text_for(self, ticket, agent):
        """The text as inserted into a reply on ``ticket`` by ``agent``."""
        return fill_placeholders(self.body, ticket, agent)


class ReplyDraft(models.Model):
    """An agent's unsent reply on a ticket, kept when they saved the ticket's fields."""

    ticket = models.ForeignKey(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    body = models.TextField(_("text"), blank=True)
    is_internal = models.BooleanField(_("internal note"), default=False)
    updated_at = models.DateTimeField(_("saved"), default=timezone.now)

    class Meta:
        verbose_name = _("reply draft")
        verbose_name_plural = _("reply drafts")
        constraints = [
            models.UniqueConstraint(fields=["user", "ticket"], name="wt_reply_draft_once")
        ]

    def __str__(self):
        return f"{self.ticket_id} · {self.user_id}"


#: The placeholders a saved reply may use, and what each is for the ticket and agent.
PLACEHOLDERS = {
    "{customer_name}": lambda ticket, agent: ticket.customer_name,
    "{ticket_code}": lambda ticket, agent: ticket.code,
    "{agent_name}": lambda ticket, agent: (
        (agent.get_full_name() or agent.get_username()) if agent else ""
    ),
    "{department}": lambda ticket, agent: ticket.department.title if ticket.department else "",
}


def fill_placeholders(text, ticket, agent):
    """``text`` with the placeholders replaced for ``ticket`` and ``agent``.

    Plain replacement, not ``str.format``: a saved reply is typed by people, and braces
    of its own (or ``{0.__class__}``) must stay text.
    """
    for placeholder, value in PLACEHOLDERS.items():
        if placeholder in text:
            text = text.replace(placeholder, value(ticket, agent))
    return text
