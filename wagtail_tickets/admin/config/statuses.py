"""Statuses: name, kind, colour, the default for new tickets, drag ordering."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import BooleanColumn, Column

from ...models import Status
from .common import (
    ColourColumn,
    ColourInput,
    ConfigurationForm,
    InUseDeleteView,
    OrderedConfigurationViewSet,
)


class StatusForm(ConfigurationForm):
    default_required_message = _(
        "New tickets need a default status: make another status the default instead."
    )

    class Meta:
        model = Status
        fields = ["name", "customer_name", "kind", "colour", "is_default"]
        widgets = {"colour": ColourInput}

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if cleaned.get("is_default") and kind and kind not in Status.ACTIVE_KINDS:
            self.add_error(
                "is_default",
                _("The default status must be new, open or waiting for customer."),
            )
        old_kind = self.instance.kind if self.instance.pk else None
        if old_kind and kind and kind != old_kind:
            others = Status.objects.filter(kind=old_kind).exclude(pk=self.instance.pk)
            if not others.exists():
                self.add_error(
                    "kind",
                    _(
                        "This is the only status of the kind “%(kind)s”; the helpdesk "
                        "needs one. Add another status of that kind first."
                    )
                    % {"kind": Status.Kind(old_kind).label},
                )
        return cleaned


class StatusDeleteView(InUseDeleteView):
    ticket_field = "status"
    model_label = _("status")
    default_refusal = _("This is the default status: make another status the default first.")

    def rule_refusals(self):
        status = self.object
        if Status.objects.filter(kind=status.kind).exclude(pk=status.pk).exists():
            return []
        return [
            gettext("This is the only status of the kind “%(kind)s”; the helpdesk needs one.")
            % {"kind": status.get_kind_display()}
        ]


class StatusViewSet(OrderedConfigurationViewSet):
    model = Status
    name = "helpdesk_statuses"
    url_prefix = "helpdesk/statuses"
    icon = "tag"
    menu_label = _("Statuses")
    menu_name = "helpdesk_statuses"
    menu_order = 30
    form_class = StatusForm
    list_display = [
        "name",
        Column("customer_name", label=_("Customers see"), accessor="customer_label"),
        ColourColumn(),
        "kind",
        BooleanColumn("is_default", label=_("Default")),
    ]
    delete_view_class = StatusDeleteView
