"""How the customer is reached: private links (issuing more, using them, revoking them
all) and mail to an address that bounced."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from wagtail.log_actions import log

from .. import conf
from ..models import AccessLink, Ticket
from ..models.tickets import hash_token
from .tickets import new_access_token


@transaction.atomic
def issue_access_token(ticket, *, days=None, user=None, raw=None):
    """Issue one more private link to ``ticket`` and return its raw token.

    The ticket's other links keep working: this is what "find my ticket" mails, and
    anyone who knows an address can ask for that. The new link expires after ``days``
    (``LOOKUP_LINK_DAYS`` by default; 0 or None in the setting: never). ``raw`` is the
    token to issue, when the caller made an unguessable one itself; else a random one.
    """
    days = conf.get("LOOKUP_LINK_DAYS") if days is None else days
    now = timezone.now()
    if raw is None:
        raw, token_hash = new_access_token()
    else:
        token_hash = hash_token(raw)
    # Links that can no longer open anything only take space.
    AccessLink.objects.filter(ticket=ticket, expires_at__lte=now).delete()
    AccessLink.objects.create(
        ticket=ticket,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    log(ticket, "wagtail_tickets.ticket.link_issued", user=user, data={"days": days or None})
    return raw


def find_access_link(raw_token):
    """The valid ``AccessLink`` of ``raw_token`` with its ticket, or None."""
    if not raw_token:
        return None
    return (
        AccessLink.objects.valid()
        .select_related("ticket")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )


def record_link_use(link):
    """Note when a mailed link was last opened (what a customer asks about a link)."""
    now = timezone.now()
    AccessLink.objects.filter(pk=link.pk).update(last_used_at=now)
    link.last_used_at = now


@transaction.atomic
def revoke_access_links(ticket, *, user=None):
    """Make every private link of ``ticket`` stop working, with the sessions they opened.

    The link the ticket was filed with is replaced by one nobody knows (its hash is also
    what signed mail links and session grants name), and the mailed links are deleted.
    The customer gets new links through "find my ticket".
    """
    from .rules import check_may_work_on

    check_may_work_on(user, ticket)
    _raw, token_hash = new_access_token()
    Ticket.objects.filter(pk=ticket.pk).update(access_token_hash=token_hash)
    ticket.access_token_hash = token_hash
    deleted, _rows = AccessLink.objects.filter(ticket=ticket).delete()
    log(ticket, "wagtail_tickets.ticket.links_revoked", user=user, data={"mailed_links": deleted})
    return deleted


@transaction.atomic
def resume_mail(ticket, *, user=None):
    """Send mail to the ticket's customer address again after it bounced.

    A delivery failure stops all mail to an address until it writes again
    (``mail.loops``); an agent who knows the mailbox works again (the customer said so
    by phone) lifts that here. Returns whether the address was marked.
    """
    from ..models import BouncingAddress
    from .rules import check_may_work_on

    check_may_work_on(user, ticket)
    address = (ticket.customer_email or "").lower()
    resumed = BouncingAddress.clear(address)
    if resumed:
        log(ticket, "wagtail_tickets.ticket.mail_resumed", user=user, data={"address": address})
    return resumed
