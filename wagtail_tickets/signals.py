"""Signals the workflow sends after its transaction has committed."""

from django.dispatch import Signal

# kwargs: ticket, message, raw_token (the private link's token, only in this signal)
ticket_opened = Signal()
# kwargs: ticket, message; notify=False when the caller mails the people concerned itself
reply_posted = Signal()
# kwargs: ticket, old_status, new_status, user; notify as in reply_posted
status_changed = Signal()
# kwargs: ticket, assignee, previous, user, automatic
ticket_assigned = Signal()
# kwargs: ticket, changes ({field: (old, new)}), user
ticket_updated = Signal()
# kwargs: target, sources, user
tickets_merged = Signal()
# kwargs: ticket, page (the draft ArticlePage), user
article_drafted = Signal()
# kwargs: ticket, rating, created, reopened (the score reopened the ticket), user
ticket_rated = Signal()
# kwargs: ticket, rating, user (the customer reopened the ticket after rating it 1 or 2)
unhappy_reopened = Signal()

# Paid support (sender: SupportAccount)
# kwargs: account, entries (the ledger entries written), user
ledger_changed = Signal()
# kwargs: grant (an IncidentGrant with incidents left that expires within days; once each)
grant_expiring = Signal()
# kwargs: user, helpdesk (the support centre where they signed up), language
customer_signed_up = Signal()
# kwargs: user
customer_verified = Signal()
# kwargs: user, tickets (anonymous tickets from the user's address that joined the account)
tickets_claimed = Signal()
