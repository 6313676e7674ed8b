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
    # Days a link mailed by "find my ticket" stays valid (0: no expiry).
    "LOOKUP_LINK_DAYS": 90,
    # "Find my ticket" mails links to active tickets and to those resolved or closed in
    # the last this many days.
    "LOOKUP_CLOSED_DAYS": 30,
    # Replies a customer may post to one ticket per minute and per hour (0: no limit).
    "CUSTOMER_REPLIES_PER_MINUTE": 5,
    "CUSTOMER_REPLIES_PER_HOUR": 30,
    # Megabytes of files a customer may upload to one ticket per hour, and in all.
    "CUSTOMER_UPLOAD_MB_PER_HOUR": 50,
    "TICKET_UPLOAD_MB": 200,
    # "Was this helpful?" answers one IP address may give one article per day (an
    # office or a household shares an address); 0 turns the limit off.
    "KB_VOTES_PER_IP_PER_DAY": 3,
    # Tickets one merge may combine (the target included).
    "MERGE_MAX_TICKETS": 20,
    # Requests a minute one address may make to a department's article suggestions
    # (typing a subject makes a few); 0 turns the limit off.
    "SUGGEST_REQUESTS_PER_MINUTE": 60,
}


def get(name):
    return getattr(settings, f"WAGTAIL_TICKETS_{name}", DEFAULTS[name])


def recaptcha_configured():
    return bool(
        getattr(settings, "RECAPTCHA_PUBLIC_KEY", "")
        and getattr(settings, "RECAPTCHA_PRIVATE_KEY", "")
    )
