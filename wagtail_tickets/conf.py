"""Package settings with their defaults.

Everything a site owner may tune per site lives in the ``HelpdeskSettings`` site
setting; what must not be edited in the admin (keys, addresses of machines) lives here,
read from Django settings.
"""

from django.conf import settings

DEFAULTS = {
    # Where attachments are stored inside the default storage.
    "UPLOAD_TO": "wagtail_tickets/attachments",
    # Address used as From: for notifications; falls back to DEFAULT_FROM_EMAIL.
    "FROM_EMAIL": None,
    # Addresses told about new tickets when a department has no staff.
    "FALLBACK_STAFF_EMAILS": [],
    # Seconds a "find my ticket" request blocks the next one from the same IP.
    "LOOKUP_RATE_SECONDS": 30,
    # Days the signed ticket links in notification e-mails stay valid.
    "MAIL_LINK_DAYS": 60,
    # Requests a minute one address may make to a department's article suggestions
    # (typing a subject makes a few); 0 turns the limit off.
    "SUGGEST_REQUESTS_PER_MINUTE": 60,
    # Ratings (given or changed) one address may send per hour; 0 turns the limit off.
    "RATINGS_PER_HOUR": 30,
}


def get(name):
    return getattr(settings, f"WAGTAIL_TICKETS_{name}", DEFAULTS[name])


def recaptcha_configured():
    return bool(
        getattr(settings, "RECAPTCHA_PUBLIC_KEY", "")
        and getattr(settings, "RECAPTCHA_PRIVATE_KEY", "")
    )
