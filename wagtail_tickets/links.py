"""Links to a ticket's customer page.

The private link's token is stored only as a hash, so later e-mails cannot repeat it.
They carry a signed link instead: it names the ticket and the current token hash, so it
stops working when the private link is replaced, and it expires.

The signed value is base64url-encoded: Django's signatures contain ":", which Wagtail's
page URL pattern does not accept, so a raw signature in the path never reaches the page.
"""

import base64
import binascii

from django.core import signing

from . import conf

_SALT = "wagtail_tickets.mail_link"


def access_path(helpdesk, token):
    return helpdesk.reverse_subpage("access_route", args=[token])


def private_link_url(helpdesk, raw_token, base_url=None):
    base = base_url or helpdesk.get_full_url()
    return base.rstrip("/") + "/" + access_path(helpdesk, raw_token)


def signed_token(ticket):
    value = signing.dumps([ticket.pk, ticket.access_token_hash[:20]], salt=_SALT, compress=False)
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def mail_link_url(ticket, helpdesk, base_url=None):
    return private_link_url(helpdesk, signed_token(ticket), base_url)


def ticket_for_signed_token(token, queryset):
    """Return the ticket a signed token names, or None when it is forged, old or replaced."""
    max_age = conf.get("MAIL_LINK_DAYS") * 86400
    try:
        value = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        pk, hash_prefix = signing.loads(value, salt=_SALT, max_age=max_age)
    except (signing.BadSignature, binascii.Error, TypeError, ValueError):
        return None
    ticket = queryset.filter(pk=pk).first()
    if ticket is None or not hash_prefix or not ticket.access_token_hash.startswith(hash_prefix):
        return None
    return ticket


# --- rating links in the resolve mail ----------------------------------------------------

_RATING_SALT = "wagtail_tickets.rating_link"


def rating_token(message, score):
    """A signed, expiring token naming a staff reply and a score; base64url, as above."""
    value = signing.dumps([message.pk, int(score)], salt=_RATING_SALT, compress=False)
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def rating_link_url(helpdesk, message, score, base_url=None):
    base = base_url or helpdesk.get_full_url()
    path = helpdesk.reverse_subpage("rate_route", args=[rating_token(message, score)])
    return base.rstrip("/") + "/" + path


def parse_rating_token(token):
    """(message id, score) of a rating token, or None when it is forged or expired."""
    max_age = conf.get("MAIL_LINK_DAYS") * 86400
    try:
        value = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        pk, score = signing.loads(value, salt=_RATING_SALT, max_age=max_age)
    except (signing.BadSignature, binascii.Error, TypeError, ValueError, UnicodeDecodeError):
        return None
    if not (isinstance(pk, int) and isinstance(score, int)):
        return None
    return pk, score
