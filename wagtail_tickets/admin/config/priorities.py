"""Priorities: name, colour, the default, SLA targets (first response, resolution)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.ui.tables import BooleanColumn

from ...models import DepartmentPage, Priority
from .common import (
    ColourColumn,
    ColourInput,
    ConfigurationForm,
    DurationColumn,
    InUseDeleteView,
    OrderedConfigurationViewSet,
)


class PriorityForm(ConfigurationForm):
    default_required_message = _(
        "Tickets need a default priority: make another priority the default instead."
    )

    class Meta:
        model = Priority
        fields = ["name", "colour", "is_default", "first_response_minutes", "resolution_minutes"]
        widgets = {"colour": ColourInput}
        help_texts = {
            "first_response_minutes": _(
                "Minutes until the first answer is due, e.g. 480 for 8 hours. "
                "Leave empty for no target."
            ),
            "resolution_minutes": _(
                "Minutes until the ticket should be resolved, e.g. 4320 for 3 days. "
                "Leave empty for no target."
            ),
        }


class PriorityDeleteView(InUseDeleteView):
    ticket_field = "priority"
    model_label = _("priority")
    default_refusal = _("This is the default priority: make another priority the default first.")

    def usage_refusals(self):
        refusals = super().usage_refusals()
        departments = DepartmentPage.objects.filter(default_priority=self.object).count()
        if departments:
            refusals.append(
                ngettext(
                    "%(count)s department uses this priority as its default. "
                    "Change the department's default priority first.",
                    "%(count)s departments use this priority as their default. "
                    "Change their default priority first.",
                    departments,
                )
                % {"count": departments}
            )
        return refusals


class PriorityViewSet(OrderedConfigurationViewSet):
    model = Priority
    name = "helpdesk_priorities"
    url_prefix = "helpdesk/priorities"
    icon = "order"
    menu_label = _("Priorities")
    menu_name = "helpdesk_priorities"
    menu_order = 40
    form_class = PriorityForm
    list_display = [
        "name",
        ColourColumn(),
        BooleanColumn("is_default", label=_("Default")),
        DurationColumn("first_response_minutes", label=_("First response within")),
        DurationColumn("resolution_minutes", label=_("Resolution within")),
    ]
    delete_view_class = PriorityDeleteView
