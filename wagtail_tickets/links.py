"""Links to a ticket's customer page.

Every link that leaves the site (in a mail, or on the thanks page) starts from the
support centre's own full URL, which Wagtail builds from its Site record (hostname and
port in Settings → Sites): never from the Host header of the request that caused it,
which whoever sends the request chooses.

A ticket has several kinds of private link:

- the one given when it was filed: its hash is ``Ticket.access_token_hash``; it does not
  expire;
- links mailed by "find my ticket": ``AccessLink`` rows, each with its own expiry;
- signed links in notification e-mails (the raw tokens are never stored, so later mails
  cannot repeat them): they name the ticket and a prefix of ``access_token_hash``, and
  expire after ``MAIL_LINK_DAYS``.

Revoking a ticket's links (``workflow.revoke_access_links``) replaces
``access_token_hash`` and deletes the ``AccessLink`` rows, so all three kinds stop
working at once, and so do the session grants they gave.

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


def private_link_url(helpdesk, raw_token):
    """The absolute private link, or None while the support centre has no URL."""
    base = helpdesk.get_full_url()
    if not base:
        return None
    return base.rstrip("/") + "/" + access_path(helpdesk, raw_token)


def signed_token(ticket):
    value = signing.dumps([ticket.pk, ticket.access_token_hash[:20]], salt=_SALT, compress=False)
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def mail_link_url(ticket, helpdesk):
    return private_link_url(helpdesk, signed_token(ticket))


def mail_link_max_age():
    return conf.get("MAIL_LINK_DAYS") * 86400


def read_signed_token(token):
    """(ticket id, hash prefix, expiry as a Unix time) of a genuine, unexpired token, or None."""
    try:
        value = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        pk, hash_prefix = signing.loads(value, salt=_SALT, max_age=mail_link_max_age())
        signed_at = signing.b62_decode(value.rsplit(":", 2)[-2])
    except (signing.BadSignature, binascii.Error, TypeError, ValueError, IndexError):
        return None
    if not isinstance(pk, int) or not isinstance(hash_prefix, str) or not hash_prefix:
        return None
    return pk, hash_prefix, signed_at + mail_link_max_age()


def ticket_for_signed_token(token, queryset):
    """Return the ticket a signed token names, or None when it is forged, old or revoked."""
    found = read_signed_token(token)
    if found is None:
        return None
    pk, hash_prefix, _expires = found
    ticket = queryset.filter(pk=pk).first()
    if ticket is None or not ticket.access_token_hash.startswith(hash_prefix):
        return None
    return ticket


def admin_ticket_url(ticket):
    """The ticket's screen in the desk, for staff mail; None without an admin base URL.

    Built from ``WAGTAILADMIN_BASE_URL`` (Wagtail's own setting for links to the admin
    in mail), never from a request: mail is sent after the request, and a request's Host
    header is the visitor's to choose.
    """
    from django.urls import NoReverseMatch, reverse
    from wagtail.admin.utils import get_admin_base_url

    base = get_admin_base_url()
    if not base:
        return None
    try:
        path = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    except NoReverseMatch:
        return None
    return base.rstrip("/") + path


# --- rating links in the resolve mail ----------------------------------------------------

_RATING_SALT = "wagtail_tickets.rating_link"


def rating_token(message, score):
    """A signed, expiring token naming a staff reply and a score; base64url, as above."""
    value = signing.dumps([message.pk, int(score)], salt=_RATING_SALT, compress=False)
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def rating_link_url(helpdesk, message, score):
    """The absolute rating link, from the Site record as above, or None while the
    support centre has no URL."""
    base = helpdesk.get_full_url()
    if not base:
        return None
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
