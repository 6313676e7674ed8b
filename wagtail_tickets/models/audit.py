"""The tickets' own audit log model.

Wagtail keeps the log entries of plain models in ``ModelLogEntry`` and shows them (in
the site history report, its CSV/XLSX export and the log filters) to anyone who holds
any permission on the model. An agent holds permissions on ``Ticket`` but may see only
their departments' tickets, so tickets log here instead: Wagtail's ``log()`` picks this
model for tickets (``register_model`` in ``wagtail_hooks``), and every report asks its
manager's ``viewable_by_user``, which keeps to ``permissions.visible_tickets``.
"""

from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.models import BaseLogEntry, BaseLogEntryManager


class TicketLogEntryManager(BaseLogEntryManager):
    def log_action(self, instance, action, **kwargs):
        kwargs.update(ticket_id=instance.pk)
        return super().log_action(instance, action, **kwargs)

    def viewable_by_user(self, user):
        from ..permissions import has_desk_rights, sees_all_departments, visible_tickets

        if not has_desk_rights(user):
            return self.none()
        if sees_all_departments(user):
            # Entries of deleted tickets too, as for pages.
            return self.all()
        return self.filter(ticket_id__in=visible_tickets(user).values("pk"))

    def for_instance(self, instance):
        return self.filter(ticket_id=instance.pk)


class TicketLogEntry(BaseLogEntry):
    # No database constraint: the history outlives a deleted ticket, as Wagtail's
    # PageLogEntry outlives its page.
    ticket = models.ForeignKey(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    objects = TicketLogEntryManager()

    class Meta(BaseLogEntry.Meta):
        ordering = ["-timestamp", "-id"]
        verbose_name = _("ticket log entry")
        verbose_name_plural = _("ticket log entries")
        indexes = [
            *BaseLogEntry.Meta.indexes,
            models.Index(fields=["ticket", "-timestamp"], name="wt_log_ticket_time"),
        ]

    def __str__(self):
        return f"TicketLogEntry {self.pk}: '{self.action}' on ticket {self.ticket_id}"

    def save(self, *args, **kwargs):
        # As BaseLogEntry.save (which validates the action), without the queries its
        # foreign-key checks cost on every write: the ticket the workflow has just locked
        # or created, the content type from Django's registry, the acting user.
        self.full_clean(exclude=["ticket", "content_type", "user", "revision"])
        return models.Model.save(self, *args, **kwargs)

    @cached_property
    def object_id(self):
        return self.ticket_id
