"""The ticket screen's URLs and its "New ticket" menu item, registered by hooks."""

from django.urls import path, reverse_lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

from ..menu import HELPDESK_MENU_HOOK
from .actions import (
    AttachmentDownloadView,
    CloseView,
    ReopenView,
    ResumeMailView,
    RevokeLinksView,
    StarView,
    TranscriptView,
)
from .common import NAMESPACE, has_desk_access
from .create import CreateTicketView
from .detail import DiscardDraftView, ReplyView, TicketDetailView, UpdateFieldsView
from .history import TicketHistoryView
from .message_views import DeleteMessageView, EditMessageView
from .navigation import NavigateView


class TicketViewSet(ViewSet):
    name = NAMESPACE
    icon = "help"
    add_to_admin_menu = False

    def get_urlpatterns(self):
        # Imported here: the knowledge views build on this module's TicketMixin.
        from ..knowledge import CreateArticleView, KnowledgeSearchView

        history = dict(
            history_url_name=f"{NAMESPACE}:history",
            history_results_url_name=f"{NAMESPACE}:history_results",
        )
        return [
            path("new/", CreateTicketView.as_view(), name="create"),
            path("kb-search/", KnowledgeSearchView.as_view(), name="kb_search"),
            path("<int:pk>/article/", CreateArticleView.as_view(), name="create_article"),
            path("<int:pk>/", TicketDetailView.as_view(), name="detail"),
            path("<int:pk>/reply/", ReplyView.as_view(), name="reply"),
            path("<int:pk>/fields/", UpdateFieldsView.as_view(), name="update"),
            path("<int:pk>/draft/discard/", DiscardDraftView.as_view(), name="discard_draft"),
            path("<int:pk>/close/", CloseView.as_view(), name="close"),
            path("<int:pk>/reopen/", ReopenView.as_view(), name="reopen"),
            path("<int:pk>/star/", StarView.as_view(), name="star"),
            path("<int:pk>/revoke-links/", RevokeLinksView.as_view(), name="revoke_links"),
            path("<int:pk>/resume-mail/", ResumeMailView.as_view(), name="resume_mail"),
            path("<int:pk>/pdf/", TranscriptView.as_view(), name="pdf"),
            path("<int:pk>/next/", NavigateView.as_view(direction="next"), name="next"),
            path("<int:pk>/previous/", NavigateView.as_view(direction="previous"), name="previous"),
            path(
                "<int:pk>/messages/<int:message_pk>/edit/",
                EditMessageView.as_view(),
                name="edit_message",
            ),
            path(
                "<int:pk>/messages/<int:message_pk>/delete/",
                DeleteMessageView.as_view(),
                name="delete_message",
            ),
            path(
                "<int:pk>/files/<int:attachment_pk>/",
                AttachmentDownloadView.as_view(),
                name="attachment",
            ),
            path("<int:pk>/history/", TicketHistoryView.as_view(**history), name="history"),
            path(
                "<int:pk>/history/results/",
                TicketHistoryView.as_view(results_only=True, **history),
                name="history_results",
            ),
        ]


class NewTicketMenuItem(MenuItem):
    def is_shown(self, request):
        return has_desk_access(request.user)


@hooks.register("register_admin_viewset")
def register_ticket_viewset():
    return TicketViewSet()


@hooks.register(HELPDESK_MENU_HOOK)
def register_new_ticket_menu_item():
    return NewTicketMenuItem(
        capfirst(_("New ticket")),
        reverse_lazy(f"{NAMESPACE}:create"),
        name="helpdesk-new-ticket",
        icon_name="plus",
        order=150,
    )
