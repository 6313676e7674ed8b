"""Signals the workflow sends after its transaction has committed."""

from django.dispatch import Signal

# kwargs: ticket, message, raw_token (the private link's token, only in this signal)
ticket_opened = Signal()
# kwargs: ticket, message
reply_posted = Signal()
# kwargs: ticket, old_status, new_status, user
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
