from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailTicketsConfig(AppConfig):
    name = "wagtail_tickets"
    label = "wagtail_tickets"
    verbose_name = _("Helpdesk")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import background, checks, signal_handlers  # noqa: F401

        background.connect()
