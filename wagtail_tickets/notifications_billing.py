"""Paid support's e-mails to customers: incidents running low, a grant expiring soon, a
refund or a returned incident, and the built-in sign-up's verification link.

Links are built from the Site record of the support centre (its page's full URL),
never from a request's Host header.
"""

from django.conf import settings
from django.utils.translation import override

from .notifications import send


def _language(entry=None, fallback=None):
    if entry is not None and entry.ticket_id and entry.ticket is not None:
        return entry.ticket.language or fallback or settings.LANGUAGE_CODE
    return fallback or settings.LANGUAGE_CODE


def helpdesk_for(entry=None, department=None):
    """The support centre whose links a mail about ``entry`` carries."""
    from .models import HelpdeskPage

    department = department or (entry.department if entry is not None else None)
    if department is not None:
        found = HelpdeskPage.objects.ancestor_of(department).live().specific().last()
        if found is not None:
            return found
    return HelpdeskPage.objects.live().order_by("path").first()


def account_link(helpdesk):
    if helpdesk is None:
        return ""
    return helpdesk.get_full_url().rstrip("/") + "/" + helpdesk.reverse_subpage("account_route")


def _customer(account):
    user = account.customer
    if user is None or not user.is_active or not user.email:
        return None
    return user


def _context(account, user, helpdesk, **extra):
    return {
        "account": account,
        "name": user.get_full_name() or user.get_username(),
        "helpdesk": helpdesk,
        "account_link": account_link(helpdesk),
        **extra,
    }


def incidents_low(entry, threshold):
    """Told when a use leaves ``threshold`` incidents, and again at none."""
    left = entry.incidents_after
    if not (left == 0 or left == threshold):
        return 0
    user = _customer(entry.account)
    if user is None:
        return 0
    helpdesk = helpdesk_for(entry)
    context = _context(entry.account, user, helpdesk, left=left, entry=entry)
    return send("billing_incidents_low", context, [user.email], _language(entry))


def refunded(entry):
    user = _customer(entry.account)
    if user is None:
        return 0
    helpdesk = helpdesk_for(entry)
    template = "billing_refund" if entry.kind == entry.Kind.REFUND else "billing_incident_returned"
    language = _language(entry)
    with override(language):
        context = _context(entry.account, user, helpdesk, entry=entry)
    return send(template, context, [user.email], language)


def grant_expiring(grant):
    user = _customer(grant.account)
    if user is None:
        return 0
    helpdesk = helpdesk_for()
    context = _context(grant.account, user, helpdesk, grant=grant)
    return send("billing_grant_expiring", context, [user.email], settings.LANGUAGE_CODE)


def signup_link(signup, link):
    context = {"signup": signup, "link": link, "helpdesk": signup.helpdesk}
    return send("signup_verify", context, [signup.email], signup.language)


def signup_existing(user, helpdesk, language):
    """Someone signed up with the address of an existing account: tell its owner."""
    from django.conf import settings as django_settings
    from django.shortcuts import resolve_url

    login = resolve_url(django_settings.LOGIN_URL)
    base = helpdesk.get_site().root_url if helpdesk is not None and helpdesk.get_site() else ""
    context = {
        "name": user.get_full_name() or user.get_username(),
        "helpdesk": helpdesk,
        "login_link": base + login if login.startswith("/") else login,
    }
    return send("signup_existing", context, [user.email], language)
