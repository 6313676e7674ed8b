"""Private links beyond the one a ticket is filed with."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessLinkQuerySet(models.QuerySet):
    def valid(self, now=None):
        """Links that still open their ticket: not expired."""
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class AccessLink(models.Model):
    """A private link mailed by "find my ticket", kept as a hash with its own expiry.

    Issuing one never touches the ticket's other links: the link given when the ticket
    was filed (``Ticket.access_token_hash``) and every earlier one keep working until
    they expire or the ticket's links are revoked all at once (``revoke_access_links``).
    """

    ticket = models.ForeignKey(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="access_links",
    )
    token_hash = models.CharField(_("link hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = AccessLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("private link")
        verbose_name_plural = _("private links")
        indexes = [models.Index(fields=["ticket", "expires_at"], name="wt_access_link_ticket")]

    def __str__(self):
        return f"{self.ticket_id} · {self.created_at:%Y-%m-%d %H:%M}"

    def is_valid(self, now=None):
        return self.expires_at is None or self.expires_at > (now or timezone.now())
