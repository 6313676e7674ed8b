from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.base import ViewSetGroup

#: Viewsets set ``menu_hook = HELPDESK_MENU_HOOK`` to appear in the Helpdesk menu;
#: a hook function of this name may also return a plain MenuItem.
HELPDESK_MENU_HOOK = "register_helpdesk_menu_item"


class HelpdeskViewSetGroup(ViewSetGroup):
    menu_label = _("Helpdesk")
    menu_icon = "help"
    menu_name = "helpdesk"
    menu_order = 150
    submenu_hook = HELPDESK_MENU_HOOK
    items = ()
