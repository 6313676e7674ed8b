"""Mail that must not be answered, bounces, the helpdesk's own addresses, reply limits.

RFC 3834 asks automatic responders never to answer automatic mail; that alone stops two
well-behaved systems from answering each other. The hourly limit per address stops the
rest: a responder that marks nothing and threads nothing gets at most that many answers.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .. import conf
from ..models import AutoReplyCounter, BouncingAddress, Mailbox

_BULK_PRECEDENCE = {"bulk", "junk", "list"}
_ROBOT_LOCAL_PARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}


def own_addresses():
    """Every address the helpdesk sends from or reads, lower-cased."""
    addresses = {
        address.lower() for address in Mailbox.objects.values_list("address", flat=True) if address
    }
    for value in (
        conf.get("FROM_EMAIL"),
        getattr(settings, "DEFAULT_FROM_EMAIL", None),
        getattr(settings, "SERVER_EMAIL", None),
    ):
        if value:
            from email.utils import parseaddr

            address = parseaddr(value)[1].lower()
            if address:
                addresses.add(address)
    return addresses


def is_robot_sender(address):
    local = (address or "").split("@", 1)[0].lower()
    return local in _ROBOT_LOCAL_PARTS or local.startswith("mailer-daemon")


def never_answer_reason(parsed):
    """Why ``parsed`` must not get an automatic answer, or "" when it may."""
    headers = parsed.headers
    auto_submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"[:255]
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress", "list-id"):
        if name in headers:
            return name
    if "return-path" in headers and headers["return-path"].strip() in ("", "<>"):
        return "empty Return-Path"
    if is_robot_sender(parsed.from_address):
        return "mailer-daemon sender"
    return ""


def record_bounces(report):
    """Mark the addresses a delivery report says failed; returns them."""
    now = timezone.now()
    marked = []
    for address, status in report.failed:
        address = address.strip().lower()[:254]
        if "@" not in address:
            continue
        updated = BouncingAddress.objects.filter(email=address).update(
            bounces=F("bounces") + 1, last_bounce_at=now, status=status
        )
        if not updated:
            try:
                with transaction.atomic():
                    BouncingAddress.objects.create(email=address, last_bounce_at=now, status=status)
            except IntegrityError:
                BouncingAddress.objects.filter(email=address).update(
                    bounces=F("bounces") + 1, last_bounce_at=now, status=status
                )
        marked.append(address)
    return marked


def clear_bounce(address):
    """Mail from an address proves it works again."""
    BouncingAddress.clear(address)


def bouncing(addresses):
    lowered = {a.lower() for a in addresses if a}
    if not lowered:
        return set()
    return set(BouncingAddress.objects.filter(email__in=lowered).values_list("email", flat=True))


def take_auto_reply(address):
    """Count one automatic answer to ``address``; False when its hourly limit is reached."""
    limit = conf.get("MAIL_AUTO_REPLIES_PER_HOUR")
    if not limit or limit < 0:
        return limit is None or limit < 0
    address = (address or "").lower()[:254]
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    with transaction.atomic():
        counter, _created = AutoReplyCounter.objects.select_for_update().get_or_create(
            email=address, hour=hour
        )
        if counter.count >= limit:
            return False
        AutoReplyCounter.objects.filter(pk=counter.pk).update(count=F("count") + 1)
    return True


def forget_old_counters():
    AutoReplyCounter.objects.filter(hour__lt=timezone.now() - timedelta(days=2)).delete()
