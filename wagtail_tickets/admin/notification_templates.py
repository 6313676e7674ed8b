"""Helpdesk → Notification templates: what the helpdesk's mails say, per event and language.

- The listing shows every event (``mail/events.py``) in every language of
  ``settings.LANGUAGES``, and whether an editor has changed it.
- The edit screen offers the subject, the text body and an optional HTML body, with the
  event's placeholders beside them; "Preview" renders the unsaved text with sample data
  or with one of the desk's tickets the user may see; "Send me a test" mails it to the
  user's own address (rate-limited); "Reset to default" deletes the stored template
  after a confirmation, so the shipped files are used again.

Only superusers and holders of ``manage_notification_templates`` get in (403 for the
rest). Saving, resetting and test mails are written to Wagtail's log.
"""

import logging
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from .. import conf, notifications
from ..mail import compose, events, samples
from ..mail.headers import new_message_id
from ..models import NotificationTemplate
from ..permissions import visible_tickets
from .menu import HELPDESK_MENU_HOOK

MANAGE_PERMISSION = "wagtail_tickets.manage_notification_templates"
TEST_ACTION = "wagtail_tickets.notification_template.test"
RESET_ACTION = "wagtail_tickets.notification_template.reset"
MAX_BODY = 20000

logger = logging.getLogger(__name__)


def can_manage(user):
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm(MANAGE_PERMISSION))
    )


def _require(request):
    if not can_manage(request.user):
        raise PermissionDenied


def languages():
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def _event_and_language(event_name, language):
    event = events.get(event_name)
    if event is None or language not in dict(settings.LANGUAGES):
        raise Http404
    return event, language


# --- the form ------------------------------------------------------------------------------


class TemplateForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject"),
        max_length=255,
        widget=forms.TextInput(attrs={"spellcheck": "true"}),
    )
    text_body = forms.CharField(
        label=_("Text body"),
        max_length=MAX_BODY,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "true"}),
        help_text=_("What every mail client shows; required."),
    )
    html_body = forms.CharField(
        label=_("HTML body"),
        max_length=MAX_BODY,
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text=_(
            "Optional. An HTML fragment (no <html> or <head>): mail clients that show HTML "
            "show it instead of the text. Scripts, forms and event handlers are removed."
        ),
    )
    preview_ticket = forms.CharField(
        label=_("Preview with ticket"),
        max_length=30,
        required=False,
        help_text=_("The code of a ticket you may see; empty for sample data."),
    )

    def __init__(self, *args, event, user, **kwargs):
        self.event = event
        self.user = user
        super().__init__(*args, **kwargs)
        if not event.ticket_preview:
            del self.fields["preview_ticket"]

    def clean_preview_ticket(self):
        code = " ".join((self.cleaned_data.get("preview_ticket") or "").split()).upper()
        if not code:
            return None
        ticket = (
            visible_tickets(self.user)
            .select_related("status", "priority", "department", "assignee")
            .filter(code=code)
            .first()
        )
        if ticket is None:
            raise forms.ValidationError(gettext("No ticket with this code that you may see."))
        return ticket

    def clean(self):
        cleaned = super().clean()
        if {"subject", "text_body"} <= set(cleaned):
            errors = compose.field_errors(
                self.event,
                cleaned["subject"],
                cleaned["text_body"],
                cleaned.get("html_body", ""),
            )
            for field, field_messages in errors.items():
                for message in field_messages:
                    self.add_error(field, message)
        return cleaned


# --- rendering previews ----------------------------------------------------------------------


def preview_context(event, language, ticket=None):
    with translation.override(language):
        if ticket is not None:
            return samples.for_ticket(event, ticket)
        return samples.sample(event)


def render_preview(event, language, context, row=None, fields=None):
    """What the mail says: ``fields`` (unsaved), else the stored template, else the files."""
    with translation.override(language):
        if fields is not None:
            return compose.render_editable(
                event,
                context,
                language,
                fields["subject"],
                fields["text_body"],
                fields.get("html_body", ""),
            )
        if row is not None and not compose.problems(
            event, row.subject, row.text_body, row.html_body
        ):
            return compose.render_editable(
                event, context, language, row.subject, row.text_body, row.html_body, row
            )
        return compose.render_shipped(event.name, context)


def starting_text(event, language):
    with translation.override(language):
        return {"subject": str(event.subject), "text_body": str(event.body), "html_body": ""}


