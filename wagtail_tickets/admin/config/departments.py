"""The "Departments" menu item: a shortcut to the support centre in the page explorer."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from ...models import HelpdeskPage
from ..menu import HELPDESK_MENU_HOOK

DEPARTMENTS_URL_NAME = "wagtail_tickets_departments"


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
