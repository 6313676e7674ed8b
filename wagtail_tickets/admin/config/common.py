"""What the configuration screens share: colour and duration columns, the ordered
"one default" form, the delete view that refuses while in use, the viewset base."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Max, ProtectedError
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic import DeleteView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet

from ...models import Ticket
from ...spreadsheets import SafeSpreadsheetExportMixin
from ..menu import HELPDESK_MENU_HOOK


class ColourInput(forms.TextInput):
    input_type = "color"

    def __init__(self, attrs=None):
        super().__init__(attrs={"class": "wt-colour-input", **(attrs or {})})


class ColourColumn(Column):
    cell_template_name = "wagtail_tickets/admin/config_colour_cell.html"

    def __init__(self, name="colour", **kwargs):
        kwargs.setdefault("label", _("Colour"))
        super().__init__(name, **kwargs)


def format_minutes(minutes):
    """480 -> "8 h", 90 -> "1 h 30 min", 4320 -> "3 d"; None -> ""."""
    if minutes is None:
        return ""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(gettext("%(days)s d") % {"days": days})
    if hours:
        parts.append(gettext("%(hours)s h") % {"hours": hours})
    if mins or not parts:
        parts.append(gettext("%(minutes)s min") % {"minutes": mins})
    return " ".join(parts)


class DurationColumn(Column):
    def get_value(self, instance):
        return format_minutes(super().get_value(instance))


class ConfigurationForm(forms.ModelForm):
    """Status and priority: colour input, default flag, place new ones last."""

    default_required_message = None

    def _get_validation_exclusions(self):
        # "Only one default" is kept by save() below, which takes the flag off the
        # others in the same transaction; the database constraint stays the backstop.
        exclusions = super()._get_validation_exclusions()
        exclusions.add("is_default")
        return exclusions

    def clean_is_default(self):
        value = self.cleaned_data.get("is_default")
        if self.instance.pk and self.instance.is_default and not value:
            raise forms.ValidationError(self.default_required_message)
        return value

    def save(self, commit=True):
        instance = super().save(commit=False)
        model = type(instance)
        if not commit:
            return instance
        with transaction.atomic():
            if instance.pk is None:
                last = model.objects.aggregate(last=Max("sort_order"))["last"]
                instance.sort_order = 0 if last is None else last + 1
            if instance.is_default:
                model.objects.filter(is_default=True).exclude(pk=instance.pk).update(
                    is_default=False
                )
            instance.save()
            self._save_m2m()
        return instance


def ticket_usage_message(count, model_name):
    return ngettext(
        "%(count)s ticket uses this %(model)s. Move it to another %(model)s first.",
        "%(count)s tickets use this %(model)s. Move them to another %(model)s first.",
        count,
    ) % {"count": count, "model": model_name}


class InUseDeleteView(DeleteView):
    """Wagtail's delete view that refuses, with the reasons, to delete a status or
    priority while tickets (or anything else) use it, or while it is the default.

    Reasons come in the order: what uses it, that it is the default, the model's own rules.
    """

    template_name = "wagtail_tickets/admin/config_confirm_delete.html"
    #: Ticket's foreign key to the model.
    ticket_field = None
    #: The model's name inside the "tickets use this …" sentence.
    model_label = None
    #: Why the default one cannot go.
    default_refusal = None

    @cached_property
    def refusals(self):
        return self.get_refusals()

    def get_refusals(self):
        refusals = self.usage_refusals()
        if self.object.is_default:
            refusals.append(str(self.default_refusal))
        return refusals + self.rule_refusals()

    def usage_refusals(self):
        count = self.ticket_count()
        return [self.in_use_message(count)] if count else []

    def rule_refusals(self):
        return []

    def in_use_message(self, count):
        return ticket_usage_message(count, str(self.model_label))

    def ticket_count(self):
        return Ticket.objects.filter(**{self.ticket_field: self.object}).count()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["refusals"] = self.refusals
        return context

    def refuse(self, reasons):
        messages.error(
            self.request,
            gettext("“%(object)s” was not deleted: %(reasons)s")
            % {"object": self.object, "reasons": " ".join(str(r) for r in reasons)},
        )
        return redirect(self.index_url_name)

    def post(self, request, *args, **kwargs):
        if self.refusals:
            return self.refuse(self.refusals)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ProtectedError:
            # A ticket took it between the check and the delete.
            return self.refuse([self.in_use_message(self.ticket_count())])


class NamedIndexView(SafeSpreadsheetExportMixin, IndexView):
    """Titles in the active language: the seeded names are catalogue msgids."""

    @cached_property
    def columns(self):
        columns = list(super().columns)
        title_column_class = self._get_title_column_class(TitleColumn)
        columns[0] = title_column_class(
            "name",
            label=_("Name"),
            accessor=str,
            sort_key="name",
            get_url=self.get_edit_url,
        )
        return columns


class HelpdeskViewSet(ModelViewSet):
    """A screen of the Helpdesk menu, edited through its own ``form_class``."""

    menu_hook = HELPDESK_MENU_HOOK
    copy_view_enabled = False
    add_to_reference_index = False
    form_class = None

    def get_form_fields(self):
        return self.form_class._meta.fields

    def get_form_class(self, for_update=False):
        return self.form_class


class OrderedConfigurationViewSet(HelpdeskViewSet):
    """Statuses and priorities: drag ordering, names in the active language, and a
    delete view that refuses while the row is in use."""

    sort_order_field = "sort_order"
    ordering = "sort_order"
    index_view_class = NamedIndexView
