"""Saved searches: each agent's own, plus the shared ones read-only.

They are created from the inbox's filters; here they are renamed, shared, made the
owner's default, opened in the inbox or deleted.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn
from wagtail.admin.views.generic import DeleteView, EditView, IndexView

from ...models import SavedSearch
from ...spreadsheets import SafeSpreadsheetExportMixin
from .common import HelpdeskViewSet
from .policies import saved_search_permission_policy


class SavedSearchForm(forms.ModelForm):
    class Meta:
        model = SavedSearch
        fields = ["name", "shared", "is_default"]

    def __init__(self, *args, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        exclusions.add("is_default")
        return exclusions

    def save(self, commit=True):
        instance = super().save(commit=False)
        if commit:
            with transaction.atomic():
                set_default_search(instance, instance.is_default)
        return instance


def set_default_search(search, is_default):
    """Save ``search`` as its owner's default (or not); only one default per owner."""
    with transaction.atomic():
        if is_default:
            SavedSearch.objects.filter(owner_id=search.owner_id, is_default=True).exclude(
                pk=search.pk
            ).update(is_default=False)
        search.is_default = is_default
        search.save()


def inbox_url(query_string=""):
    try:
        url = reverse("helpdesk_inbox:index")
    except NoReverseMatch:
        return None
    return f"{url}?{query_string}" if query_string else url


class SavedSearchMixin:
    """Only searches the user may see exist for them; changes need ownership."""

    instance_action = "change"

    def get_queryset(self):
        return saved_search_permission_policy.instances_user_has_any_permission_for(
            self.request.user, ["view"]
        ).select_related("owner")

    def get_object(self, queryset=None):
        search = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        if not saved_search_permission_policy.user_has_permission_for_instance(
            self.request.user, self.instance_action, search
        ):
            raise PermissionDenied
        return search


class SavedSearchOpenColumn(Column):
    cell_template_name = "wagtail_tickets/admin/config_search_open_cell.html"

    def get_value(self, instance):
        return inbox_url(instance.query_string)


class SavedSearchDefaultColumn(Column):
    cell_template_name = "wagtail_tickets/admin/config_search_default_cell.html"

    def __init__(self, name="is_default", **kwargs):
        kwargs.setdefault("label", _("My default"))
        super().__init__(name, **kwargs)

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        request = parent_context["request"]
        context["is_mine"] = instance.owner_id == request.user.pk
        context["toggle_url"] = reverse(
            "helpdesk_saved_searches:toggle_default", args=[instance.pk]
        )
        return context


class SavedSearchIndexView(SafeSpreadsheetExportMixin, IndexView):
    def get_base_queryset(self):
        return saved_search_permission_policy.instances_user_has_any_permission_for(
            self.request.user, ["view"]
        ).select_related("owner")

    def get_edit_url(self, instance):
        if saved_search_permission_policy.user_has_permission_for_instance(
            self.request.user, "change", instance
        ):
            return reverse(self.edit_url_name, args=[instance.pk])

    def get_delete_url(self, instance):
        if saved_search_permission_policy.user_has_permission_for_instance(
            self.request.user, "delete", instance
        ):
            return reverse(self.delete_url_name, args=[instance.pk])

    def get_add_url(self):
        return None  # saved from the inbox's filters


class SavedSearchEditView(SavedSearchMixin, EditView):
    pass


class SavedSearchDeleteView(SavedSearchMixin, DeleteView):
    instance_action = "delete"


class ToggleDefaultSearchView(SavedSearchMixin, View):
    """POST: make this search my default, or stop it being my default."""

    http_method_names = ["post"]

    def post(self, request, pk):
        search = self.get_object()
        if search.owner_id != request.user.pk:
            raise PermissionDenied  # "my default" is the owner's own choice
        make_default = not search.is_default
        set_default_search(search, make_default)
        if make_default:
            messages.success(
                request,
                _("“%(name)s” is now your default search.") % {"name": search.name},
            )
        else:
            messages.success(
                request,
                _("“%(name)s” is no longer your default search.") % {"name": search.name},
            )
        return redirect("helpdesk_saved_searches:index")


class SavedSearchViewSet(HelpdeskViewSet):
    model = SavedSearch
    name = "helpdesk_saved_searches"
    url_prefix = "helpdesk/saved-searches"
    icon = "search"
    menu_label = _("Saved searches")
    menu_name = "helpdesk_saved_searches"
    menu_order = 60
    form_class = SavedSearchForm
    index_view_class = SavedSearchIndexView
    edit_view_class = SavedSearchEditView
    delete_view_class = SavedSearchDeleteView
    ordering = "name"

    @cached_property
    def list_display(self):
        return [
            "name",
            Column("owner", label=_("Owner"), accessor=owner_name),
            BooleanColumn("shared", label=_("Shared")),
            SavedSearchDefaultColumn(),
            SavedSearchOpenColumn("open", label=_("Inbox")),
            DateColumn("created_at", label=_("Created"), sort_key="created_at"),
        ]

    def get_common_view_kwargs(self, **kwargs):
        # Created from the inbox; no history or usage pages for private searches.
        view_kwargs = super().get_common_view_kwargs(**kwargs)
        view_kwargs.update(add_url_name=None, history_url_name=None, usage_url_name=None)
        return view_kwargs

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("edit/<int:pk>/", self.edit_view, name="edit"),
            path("delete/<int:pk>/", self.delete_view, name="delete"),
            path(
                "default/<int:pk>/",
                ToggleDefaultSearchView.as_view(),
                name="toggle_default",
            ),
        ]


def owner_name(search):
    user = search.owner
    return user.get_full_name() or user.get_username()
