"""Incident packs: what managers grant, and shops sell (a Wagtail ModelViewSet).

Packs are configuration, saved by their form; granting one goes through the workflow.
A pack that has been granted cannot be deleted (its grants refer to it): deactivate it.
"""

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.views.generic import CreateView, DeleteView, EditView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet

from ...models import DepartmentPage, IncidentPack
from ...spreadsheets import SafeSpreadsheetExportMixin
from ..menu import HELPDESK_MENU_HOOK
from .common import NumberColumnRight, RealForbiddenMixin


class PackForm(forms.ModelForm):
    class Meta:
        model = IncidentPack
        fields = [
            "name",
            "incidents",
            "validity",
            "validity_days",
            "months",
            "departments",
            "active",
        ]
        widgets = {
            "validity": forms.RadioSelect,
            "departments": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = DepartmentPage.objects.filter(
            support_mode=DepartmentPage.SupportMode.PREPAID
        ).order_by("path")
        self.fields["departments"].label_from_instance = lambda page: page.title


class PackIndexView(RealForbiddenMixin, SafeSpreadsheetExportMixin, IndexView):
    default_ordering = "name"

    def get_base_queryset(self):
        return super().get_base_queryset().annotate(grant_count=Count("grants"))


class ValidityColumn(Column):
    def get_value(self, instance):
        return instance.describe_validity()


class PackDeleteView(RealForbiddenMixin, DeleteView):
    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        if self.object.grants.exists():
            messages.error(
                request,
                gettext("“%(pack)s” has been granted and cannot be deleted; deactivate it instead.")
                % {"pack": self.object.name},
            )
            return redirect(self.index_url_name)
        return super().post(request, *args, **kwargs)


class PackCreateView(RealForbiddenMixin, CreateView):
    pass


class PackEditView(RealForbiddenMixin, EditView):
    pass


class PackViewSet(ModelViewSet):
    model = IncidentPack
    name = "helpdesk_billing_packs"
    url_prefix = "helpdesk/billing/packs"
    icon = "tasks"
    menu_label = _("Incident packs")
    menu_name = "helpdesk_billing_packs"
    menu_order = 84
    menu_hook = HELPDESK_MENU_HOOK
    add_to_admin_menu = False
    copy_view_enabled = False
    add_to_reference_index = False
    index_view_class = PackIndexView
    add_view_class = PackCreateView
    edit_view_class = PackEditView
    delete_view_class = PackDeleteView
    list_display = [
        "name",
        NumberColumnRight("incidents", label=_("Incidents"), sort_key="incidents"),
        ValidityColumn("validity", label=_("Validity")),
        NumberColumnRight("grant_count", label=_("Granted"), sort_key="grant_count"),
        BooleanColumn("active", label=_("Active")),
    ]

    def get_form_class(self, for_update=False):
        return PackForm

    @property
    def index_template_name(self):
        return "wagtail_tickets/admin/billing/index.html"
