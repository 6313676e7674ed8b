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
from .ratings import ActivityRollup, DurationRollup, Rating, TopicRollup
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
    "ActivityRollup",
    "DurationRollup",
    "Rating",
    "TopicRollup",
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
