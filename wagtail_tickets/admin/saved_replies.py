"""Saved replies: texts agents insert into replies, each private or shared.

Every desk user keeps private saved replies of their own. Shared ones (for one
department, or for everyone) are read by the agents they concern and written by the
holders of the model's permissions (``add/change/delete_savedreply``: managers), given
in Wagtail's group editor. On the ticket screen the reply form lists the replies that
fit the ticket (``replies_for``), with the placeholders filled in.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, UpdatedAtColumn
from wagtail.admin.views.generic import CreateView, DeleteView, EditView, IndexView
from wagtail.permissions import register_permission_policy

from ..models import DepartmentPage, SavedReply
from ..permissions import sees_all_departments, staff_department_ids
from ..spreadsheets import SafeSpreadsheetExportMixin
from .config.common import HelpdeskViewSet
from .config.policies import DeskUserObjectsPolicy

#: Saved replies offered on one ticket screen, at most.
OFFERED = 200


def _departments_of(user):
    """Q of the shared replies' departments ``user`` works in (all for some)."""
    if sees_all_departments(user):
        return Q(department__isnull=False)
    return Q(department_id__in=staff_department_ids(user))


def readable_replies(user):
    """The saved replies ``user`` may read: their own, and the shared ones of their work."""
    shared = Q(owner__isnull=True) & (Q(department__isnull=True) | _departments_of(user))
    return SavedReply.objects.filter(Q(owner=user) | shared)


CACHE_SECONDS = 60
_VERSION_KEY = "wagtail_tickets:saved_replies:version"


def forget_cached_replies(**kwargs):
    """Saving or deleting a saved reply makes every agent's cached list stale."""
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:
        cache.set(_VERSION_KEY, 1, None)


def _user_replies(user):
    """Every saved reply ``user`` may insert (own and shared), from the cache.

    The ticket screen has a query ceiling, so the list is read at most once a minute
    per agent; a change to any saved reply clears it (signal handlers below), and with a
    per-process cache other processes see the change within CACHE_SECONDS.
    """
    version = cache.get_or_set(_VERSION_KEY, 1, None)
    key = f"wagtail_tickets:saved_replies:{user.pk}:{version}"
    replies = cache.get(key)
    if replies is None:
        replies = list(
            SavedReply.objects.filter(Q(owner=user) | Q(owner__isnull=True))
            .defer("created_at")
            .order_by("title", "pk")[:OFFERED]
        )
        cache.set(key, replies, CACHE_SECONDS)
    return replies


def replies_for(user, ticket):
    """The saved replies offered on ``ticket``'s screen to ``user``, mine first.

    Those for the ticket's department or every department, in the ticket's language or
    every language.
    """
    languages = {""}
    if ticket.language:
        languages |= {ticket.language.lower(), ticket.language.split("-")[0].lower()}
    offered = [
        reply
        for reply in _user_replies(user)
        if reply.department_id in (None, ticket.department_id)
        and reply.language.lower() in languages
    ]
    return sorted(offered, key=lambda reply: reply.owner_id is None)


class SavedReplyPermissionPolicy(DeskUserObjectsPolicy):
    """Private replies belong to their owner; shared ones to the permission holders."""

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if instance.owner_id is not None:
            return instance.owner_id == user.pk
        if action == "view":
            return readable_replies(user).filter(pk=instance.pk).exists()
        return self.manages_shared(user, action)

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return SavedReply.objects.none()
        if "view" in actions:
            return readable_replies(user)
        condition = Q(owner=user)
        if any(self.manages_shared(user, action) for action in actions):
            condition |= Q(owner__isnull=True)
        return SavedReply.objects.filter(condition)


saved_reply_permission_policy = SavedReplyPermissionPolicy(SavedReply)
register_permission_policy(SavedReply, saved_reply_permission_policy)


def language_choices():
    return [("", _("Every language")), *((code, name) for code, name in settings.LANGUAGES)]


