"""Notification templates edited in the admin (Helpdesk → Notification templates).

One row per (event, language) that an editor has changed; without a row the mail is
rendered from the template files shipped in ``templates/wagtail_tickets/emails/``. The
events and their placeholders are listed in ``mail/events.py``; the placeholder language
is ``mail/placeholders.py``.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationTemplate(models.Model):
    event = models.CharField(_("event"), max_length=64)
    language = models.CharField(_("language"), max_length=15)
    subject = models.CharField(_("subject"), max_length=255)
    text_body = models.TextField(_("text body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        default_permissions = ()
        permissions = [("manage_notification_templates", _("Can manage notification templates"))]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "language"], name="wt_notification_template_once"
            )
        ]

    def __str__(self):
        return f"{self.event} ({self.language})"
