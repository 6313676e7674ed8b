"""Customers' accounts: the built-in sign-up, its verification, and anonymous tickets
that join the account of their (verified) address."""

import base64
import binascii
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .. import background, conf, signals
from ..models import CustomerSignup, HelpdeskSettings, Ticket
from . import limits
from .tickets import WorkflowError

_SALT = "wagtail_tickets.signup"


class SignupError(WorkflowError):
    """The verification link cannot be used; ``str()`` says why."""


def _after_commit(signal, sender, **kwargs):
    background.announce(signal, sender, **kwargs)


def signup_token(signup):
    """The signed, expiring token of a sign-up's verification link (URL-safe)."""
    value = signing.dumps([signup.pk, signup.nonce], salt=_SALT, compress=False)
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def signup_for_token(token, *, at=None):
    """The CustomerSignup a token names, or None when it is forged, expired or used."""
    max_age = timedelta(days=conf.get("SIGNUP_LINK_DAYS"))
    try:
        value = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        pk, nonce = signing.loads(value, salt=_SALT, max_age=max_age)
    except (signing.BadSignature, binascii.Error, TypeError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(pk, int) or not isinstance(nonce, str):
        return None
    signup = CustomerSignup.objects.filter(pk=pk).select_related("helpdesk").first()
    if signup is None or not secrets.compare_digest(signup.nonce, nonce):
        return None
    now = at or timezone.now()
    if signup.created_at < now - max_age:
        return None
    return signup


def recent_signups(ip, *, at=None):
    """Sign-ups sent from ``ip`` in the last hour (the rate limit counts these)."""
    if not ip:
        return 0
    since = (at or timezone.now()) - timedelta(hours=1)
    return CustomerSignup.objects.filter(ip_address=ip, created_at__gte=since).count()


def _active_user(email):
    User = get_user_model()
    return User._default_manager.filter(email__iexact=email, is_active=True).first()


@transaction.atomic
def request_signup(*, email, name, password, helpdesk, next_url="", language="", ip=None):
    """Keep a sign-up until its address is verified and send the link
    (``signals.customer_signed_up``). When an active account already has the address,
    nothing is kept and its owner is told instead. The visitor sees the same answer
    either way."""
    email = email.strip()
    now = timezone.now()
    limit = conf.get("SIGNUPS_PER_HOUR")
    if ip and limit is not None:
        # Counted under the address's lock, in this transaction, as every write limit
        # (workflow/limits.py): a burst from several processes cannot all see room.
        limits.take(f"signup:{ip}")
        if recent_signups(ip, at=now) >= limit:
            raise limits.RateLimited(
                _("Too many sign-ups from your address in the last hour. Try again later.")
            )
    existing = _active_user(email)
    if existing is not None:
        _after_commit(
            signals.customer_signed_up,
            CustomerSignup,
            signup=None,
            existing_user=existing,
            helpdesk=helpdesk,
            language=language,
        )
        return None
    # Signing up again replaces the earlier, unverified attempt (and its link).
    CustomerSignup.objects.filter(email__iexact=email).delete()
    signup = CustomerSignup.objects.create(
        email=email,
        name=name.strip()[:150],
        password=make_password(password),
        nonce=secrets.token_hex(16),
        helpdesk=helpdesk,
        next_url=(next_url or "")[:500],
        language=(language or "")[:12],
        ip_address=ip,
        created_at=now,
    )
    _after_commit(
        signals.customer_signed_up,
        CustomerSignup,
        signup=signup,
        existing_user=None,
        helpdesk=helpdesk,
        language=language,
    )
    return signup


def _username_for(email):
    User = get_user_model()
    field = User.USERNAME_FIELD
    max_length = User._meta.get_field(field).max_length or 150
    base = email[:max_length]
    candidate, number = base, 1
    while User._default_manager.filter(**{f"{field}__iexact": candidate}).exists():
        number += 1
        suffix = f"-{number}"
        candidate = base[: max_length - len(suffix)] + suffix
    return candidate


@transaction.atomic
def verify_signup(signup):
    """Make the account of a verified sign-up; returns the new user.

    The site's welcome pack is granted, and earlier anonymous tickets from the address
    join the account. A used or superseded link raises SignupError.
    """
    signup = CustomerSignup.objects.select_for_update().filter(pk=signup.pk).first()
    if signup is None:
        raise SignupError(_("This link has already been used."))
    if _active_user(signup.email) is not None:
        signup.delete()
        raise SignupError(_("An account with this e-mail address already exists; log in."))
    User = get_user_model()
    user = User(email=signup.email, first_name=signup.name[:150], is_active=True)
    setattr(user, User.USERNAME_FIELD, _username_for(signup.email))
    user.password = signup.password
    user.save()
    helpdesk = signup.helpdesk
    signup.delete()
    log(user, "wagtail_tickets.customer.verified", user=user, data={"email": user.email})
    _grant_welcome_pack(user, helpdesk)
    claim_tickets(user)
    _after_commit(signals.customer_verified, CustomerSignup, user=user)
    return user


def _grant_welcome_pack(user, helpdesk):
    from .billing import BillingError, grant_pack

    site = helpdesk.get_site() if helpdesk is not None else None
    if site is None:
        return None
    pack_id = HelpdeskSettings.for_site(site).welcome_pack_id
    if pack_id is None:
        return None
    try:
        return grant_pack(
            user,
            pack_id,
            reason=_("Welcome pack"),
            # One welcome pack per account, however often this runs.
            reference=f"welcome:{user.pk}",
        )
    except BillingError:
        return None  # an inactive pack: the account is made all the same


@transaction.atomic
def claim_tickets(user, *, actor=None):
    """Anonymous tickets filed from ``user``'s address join their account, so "my
    tickets" lists them. Call only when the address is known to be the user's."""
    email = (getattr(user, "email", "") or "").strip()
    if not email or not user.is_active:
        return []
    tickets = list(
        Ticket.objects.select_for_update()
        .filter(customer__isnull=True, customer_email__iexact=email)
        .only("pk", "code", "customer_email")
    )
    if not tickets:
        return []
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(customer=user)
    for ticket in tickets:
        ticket.customer = user
        log(
            ticket,
            "wagtail_tickets.ticket.claimed",
            user=actor or user,
            data={"user": {"id": user.pk, "email": email}},
        )
    _after_commit(signals.tickets_claimed, Ticket, user=user, tickets=tickets)
    return tickets


def forget_old_signups(*, at=None):
    """Delete sign-ups whose link has expired; returns how many."""
    since = (at or timezone.now()) - timedelta(days=conf.get("SIGNUP_LINK_DAYS"))
    deleted, _rows = CustomerSignup.objects.filter(created_at__lt=since).delete()
    return deleted
