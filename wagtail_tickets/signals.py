"""Signals the workflow sends after its transaction has committed."""

from django.dispatch import Signal

# kwargs: ticket, message, raw_token (the private link's token, only in this signal)
ticket_opened = Signal()
# kwargs: ticket, message
reply_posted = Signal()
# kwargs: ticket, old_status, new_status, user
status_changed = Signal()
