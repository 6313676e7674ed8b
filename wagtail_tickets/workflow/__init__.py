"""The only code that changes a ticket's state.

Every function runs in one transaction, keeps the denormalised fields of ``Ticket``
right, writes Wagtail's audit log and sends its signal once the transaction has
committed. Views, forms, mail intake and commands call these; none of them writes
ticket fields or creates messages by hand.
"""

from .access import (
    find_access_link,
    issue_access_token,
    record_link_use,
    resume_mail,
    revoke_access_links,
)
from .assignment import assign, auto_assign
from .billing import BillingError, PaymentRequired, quote_for
from .desk import (
    delete_message,
    edit_message,
    merge,
    record_customer_view,
    record_view,
    update_fields,
)
from .knowledge import convert_to_article
from .ratings import rate, reopen_unhappy
from .tickets import (
    WorkflowError,
    change_status,
    close,
    new_access_token,
    next_code,
    open_ticket,
    post_reply,
    reopen,
)

__all__ = [
    "BillingError",
    "PaymentRequired",
    "WorkflowError",
    "assign",
    "auto_assign",
    "change_status",
    "close",
    "convert_to_article",
    "delete_message",
    "edit_message",
    "find_access_link",
    "issue_access_token",
    "merge",
    "new_access_token",
    "next_code",
    "open_ticket",
    "post_reply",
    "quote_for",
    "rate",
    "record_customer_view",
    "record_link_use",
    "record_view",
    "reopen",
    "resume_mail",
    "reopen_unhappy",
    "revoke_access_links",
    "update_fields",
]
