from .access import AccessLink
from .audit import TicketLogEntry
from .desk import SavedSearch, Star, TicketView
from .knowledge import (
    ArticlePage,
    ArticlePageTag,
    ArticleVote,
    KnowledgeBaseIndexPage,
    RelatedArticle,
    SuggestionStat,
)
from .limits import RateLimitLock, UsedFormToken
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
    "AccessLink",
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
    "RateLimitLock",
    "SavedSearch",
    "StaffMember",
    "Star",
    "Status",
    "Ticket",
    "TicketFormField",
    "TicketLogEntry",
    "TicketView",
    "UsedFormToken",
]
