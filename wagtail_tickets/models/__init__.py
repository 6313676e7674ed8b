from .access import AccessLink
from .accounts import CustomerSignup
from .audit import TicketLogEntry
from .billing import IncidentGrant, IncidentPack, LedgerEntry, SupportAccount
from .desk import SavedSearch, Star, TicketView
from .digests import ReplyDigest
from .knowledge import (
    ArticlePage,
    ArticlePageTag,
    ArticleVote,
    KnowledgeBaseIndexPage,
    RelatedArticle,
    SuggestionStat,
)
from .limits import RateLimitLock, UsedFormToken
from .mail import AutoReplyCounter, BouncingAddress, InboundMail, Mailbox, TicketMailId
from .notifications import NotificationTemplate
from .pages import DepartmentPage, HelpdeskPage, TicketFormField
from .ratings import ActivityRollup, DurationRollup, Rating, TopicRollup
from .replies import ReplyDraft, SavedReply
from .search import TicketSearch  # noqa: E402  (after Ticket, which it points to)
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
    "AutoReplyCounter",
    "BouncingAddress",
    "InboundMail",
    "Mailbox",
    "TicketMailId",
    "ActivityRollup",
    "DurationRollup",
    "Rating",
    "TopicRollup",
    "ArticlePage",
    "ArticlePageTag",
    "ArticleVote",
    "KnowledgeBaseIndexPage",
    "RelatedArticle",
    "ReplyDigest",
    "ReplyDraft",
    "SavedReply",
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
    "NotificationTemplate",
    "Priority",
    "RateLimitLock",
    "SavedSearch",
    "StaffMember",
    "SupportAccount",
    "Star",
    "Status",
    "Ticket",
    "TicketFormField",
    "TicketSearch",
    "TicketLogEntry",
    "TicketView",
    "UsedFormToken",
]
