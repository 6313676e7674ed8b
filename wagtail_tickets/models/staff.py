from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffMember(models.Model):
    """An admin user's desk profile."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="helpdesk_profile",
    )
    departments = models.ManyToManyField(
        "wagtail_tickets.DepartmentPage",
        verbose_name=_("departments"),
        blank=True,
        related_name="staff_members",
    )
    signature = models.TextField(_("signature"), blank=True)
    available = models.BooleanField(_("available for auto-assignment"), default=True)
    notify_new_tickets = models.BooleanField(
        _("e-mail me new tickets in my departments"), default=True
    )
    notify_assigned = models.BooleanField(_("e-mail me tickets assigned to me"), default=True)
    last_assigned_at = models.DateTimeField(
        _("last automatic assignment"), null=True, blank=True, editable=False
    )
    notify_customer_replies = models.BooleanField(
        _("e-mail me customer replies on my tickets"), default=True
    )
    inbox_columns = models.JSONField(
        _("inbox columns"),
        default=dict,
        blank=True,
        help_text=_("The inbox's optional columns this agent shows; empty for the default."),
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()
