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