class SavedReplyForm(WagtailAdminModelForm):
    """Title, text, department and language; "shared" only for those who manage them."""

    shared = forms.BooleanField(
        label=_("Shared"),
        required=False,
        help_text=_(
            "Offered to every agent of the department (or of every department); "
            "otherwise only to you."
        ),
    )

    class Meta:
        model = SavedReply
        fields = ["title", "body", "department", "language"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        self.user = for_user
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"),
            choices=language_choices(),
            required=False,
            help_text=SavedReply._meta.get_field("language").help_text,
        )
        departments = DepartmentPage.objects.order_by("path")
        if not sees_all_departments(for_user):
            departments = departments.filter(pk__in=staff_department_ids(for_user))
        self.fields["department"].queryset = departments
        self.fields["department"].label_from_instance = lambda page: page.title
        action = "change" if self.instance.pk else "add"
        self.may_share = saved_reply_permission_policy.manages_shared(for_user, action)
        if self.may_share:
            self.fields["shared"].initial = self.instance.pk is not None and self.instance.is_shared
        else:
            del self.fields["shared"]

    def save(self, commit=True):
        instance = super().save(commit=False)
        if self.may_share and self.cleaned_data.get("shared"):
            instance.owner = None
        elif not self.may_share and instance.pk and instance.owner_id is None:
            raise PermissionDenied  # the policy refused before; this is the backstop
        else:
            instance.owner = self.user
        instance.updated_at = timezone.now()
        if commit:
            instance.save()
        return instance


class SavedReplyIndexView(SafeSpreadsheetExportMixin, IndexView):
    def get_base_queryset(self):
        return readable_replies(self.request.user).select_related("owner", "department")

    def get_edit_url(self, instance):
        if saved_reply_permission_policy.user_has_permission_for_instance(
            self.request.user, "change", instance
        ):
            return reverse(self.edit_url_name, args=[instance.pk])

    def get_delete_url(self, instance):
        if saved_reply_permission_policy.user_has_permission_for_instance(
            self.request.user, "delete", instance
        ):
            return reverse(self.delete_url_name, args=[instance.pk])


class SavedReplyObjectMixin:
    instance_action = "change"

    def get_object(self, queryset=None):
        reply = get_object_or_404(readable_replies(self.request.user), pk=self.kwargs["pk"])
        if not saved_reply_permission_policy.user_has_permission_for_instance(
            self.request.user, self.instance_action, reply
        ):
            raise PermissionDenied
        return reply


class SavedReplyEditView(SavedReplyObjectMixin, EditView):
    pass


class SavedReplyDeleteView(SavedReplyObjectMixin, DeleteView):
    instance_action = "delete"


def scope_label(reply):
    if reply.owner_id is not None:
        return _("Private")
    if reply.department_id:
        return _("Shared with %(department)s") % {"department": reply.department.title}
    return _("Shared with everyone")


def language_label(reply):
    return dict(language_choices()).get(reply.language, reply.language) or _("Every language")


class SavedReplyViewSet(HelpdeskViewSet):
    model = SavedReply
    name = "helpdesk_saved_replies"
    url_prefix = "helpdesk/saved-replies"
    icon = "openquote"
    menu_label = _("Saved replies")
    menu_name = "helpdesk_saved_replies"
    menu_order = 120
    form_class = SavedReplyForm
    index_view_class = SavedReplyIndexView
    add_view_class = CreateView
    edit_view_class = SavedReplyEditView
    delete_view_class = SavedReplyDeleteView
    permission_policy = saved_reply_permission_policy
    ordering = "title"
    search_fields = ["title", "body"]

    @cached_property
    def list_display(self):
        return [
            "title",
            Column("scope", label=_("Offered"), accessor=scope_label),
            Column("language", label=_("Language"), accessor=language_label),
            UpdatedAtColumn(),
        ]

    def get_common_view_kwargs(self, **kwargs):
        view_kwargs = super().get_common_view_kwargs(**kwargs)
        view_kwargs.update(history_url_name=None, usage_url_name=None)
        return view_kwargs


@hooks.register("register_admin_viewset")
def register_saved_reply_viewset():
    return SavedReplyViewSet()


@hooks.register("register_permissions")
def register_saved_reply_permissions():
    """Managing the shared saved replies, for Wagtail's group editor."""
    content_type = ContentType.objects.get_for_model(SavedReply)
    return Permission.objects.filter(
        content_type=content_type,
        codename__in=["add_savedreply", "change_savedreply", "delete_savedreply"],
    )


post_save.connect(forget_cached_replies, sender=SavedReply, dispatch_uid="wt_saved_reply_saved")
post_delete.connect(forget_cached_replies, sender=SavedReply, dispatch_uid="wt_saved_reply_gone")
