"""The desk's configuration screens and permission policies.

- ``ticket_permission_policy`` (registered for ``Ticket``): who may do what to which
  ticket, for Wagtail's generic machinery and the desk's own views.
- Statuses and priorities (managers: the model's add/change/delete permissions): colour,
  kind, default flag, SLA targets, drag ordering; one in use is never deleted.
- Staff (``change_staffmember``), and "My desk profile" for every staff member.
- Saved searches: each agent's own, plus the shared ones read-only.
- "Departments": a shortcut to the support centre in the page explorer.

These are configuration, not ticket state: they are saved here, not through the
workflow, which only ever reads them.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, ProtectedError, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic.edit import UpdateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import (
    BooleanColumn,
    Column,
    DateColumn,
    RelatedObjectsColumn,
    TitleColumn,
)
from wagtail.admin.views.generic import DeleteView, EditView, IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from ..models import (
    DepartmentPage,
    HelpdeskPage,
    Priority,
    SavedSearch,
    StaffMember,
    Status,
    Ticket,
)
from ..permissions import sees_all_departments, staff_can_access, visible_tickets
from .menu import HELPDESK_MENU_HOOK, desk_profile, is_desk_user

# --- permission policies ------------------------------------------------------------------

#: Ticket's own permissions (Ticket.Meta.permissions), e.g. "assign_ticket".
TICKET_PERMISSIONS = tuple(codename for codename, _label in Ticket._meta.permissions)
#: Short action names the ticket policy also accepts.
TICKET_ACTION_ALIASES = {"assign": "assign_ticket", "change_fields": "change_ticket_fields"}


class TicketPermissionPolicy(ModelPermissionPolicy):
    """Who may do what with tickets.

    Actions:
    - ``view``, ``change`` (work on it: reply, add notes, close, reopen) and ``add``
      (open one for a customer): every desk user (a staff profile, "view all
      departments" or superuser), or a holder of the model permission.
    - ``delete``: the model permission ``delete_ticket`` only.
    - the custom permissions by codename (``assign_ticket``, ``change_ticket_fields``,
      ``edit_message``, ``delete_message``, ``view_all_departments``,
      ``view_analytics``, ``manage_billing``) or the aliases ``assign`` and
      ``change_fields``.

    Per instance, the user must also be able to see the ticket
    (``permissions.staff_can_access``); querysets start from ``visible_tickets``.
    """

    desk_actions = frozenset({"view", "change", "add"})

    def _get_permission_codename(self, action):
        if action in TICKET_PERMISSIONS:
            return action
        if action in TICKET_ACTION_ALIASES:
            return TICKET_ACTION_ALIASES[action]
        return super()._get_permission_codename(action)

    def user_has_permission(self, user, action):
        if not (user and user.is_authenticated and user.is_active):
            return False
        if action in self.desk_actions and is_desk_user(user):
            return True
        return user.has_perm(self._get_permission_name(action))

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action) and staff_can_access(user, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return self.user_has_any_permission(user, actions) and staff_can_access(user, instance)

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return Ticket.objects.none()
        return visible_tickets(user)

    def users_with_any_permission(self, actions):
        codenames = self._get_permission_codenames(actions)
        condition = self._get_users_with_any_permission_codenames_filter(codenames)
        if self.desk_actions.intersection(actions):
            desk = self._get_users_with_any_permission_codenames_filter(
                {"view_all_departments"}
            ) | Q(is_active=True, helpdesk_profile__isnull=False)
            condition |= desk
        return get_user_model().objects.filter(condition).distinct()

    def users_with_any_permission_for_instance(self, actions, instance):
        sees_all = self._get_users_with_any_permission_codenames_filter({"view_all_departments"})
        in_department = Q(helpdesk_profile__departments=instance.department_id)
        return self.users_with_any_permission(actions).filter(sees_all | in_department).distinct()


class SavedSearchPermissionPolicy(ModelPermissionPolicy):
    """Saved searches belong to their owner.

    Every desk user may list, create (from the inbox), change and delete their own
    searches and see (and use) the shared ones. Shared searches of others are read-only,
    except for holders of the model's change/delete permission (managers tidying the
    shared list). Another agent's private search is never listed, not even to them.
    """

    basic_actions = frozenset({"view", "add", "change", "delete"})

    def user_has_permission(self, user, action):
        if not (user and user.is_authenticated and user.is_active):
            return False
        if action in self.basic_actions and is_desk_user(user):
            return True
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def _moderates(self, user, action):
        return super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if instance.owner_id == user.pk:
            return True
        if not instance.shared:
            return False
        return action == "view" or self._moderates(user, action)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, a, instance) for a in actions)

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return SavedSearch.objects.none()
        condition = Q(owner=user)
        if "view" in actions or any(self._moderates(user, a) for a in actions):
            condition |= Q(shared=True)
        return SavedSearch.objects.filter(condition)

    def users_with_any_permission(self, actions):
        condition = self._get_users_with_any_permission_codenames_filter(
            self._get_permission_codenames(actions)
        )
        if self.basic_actions.intersection(actions):
            # Desk users: a staff profile, or "view all departments" (a Ticket permission).
            condition |= Q(is_active=True, helpdesk_profile__isnull=False)
            condition |= ticket_permission_policy._get_users_with_any_permission_codenames_filter(
                {"view_all_departments"}
            )
        return get_user_model().objects.filter(condition).distinct()


ticket_permission_policy = TicketPermissionPolicy(Ticket)
saved_search_permission_policy = SavedSearchPermissionPolicy(SavedSearch)
# Registered on import (wagtail_hooks imports this module first), before any viewset or
# view asks the registry and gets a fallback policy.
register_permission_policy(Ticket, ticket_permission_policy)
register_permission_policy(SavedSearch, saved_search_permission_policy)


@hooks.register("register_permissions")
def register_helpdesk_permissions():
    """Ticket's custom permissions plus add/change/delete of the configuration models,
    for Wagtail's group editor."""
    models = (Status, Priority, StaffMember, SavedSearch)
    content_types = ContentType.objects.get_for_models(*models)
    configuration = Q()
    for model in models:
        opts = model._meta
        configuration |= Q(
            content_type=content_types[model],
            codename__in=[f"{action}_{opts.model_name}" for action in ("add", "change", "delete")],
        )
    ticket = Q(
        content_type=ContentType.objects.get_for_model(Ticket), codename__in=TICKET_PERMISSIONS
    )
    return Permission.objects.filter(ticket | configuration)


