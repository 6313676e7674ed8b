"""The ticket screen, creating tickets for customers, transcripts.

Every view finds its ticket among ``visible_tickets(request.user)``: an agent who may not
see a ticket gets a 404, the same answer as for a code that does not exist. Every state
change is a POST (CSRF-checked by Django) that calls the workflow.

Importing this package registers the viewset and the "New ticket" menu item (viewset.py).
"""

from .actions import (
    AttachmentDownloadView,
    CloseView,
    LifecycleView,
    ReopenView,
    RevokeLinksView,
    StarView,
    TranscriptView,
)
from .common import (
    INBOX_URL_NAME,
    NAMESPACE,
    TicketMixin,
    TicketPostMixin,
    TicketSubpageMixin,
    agent_departments,
    attachment_rules,
    can,
    has_desk_access,
    inbox_url,
    settings_for_department,
    staff_profile,
    url,
)
from .create import CreateTicketView
from .detail import (
    OTHER_TICKETS_SHOWN,
    VIEWS_SHOWN,
    ReplyView,
    TicketDetailView,
    UpdateFieldsView,
    format_custom_value,
)
from .header import TicketHeaderMixin
from .history import FIELD_LABELS, HISTORY_SHOWN, TicketHistoryView, describe_entry, recent_entries
from .message_views import DeleteMessageView, EditMessageView, MessageMixin
from .navigation import DEFAULT_ORDERING, FALLBACK_SORTS, NavigateView, inbox_queryset, neighbours
from .viewset import (
    NewTicketMenuItem,
    TicketViewSet,
    register_new_ticket_menu_item,
    register_ticket_viewset,
)

__all__ = [
    "DEFAULT_ORDERING",
    "FALLBACK_SORTS",
    "FIELD_LABELS",
    "HISTORY_SHOWN",
    "INBOX_URL_NAME",
    "NAMESPACE",
    "OTHER_TICKETS_SHOWN",
    "VIEWS_SHOWN",
    "AttachmentDownloadView",
    "CloseView",
    "CreateTicketView",
    "DeleteMessageView",
    "EditMessageView",
    "LifecycleView",
    "MessageMixin",
    "NavigateView",
    "NewTicketMenuItem",
    "ReopenView",
    "ReplyView",
    "RevokeLinksView",
    "StarView",
    "TicketDetailView",
    "TicketHeaderMixin",
    "TicketHistoryView",
    "TicketMixin",
    "TicketPostMixin",
    "TicketSubpageMixin",
    "TicketViewSet",
    "TranscriptView",
    "UpdateFieldsView",
    "agent_departments",
    "attachment_rules",
    "can",
    "describe_entry",
    "format_custom_value",
    "has_desk_access",
    "inbox_queryset",
    "inbox_url",
    "neighbours",
    "recent_entries",
    "register_new_ticket_menu_item",
    "register_ticket_viewset",
    "settings_for_department",
    "staff_profile",
    "url",
]