# --- views --------------------------------------------------------------------------------------


def index_view(request):
    _require(request)
    stored = {
        (row.event, row.language): row
        for row in NotificationTemplate.objects.select_related("updated_by")
    }
    langs = languages()
    groups = []
    for group, group_label in events.GROUPS.items():
        rows = []
        for event in events.EVENTS:
            if event.group != group:
                continue
            cells = []
            for code, name in langs:
                row = stored.get((event.name, code))
                cells.append(
                    {
                        "language": name,
                        "row": row,
                        "broken": row is not None
                        and compose.problems(event, row.subject, row.text_body, row.html_body),
                        "url": reverse(
                            "helpdesk_notification_templates:edit", args=[event.name, code]
                        ),
                    }
                )
            rows.append({"event": event, "cells": cells})
        groups.append({"label": group_label, "rows": rows})
    return TemplateResponse(
        request,
        "wagtail_tickets/admin/notification_templates/index.html",
        {
            "page_title": gettext("Notification templates"),
            "header_icon": "mail",
            "groups": groups,
            "languages": langs,
        },
    )


def edit_view(request, event_name, language):
    _require(request)
    event, language = _event_and_language(event_name, language)
    row = NotificationTemplate.objects.filter(event=event.name, language=language).first()
    if row is not None:
        initial = {"subject": row.subject, "text_body": row.text_body, "html_body": row.html_body}
    else:
        initial = starting_text(event, language)
    preview = preview_error = None
    preview_source = "current"
    if request.method == "POST":
        action = request.POST.get("action", "save")
        form = TemplateForm(request.POST, event=event, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            if action == "save":
                row = save_template(request.user, event, language, row, data)
                messages.success(
                    request,
                    gettext("“%(event)s” (%(language)s) saved; mails use it from now on.")
                    % {"event": event.label, "language": dict(languages())[language]},
                )
                return redirect("helpdesk_notification_templates:edit", event.name, language)
            context = preview_context(event, language, data.get("preview_ticket"))
            preview = render_preview(event, language, context, fields=data)
            preview_source = "form"
            if action == "test":
                send_test(request, event, language, preview)
        else:
            preview_error = True
    else:
        form = TemplateForm(initial=initial, event=event, user=request.user)
        preview = render_preview(event, language, preview_context(event, language), row=row)
    return TemplateResponse(
        request,
        "wagtail_tickets/admin/notification_templates/edit.html",
        {
            "page_title": event.label,
            "page_subtitle": dict(languages())[language],
            "header_icon": "mail",
            "event": event,
            "language": language,
            "language_name": dict(languages())[language],
            "row": row,
            "broken": row is not None
            and compose.problems(event, row.subject, row.text_body, row.html_body),
            "form": form,
            "preview": preview,
            "preview_source": preview_source,
            "preview_error": preview_error,
            "index_url": reverse("helpdesk_notification_templates:index"),
            "reset_url": reverse(
                "helpdesk_notification_templates:reset", args=[event.name, language]
            ),
            "breadcrumbs_items": [
                {
                    "url": reverse("helpdesk_notification_templates:index"),
                    "label": gettext("Notification templates"),
                },
                {"url": "", "label": event.label},
            ],
        },
    )


def save_template(user, event, language, row, data):
    with transaction.atomic():
        created = row is None
        if created:
            row = NotificationTemplate(event=event.name, language=language)
        row.subject = data["subject"]
        row.text_body = data["text_body"].replace("\r\n", "\n")
        row.html_body = (data.get("html_body") or "").replace("\r\n", "\n")
        row.updated_by = user
        row.save()
        log(
            instance=row,
            action="wagtail.create" if created else "wagtail.edit",
            user=user,
            title=_log_title(event, language),
        )
    return row


def _log_title(event, language):
    return f"{event.label} ({dict(languages())[language]})"


def take_test_slot(user, event, language):
    """Count a test mail against the user's hourly limit and log it; False when the
    limit is reached. The user's row is locked while counting, so concurrent requests
    cannot both take the last slot."""
    limit = conf.get("NOTIFICATION_TEST_MAILS_PER_HOUR")
    with transaction.atomic():
        get_user_model()._default_manager.select_for_update().filter(pk=user.pk).first()
        if limit is not None and limit >= 0:
            since = timezone.now() - timedelta(hours=1)
            sent = ModelLogEntry.objects.filter(
                action=TEST_ACTION, user_id=user.pk, timestamp__gte=since
            ).count()
            if sent >= limit:
                return False
        log(
            instance=user,
            action=TEST_ACTION,
            user=user,
            title=_log_title(event, language),
            data={"event": event.name, "language": language},
        )
    return True


def send_test(request, event, language, composed):
    user = request.user
    if not user.email:
        messages.error(request, gettext("Your account has no e-mail address to send a test to."))
        return 0
    if not take_test_slot(user, event, language):
        messages.error(
            request,
            gettext("You have sent as many test mails as allowed for now; try again later."),
        )
        return 0
    with translation.override(language):
        composed.subject = gettext("[Test] %(subject)s") % {"subject": composed.subject}
    from_email = notifications.from_email()
    # Replies to a test come back to its reader, never to the helpdesk's mailbox, where a
    # ticket code in the subject could make them a reply on a customer's ticket.
    message = composed.message(
        from_email,
        [user.email],
        reply_to=[user.email],
        headers={
            "Message-ID": new_message_id(from_email=from_email),
            "Auto-Submitted": "auto-generated",
        },
    )
    try:
        sent = message.send()
    except Exception:
        logger.exception("Could not send a test of the notification template %s", event.name)
        sent = 0
    if sent:
        messages.success(
            request, gettext("A test mail was sent to %(email)s.") % {"email": user.email}
        )
    else:
        messages.error(request, gettext("The mail server did not take the test mail."))
    return sent


def reset_view(request, event_name, language):
    _require(request)
    event, language = _event_and_language(event_name, language)
    row = NotificationTemplate.objects.filter(event=event.name, language=language).first()
    edit_url = reverse("helpdesk_notification_templates:edit", args=[event.name, language])
    if row is None:
        messages.info(request, gettext("This mail already uses the shipped default."))
        return redirect(edit_url)
    if request.method == "POST":
        with transaction.atomic():
            log(
                instance=row,
                action=RESET_ACTION,
                user=request.user,
                title=_log_title(event, language),
            )
            row.delete()
        messages.success(
            request,
            gettext("“%(event)s” (%(language)s) is back to the shipped default.")
            % {"event": event.label, "language": dict(languages())[language]},
        )
        return redirect(edit_url)
    return TemplateResponse(
        request,
        "wagtail_tickets/admin/notification_templates/reset.html",
        {
            "page_title": gettext("Reset to default"),
            "page_subtitle": f"{event.label} ({dict(languages())[language]})",
            "header_icon": "mail",
            "event": event,
            "row": row,
            "language_name": dict(languages())[language],
            "edit_url": edit_url,
        },
    )


# --- registration ----------------------------------------------------------------------------


class NotificationTemplatesMenuItem(MenuItem):
    def is_shown(self, request):
        return can_manage(request.user)


class NotificationTemplateViewSet(ViewSet):
    name = "helpdesk_notification_templates"
    url_prefix = "helpdesk/notification-templates"
    icon = "mail"
    menu_label = _("Notification templates")
    menu_name = "helpdesk_notification_templates"
    menu_order = 110
    menu_hook = HELPDESK_MENU_HOOK

    @cached_property
    def menu_item_class(self):
        return NotificationTemplatesMenuItem

    @property
    def menu_url(self):
        return reverse("helpdesk_notification_templates:index")

    def get_urlpatterns(self):
        return [
            path("", index_view, name="index"),
            path("<slug:event_name>/<str:language>/", edit_view, name="edit"),
            path("<slug:event_name>/<str:language>/reset/", reset_view, name="reset"),
        ]


@hooks.register("register_admin_viewset")
def register_notification_template_viewset():
    return NotificationTemplateViewSet()


@hooks.register("register_permissions")
def register_notification_template_permissions():
    return Permission.objects.filter(
        content_type=ContentType.objects.get_for_model(NotificationTemplate),
        codename="manage_notification_templates",
    )


@hooks.register("register_log_actions")
def register_notification_template_log_actions(actions):
    actions.register_action(
        TEST_ACTION, _("Test notification sent"), _("A test of a notification template was sent")
    )
    actions.register_action(
        RESET_ACTION,
        _("Notification template reset"),
        _("A notification template was reset to the shipped default"),
    )