PROFILE_URL_NAME = "wagtail_tickets_my_profile"
DEPARTMENTS_URL_NAME = "wagtail_tickets_departments"


# --- shared pieces ------------------------------------------------------------------------


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


class InUseDeleteView(DeleteView):
    """Wagtail's delete view that refuses, with the reason, to delete what is in use."""

    template_name = "wagtail_tickets/admin/config_confirm_delete.html"

    def get_refusals(self):
        raise NotImplementedError

    @cached_property
    def refusals(self):
        return self.get_refusals()

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

    def ticket_count(self):
        return Ticket.objects.filter(**{self.ticket_field: self.object}).count()


class NamedIndexView(IndexView):
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


def ticket_usage_message(count, model_name):
    return ngettext(
        "%(count)s ticket uses this %(model)s. Move it to another %(model)s first.",
        "%(count)s tickets use this %(model)s. Move them to another %(model)s first.",
        count,
    ) % {"count": count, "model": model_name}


# --- statuses -----------------------------------------------------------------------------


class StatusForm(ConfigurationForm):
    default_required_message = _(
        "New tickets need a default status: make another status the default instead."
    )

    class Meta:
        model = Status
        fields = ["name", "kind", "colour", "is_default"]
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

    def in_use_message(self, count):
        return ticket_usage_message(count, gettext("status"))

    def get_refusals(self):
        status = self.object
        refusals = []
        count = self.ticket_count()
        if count:
            refusals.append(self.in_use_message(count))
        if status.is_default:
            refusals.append(
                gettext("This is the default status: make another status the default first.")
            )
        if not Status.objects.filter(kind=status.kind).exclude(pk=status.pk).exists():
            refusals.append(
                gettext("This is the only status of the kind “%(kind)s”; the helpdesk needs one.")
                % {"kind": status.get_kind_display()}
            )
        return refusals


class StatusViewSet(ModelViewSet):
    model = Status
    name = "helpdesk_statuses"
    url_prefix = "helpdesk/statuses"
    icon = "tag"
    menu_label = _("Statuses")
    menu_name = "helpdesk_statuses"
    menu_order = 30
    menu_hook = HELPDESK_MENU_HOOK
    sort_order_field = "sort_order"
    ordering = "sort_order"
    copy_view_enabled = False
    add_to_reference_index = False
    form_fields = ["name", "kind", "colour", "is_default"]
    list_display = [
        "name",
        ColourColumn(),
        "kind",
        BooleanColumn("is_default", label=_("Default")),
    ]
    index_view_class = NamedIndexView
    delete_view_class = StatusDeleteView

    def get_form_class(self, for_update=False):
        return StatusForm


