"""Staff: managers give admin users a desk profile (departments, signature,
availability, notifications)."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import BooleanColumn, Column, RelatedObjectsColumn
from wagtail.admin.views.generic import IndexView

from ...models import DepartmentPage, StaffMember
from ...spreadsheets import SafeSpreadsheetExportMixin
from .common import HelpdeskViewSet
from .profile import MyProfileForm


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


class StaffMemberForm(MyProfileForm):
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

    class Meta(MyProfileForm.Meta):
        # The manager's form: who, which departments, then what the agent sets too.
        fields = ["user", "departments", *MyProfileForm.Meta.fields]
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


class StaffIndexView(SafeSpreadsheetExportMixin, IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("user").prefetch_related("departments")


class StaffMemberViewSet(HelpdeskViewSet):
    model = StaffMember
    name = "helpdesk_staff"
    url_prefix = "helpdesk/staff"
    icon = "group"
    menu_label = _("Staff")
    menu_name = "helpdesk_staff"
    menu_order = 50
    form_class = StaffMemberForm
    ordering = "user__username"
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
