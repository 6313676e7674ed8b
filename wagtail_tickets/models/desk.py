"""What agents keep about tickets for themselves: views, stars, saved searches."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TicketView(models.Model):
    """Who opened a ticket in the desk; one row per user per few minutes."""

    ticket = models.ForeignKey(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="views",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    viewed_at = models.DateTimeField(_("viewed"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-viewed_at"]
        verbose_name = _("ticket view")
        verbose_name_plural = _("ticket views")
        indexes = [
            models.Index(fields=["ticket", "user", "-viewed_at"], name="wt_view_ticket_user")
        ]

    def __str__(self):
        return f"{self.ticket_id} · {self.user_id} · {self.viewed_at:%Y-%m-%d %H:%M}"


class Star(models.Model):
    """An agent's favourite ticket."""

    ticket = models.ForeignKey(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="stars",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="ticket_stars",
    )
    created_at = models.DateTimeField(_("starred"), default=timezone.now)

    class Meta:
        verbose_name = _("star")
        verbose_name_plural = _("stars")
        constraints = [
            models.UniqueConstraint(fields=["user", "ticket"], name="wt_star_once_per_user")
        ]

    def __str__(self):
        return f"{self.user_id} ★ {self.ticket_id}"


class SavedSearch(models.Model):
    """A named inbox query: filters and sort, private or shared, maybe the owner's default."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="ticket_searches",
    )
    name = models.CharField(_("name"), max_length=100)
    query_string = models.CharField(
        _("query"), max_length=2000, blank=True, help_text=_("The inbox filters and sort.")
    )
    shared = models.BooleanField(
        _("shared"), default=False, help_text=_("Other agents can see and use it.")
    )
    is_default = models.BooleanField(
        _("my default"), default=False, help_text=_("Applied when I open the inbox.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        constraints = [
            models.UniqueConstraint(
                fields=["owner"],
                condition=models.Q(is_default=True),
                name="wt_saved_search_one_default",
            )
        ]

    def __str__(self):
        return self.name
