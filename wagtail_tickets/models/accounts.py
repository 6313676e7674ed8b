"""Customers who signed up in the support centre and have not verified their address.

The user account is made only once the address is verified: until then the sign-up
waits here, so an address nobody confirmed never holds an account, and a deactivated
account can never be brought back by signing up again.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CustomerSignup(models.Model):
    email = models.EmailField(_("e-mail address"), db_index=True)
    name = models.CharField(_("name"), max_length=150)
    # A password hash, as Django stores it on the user.
    password = models.CharField(_("password"), max_length=128)
    # Part of the signed verification link, so knowing the row's id is not enough.
    nonce = models.CharField(max_length=32)
    helpdesk = models.ForeignKey(
        "wagtail_tickets.HelpdeskPage",
        verbose_name=_("support centre"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    next_url = models.CharField(_("go to afterwards"), max_length=500, blank=True)
    language = models.CharField(_("language"), max_length=12, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("customer sign-up")
        verbose_name_plural = _("customer sign-ups")
        indexes = [models.Index(fields=["ip_address", "created_at"], name="wt_signup_ip_created")]

    def __str__(self):
        return self.email
