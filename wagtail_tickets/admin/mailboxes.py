"""Helpdesk → Mailboxes, and the original of an e-mail for staff.

Mailboxes are configuration: saved here, read by the intake. Only superusers and holders
of ``manage_mailboxes`` see them. The password is a write-only field: it is stored
encrypted (mail/secrets.py) and never rendered back, in the form or anywhere else.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn
from wagtail.admin.views.generic import EditView
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from ..downloads import attachment_response
from ..mail import authres, fetch
from ..mail.secrets import PasswordUnavailable, encrypt
from ..models import DepartmentPage, InboundMail, Mailbox, Message
from ..permissions import staff_can_access
from .config.common import HelpdeskViewSet
from .menu import is_desk_user

MANAGE_PERMISSION = "wagtail_tickets.manage_mailboxes"


class MailboxPermissionPolicy(ModelPermissionPolicy):
    """Every action on mailboxes needs ``manage_mailboxes`` (or a superuser)."""

    def user_has_permission(self, user, action):
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and (user.is_superuser or user.has_perm(MANAGE_PERMISSION))
        )

    def user_has_any_permission(self, user, actions):
        return self.user_has_permission(user, "manage")

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return self.user_has_permission(user, "manage")

    def instances_user_has_any_permission_for(self, user, actions):
        if self.user_has_permission(user, "manage"):
            return Mailbox.objects.all()
        return Mailbox.objects.none()


mailbox_permission_policy = MailboxPermissionPolicy(Mailbox)
# Registered on import, before the viewset asks the registry (as config/policies.py does).
register_permission_policy(Mailbox, mailbox_permission_policy)


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, page):
        return page.title


class MailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown again. Leave empty to keep the stored one."),
    )
    forget_password = forms.BooleanField(label=_("Forget the stored password"), required=False)
    department = DepartmentChoiceField(
        label=_("Department for new tickets"), queryset=DepartmentPage.objects.none()
    )

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "address",
            "active",
            "department",
            "unknown_senders",
            "protocol",
            "host",
            "port",
            "security",
            "username",
            "password",
            "forget_password",
            "password_env",
            "folder",
            "after_fetch",
            "move_to_folder",
        ]

    def __init__(self, *args, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = DepartmentPage.objects.order_by("path")
        if not self.instance.password_encrypted:
            del self.fields["forget_password"]
            self.fields["password"].help_text = _("Stored encrypted and never shown again.")

    def clean(self):
        cleaned = super().clean()
        protocol = cleaned.get("protocol")
        has_password = bool(
            cleaned.get("password")
            or cleaned.get("password_env")
            or (self.instance.password_encrypted and not cleaned.get("forget_password"))
        )
        if protocol in (Mailbox.Protocol.IMAP, Mailbox.Protocol.POP3) and not has_password:
            self.add_error(
                "password", _("Enter the password, or the environment variable that holds it.")
            )
        return cleaned

    def save(self, commit=True):
        instance = super().save(commit=False)
        if self.cleaned_data.get("password"):
            instance.password_encrypted = encrypt(self.cleaned_data["password"])
        elif self.cleaned_data.get("forget_password"):
            instance.password_encrypted = ""
        if commit:
            instance.save()
        return instance


class LastErrorColumn(Column):
    def get_value(self, instance):
        text = instance.last_error or ""
        return text if len(text) <= 80 else text[:79] + "…"


class MailboxEditView(EditView):
    template_name = "wagtail_tickets/admin/mailbox_edit.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["test_url"] = reverse("helpdesk_mailboxes:test", args=[self.object.pk])
        context["can_test"] = self.object.fetches
        context["trusted_servers"] = sorted(authres.trusted_ids())
        return context


class MailboxViewSet(HelpdeskViewSet):
    model = Mailbox
    name = "helpdesk_mailboxes"
    url_prefix = "helpdesk/mailboxes"
    icon = "mail"
    menu_label = _("Mailboxes")
    menu_name = "helpdesk_mailboxes"
    menu_order = 100
    form_class = MailboxForm
    edit_view_class = MailboxEditView
    ordering = "name"
    list_display = [
        "name",
        Column("address", label=_("Address")),
        Column("protocol", label=_("Protocol"), accessor="get_protocol_display"),
        Column("department", label=_("Department")),
        BooleanColumn("active", label=_("Active")),
        DateColumn("last_success_at", label=_("Last success")),
        LastErrorColumn("last_error", label=_("Last error")),
    ]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("<int:pk>/test/", test_connection_view, name="test"),
        ]


@require_POST
def test_connection_view(request, pk):
    if not mailbox_permission_policy.user_has_permission(request.user, "change"):
        raise PermissionDenied
    mailbox = get_object_or_404(Mailbox, pk=pk)
    edit_url = reverse("helpdesk_mailboxes:edit", args=[mailbox.pk])
    if not mailbox.fetches:
        messages.error(request, gettext("Mail server delivers into this mailbox: nothing to test."))
        return redirect(edit_url)
    try:
        count = fetch.check_connection(mailbox)
    except (fetch.MailServerError, PasswordUnavailable) as exc:
        Mailbox.objects.filter(pk=mailbox.pk).update(last_error=str(exc)[:2000])
        messages.error(
            request,
            gettext("The connection failed: %(error)s") % {"error": exc},
        )
    else:
        messages.success(
            request,
            gettext("Connected and logged in; %(count)s messages are waiting.") % {"count": count},
        )
    return redirect(edit_url)


# --- the original of a mail, for staff ---------------------------------------------------


def _inbound_for(request, message_pk):
    message = get_object_or_404(Message.objects.select_related("ticket"), pk=message_pk)
    if not (is_desk_user(request.user) and staff_can_access(request.user, message.ticket)):
        raise Http404
    inbound = InboundMail.objects.filter(message=message).first()
    if inbound is None:
        raise Http404
    return message, inbound


def original_view(request, message_pk):
    message, inbound = _inbound_for(request, message_pk)
    return TemplateResponse(
        request,
        "wagtail_tickets/admin/mail_original.html",
        {
            "message": message,
            "ticket": message.ticket,
            "inbound": inbound,
            "page_title": gettext("Original e-mail"),
            "ticket_url": reverse("helpdesk_tickets:detail", args=[message.ticket_id]),
            "download_url": reverse("wagtail_tickets_mail_original_eml", args=[message.pk]),
        },
    )


class _Original:
    """What downloads.attachment_response needs, for the stored .eml."""

    content_type = "message/rfc822"

    def __init__(self, inbound, message):
        self.file = inbound.original
        self.original_name = f"{message.ticket.code}-{message.pk}.eml"


def original_download_view(request, message_pk):
    message, inbound = _inbound_for(request, message_pk)
    if not inbound.original:
        raise Http404
    return attachment_response(_Original(inbound, message))


@hooks.register("register_admin_urls")
def register_mail_urls():
    return [
        path(
            "helpdesk/mail/<int:message_pk>/",
            original_view,
            name="wagtail_tickets_mail_original",
        ),
        path(
            "helpdesk/mail/<int:message_pk>/original.eml",
            original_download_view,
            name="wagtail_tickets_mail_original_eml",
        ),
    ]


@hooks.register("register_admin_viewset")
def register_mailbox_viewset():
    return MailboxViewSet()