# --- priorities ---------------------------------------------------------------------------


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

    def in_use_message(self, count):
        return ticket_usage_message(count, gettext("priority"))

    def get_refusals(self):
        priority = self.object
        refusals = []
        count = self.ticket_count()
        if count:
            refusals.append(self.in_use_message(count))
        departments = DepartmentPage.objects.filter(default_priority=priority).count()
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
        if priority.is_default:
            refusals.append(
                gettext("This is the default priority: make another priority the default first.")
            )
        return refusals


class PriorityViewSet(ModelViewSet):
    model = Priority
    name = "helpdesk_priorities"
    url_prefix = "helpdesk/priorities"
    icon = "order"
    menu_label = _("Priorities")
    menu_name = "helpdesk_priorities"
    menu_order = 40
    menu_hook = HELPDESK_MENU_HOOK
    sort_order_field = "sort_order"
    ordering = "sort_order"
    copy_view_enabled = False
    add_to_reference_index = False
    form_fields = PriorityForm._meta.fields
    list_display = [
        "name",
        ColourColumn(),
        BooleanColumn("is_default", label=_("Default")),
        DurationColumn("first_response_minutes", label=_("First response within")),
        DurationColumn("resolution_minutes", label=_("Resolution within")),
    ]
    index_view_class = NamedIndexView
    delete_view_class = PriorityDeleteView

    def get_form_class(self, for_update=False):
        return PriorityForm


# --- staff --------------------------------------------------------------------------------


def admin_users():
    """Active users who can open the Wagtail admin."""
    access = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    )
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(user_permissions__in=access)
            | Q(groups__permissions__in=access)
        )
        .distinct()
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name()
        username = user.get_username()
        return f"{name} ({username})" if name else username


class DepartmentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, page):
        return page.title


class StaffMemberForm(forms.ModelForm):
    user = UserChoiceField(
        label=_("User"),
        queryset=get_user_model().objects.none(),
        help_text=_("An active user who can log in to the Wagtail admin."),
    )
    departments = DepartmentChoiceField(
        label=_("Departments"),
        queryset=DepartmentPage.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The agent sees and gets the tickets of these departments."),
    )

    class Meta:
        model = StaffMember
        fields = [
            "user",
            "departments",
            "signature",
            "available",
            "notify_new_tickets",
            "notify_assigned",
            "notify_customer_replies",
        ]
        widgets = {"signature": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"signature": _("Added below the agent's replies.")}

    def __init__(self, *args, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)
        users = admin_users().filter(helpdesk_profile__isnull=True)
        if self.instance.pk:
            users = admin_users().filter(
                Q(helpdesk_profile__isnull=True) | Q(pk=self.instance.user_id)
            )
        self.fields["user"].queryset = users.order_by("username")
        self.fields["departments"].queryset = DepartmentPage.objects.order_by("path")


class NotificationsColumn(Column):
    labels = (
        ("notify_new_tickets", _("new tickets")),
        ("notify_assigned", _("assigned to me")),
        ("notify_customer_replies", _("customer replies")),
    )

    def __init__(self, name="notifications", **kwargs):
        kwargs.setdefault("label", _("E-mail notifications"))
        super().__init__(name, **kwargs)

    def get_value(self, instance):
        chosen = [str(label) for field, label in self.labels if getattr(instance, field)]
        return ", ".join(chosen) or gettext("none")


class StaffIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("user").prefetch_related("departments")


class StaffMemberViewSet(ModelViewSet):
    model = StaffMember
    name = "helpdesk_staff"
    url_prefix = "helpdesk/staff"
    icon = "group"
    menu_label = _("Staff")
    menu_name = "helpdesk_staff"
    menu_order = 50
    menu_hook = HELPDESK_MENU_HOOK
    copy_view_enabled = False
    add_to_reference_index = False
    ordering = "user__username"
    form_fields = StaffMemberForm._meta.fields
    index_view_class = StaffIndexView
    list_display = [
        "__str__",
        Column(
            "username", label=_("Username"), accessor="user.username", sort_key="user__username"
        ),
        RelatedObjectsColumn("departments", label=_("Departments")),
        BooleanColumn("available", label=_("Available")),
        NotificationsColumn(),
    ]

    def get_form_class(self, for_update=False):
        return StaffMemberForm


