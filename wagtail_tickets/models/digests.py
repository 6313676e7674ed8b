from django.db import models
from django.utils.translation import gettext_lazy as _


class ReplyDigest(models.Model):
    """Where the staff's mail about one ticket's customer replies stands.

    Kept by the notification tasks (``notifications.customer_reply``), not by the
    workflow: it is the state of the mail, not of the ticket. ``window_ends_at`` closes
    the current grouping window; ``mailed_up_to`` is the last customer message the staff
    were told about; ``due_at`` is set while replies wait for the window's digest.
    """

    ticket = models.OneToOneField(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="reply_digest",
    )
    window_ends_at = models.DateTimeField(_("window ends"), null=True, blank=True)
    mailed_up_to = models.BigIntegerField(_("last message mailed"), default=0)
    due_at = models.DateTimeField(_("digest due"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("reply digest")
        verbose_name_plural = _("reply digests")

    def __str__(self):
        return str(self.ticket_id)
