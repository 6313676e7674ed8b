from .accounts import CustomerSignup
from .billing import IncidentGrant, IncidentPack, LedgerEntry, SupportAccount
from .desk import SavedSearch, Star, TicketView
from .knowledge import (
    ArticlePage,
    ArticlePageTag,
    ArticleVote,
    KnowledgeBaseIndexPage,
    RelatedArticle,
    SuggestionStat,
)
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
    "ArticlePage",
    "ArticlePageTag",
    "ArticleVote",
    "KnowledgeBaseIndexPage",
    "RelatedArticle",
    "SuggestionStat",
    "Attachment",
    "CustomerSignup",
    "DepartmentCounter",
    "DepartmentPage",
    "HelpdeskPage",
    "HelpdeskSettings",
    "IncidentGrant",
    "IncidentPack",
    "LedgerEntry",
    "Message",
    "Priority",
    "SavedSearch",
    "StaffMember",
    "SupportAccount",
    "Star",
    "Status",
    "Ticket",
    "TicketFormField",
    "TicketView",
]
