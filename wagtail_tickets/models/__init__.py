from .accounts import CustomerSignup
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
from .mail import AutoReplyCounter, BouncingAddress, InboundMail, Mailbox, TicketMailId
from .pages import DepartmentPage, HelpdeskPage, TicketFormField
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
    "Priority",
    "SavedSearch",
    "StaffMember",
    "SupportAccount",
    "Star",
    "Status",
    "Ticket",
    "TicketFormField",
    "TicketSearch",
    "TicketView",
]
