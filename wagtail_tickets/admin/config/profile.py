"""Every staff member's own desk profile: signature, availability, notifications."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic.edit import UpdateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.log_actions import log

from ...models import StaffMember
from ..menu import HELPDESK_MENU_HOOK, desk_profile

PROFILE_URL_NAME = "wagtail_tickets_my_profile"


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