class MyProfileForm(forms.ModelForm):
    class Meta:
        model = StaffMember
        fields = [
            "signature",
            "available",
            "notify_new_tickets",
            "notify_assigned",
            "notify_customer_replies",
        ]
        widgets = {"signature": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"signature": _("Added below your replies.")}


class MyProfileView(WagtailAdminTemplateMixin, UpdateView):
    """A staff member edits their own desk profile; departments are the managers' call."""

    form_class = MyProfileForm
    template_name = "wagtail_tickets/admin/config_profile.html"
    page_title = _("My desk profile")
    header_icon = "user"

    def dispatch(self, request, *args, **kwargs):
        if desk_profile(request.user) is None:
            messages.info(
                request,
                _(
                    "You have no helpdesk profile yet. "
                    "A manager can add you under Helpdesk → Staff."
                ),
            )
            return redirect("wagtailadmin_home")
        return super().dispatch(request, *args, **kwargs)

    def get_object(self, queryset=None):
        return StaffMember.objects.prefetch_related("departments").get(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            action_url=self.request.path,
            submit_button_label=_("Save"),
            submit_button_active_label=_("Saving…"),
            departments=self.object.departments.all(),
            media=context["form"].media,
        )
        return context

    def form_valid(self, form):
        with transaction.atomic():
            self.object = form.save()
            log(instance=self.object, action="wagtail.edit", user=self.request.user)
        messages.success(self.request, _("Your desk profile has been saved."))
        return redirect(PROFILE_URL_NAME)


class MyProfileMenuItem(MenuItem):
    def is_shown(self, request):
        return desk_profile(request.user) is not None


@hooks.register(HELPDESK_MENU_HOOK)
def register_my_profile_menu_item():
    return MyProfileMenuItem(
        _("My desk profile"),
        reverse(PROFILE_URL_NAME),
        name="helpdesk_my_profile",
        icon_name="user",
        order=70,
    )


@hooks.register("register_account_menu_item")
def register_my_profile_account_item(request):
    if desk_profile(request.user) is None:
        return None
    return {
        "url": reverse(PROFILE_URL_NAME),
        "label": _("My desk profile"),
        "help_text": _("Your signature, availability and helpdesk notifications."),
    }


# --- departments shortcut -----------------------------------------------------------------


def departments_view(request):
    """Open the page explorer at the (first) support centre."""
    helpdesk = HelpdeskPage.objects.order_by("path").only("pk").first()
    if helpdesk is None:
        messages.info(
            request,
            _("There is no support centre yet: add a helpdesk page to the page tree."),
        )
        return redirect("wagtailadmin_explore_root")
    return redirect("wagtailadmin_explore", helpdesk.pk)


@hooks.register(HELPDESK_MENU_HOOK)
def register_departments_menu_item():
    # Shown to every admin user (the admin's own access check applies); the explorer
    # shows them the pages they may see.
    return MenuItem(
        _("Departments"),
        reverse(DEPARTMENTS_URL_NAME),
        name="helpdesk_departments",
        icon_name="folder-open-inverse",
        order=20,
    )


# --- saved searches -----------------------------------------------------------------------


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


class SavedSearchIndexView(IndexView):
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


class SavedSearchViewSet(ModelViewSet):
    model = SavedSearch
    name = "helpdesk_saved_searches"
    url_prefix = "helpdesk/saved-searches"
    icon = "search"
    menu_label = _("Saved searches")
    menu_name = "helpdesk_saved_searches"
    menu_order = 60
    menu_hook = HELPDESK_MENU_HOOK
    copy_view_enabled = False
    add_to_reference_index = False
    index_view_class = SavedSearchIndexView
    edit_view_class = SavedSearchEditView
    delete_view_class = SavedSearchDeleteView
    form_fields = SavedSearchForm._meta.fields
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

    def get_form_class(self, for_update=False):
        return SavedSearchForm

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


# --- registration -------------------------------------------------------------------------


@hooks.register("register_admin_viewset")
def register_configuration_viewsets():
    return [StatusViewSet(), PriorityViewSet(), StaffMemberViewSet(), SavedSearchViewSet()]


@hooks.register("register_admin_urls")
def register_configuration_urls():
    return [
        path("helpdesk/departments/", departments_view, name=DEPARTMENTS_URL_NAME),
        path("helpdesk/profile/", MyProfileView.as_view(), name=PROFILE_URL_NAME),
    ]


__all__ = [
    "TicketPermissionPolicy",
    "format_minutes",
    "sees_all_departments",
    "ticket_permission_policy",
]
