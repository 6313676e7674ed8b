from .desk import SavedSearch, Star, TicketView
from .knowledge import (
    ArticlePage,
    ArticlePageTag,
    ArticleVote,
    KnowledgeBaseIndexPage,
    RelatedArticle,
    SuggestionStat,
)
from .mail import AutoReplyCounter, BouncingAddress, InboundMail, Mailbox, TicketMailId
from .pages import DepartmentPage, HelpdeskPage, TicketFormField
from .settings import HelpdeskSettings
from .staff import StaffMember
from .tickets import (
    Attachment,
    DepartmentCounter,
    Message,
    Priority,
    Status,
    Ticket,
)

__all__ = [
    "AutoReplyCounter",
    "BouncingAddress",
    "InboundMail",
    "Mailbox",
    "TicketMailId",
    "ArticlePage",
    "ArticlePageTag",
    "ArticleVote",
    "KnowledgeBaseIndexPage",
    "RelatedArticle",
    "SuggestionStat",
    "Attachment",
    "DepartmentCounter",
    "DepartmentPage",
    "HelpdeskPage",
    "HelpdeskSettings",
    "Message",
    "Priority",
    "SavedSearch",
    "StaffMember",
    "Star",
    "Status",
    "Ticket",
    "TicketFormField",
    "TicketView",
]
