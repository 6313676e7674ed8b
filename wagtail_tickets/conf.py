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
    # Ratings (given or changed) one address may send per hour; 0 turns the limit off.
    "RATINGS_PER_HOUR": 30,
    # Paid support: the ISO 4217 code of the site's one currency.
    "CURRENCY": "USD",
    # The largest amount staff may type for one deposit, charge, refund or adjustment.
    "MAX_AMOUNT": "1000000",
    # Whether the site's own accounts have verified e-mail addresses, so that anonymous
    # tickets filed from a customer's address join their account when they log in.
    "VERIFIED_EMAILS": False,
    # Sign-up forms one address may send per hour (the built-in sign-up).
    "SIGNUPS_PER_HOUR": 5,
    # Days a sign-up's verification link stays valid.
    "SIGNUP_LINK_DAYS": 3,
    # Account statements (PDF) one customer may download per minute.
    "STATEMENTS_PER_MINUTE": 6,
    # Customer replies to one ticket within this many seconds of the staff's last mail
    # about it are collected into one mail (notifications.customer_replies); 0 mails
    # each reply on its own.
    "REPLY_DIGEST_SECONDS": 300,
    # Mail intake (see README, "Receiving mail").
    # The key that encrypts mailbox passwords (a Fernet key, or a list of them: the first
    # encrypts, all decrypt); None derives one from SECRET_KEY.
    "MAILBOX_KEY": None,
    # Automatic answers (confirmations of tickets opened by mail, refusals of unknown
    # senders) one address may get per hour; more are not sent.
    "MAIL_AUTO_REPLIES_PER_HOUR": 5,
    # Larger messages are not taken in (left on the server; the pipe refuses them).
    "MAIL_MAX_BYTES": 40 * 1024 * 1024,
    # Messages read from one mailbox per run of helpdesk_fetch_mail.
    "MAIL_FETCH_LIMIT": 200,
    # Seconds before a connection to a mail server gives up.
    "MAIL_TIMEOUT": 60,
    # Seconds a fetch holds a mailbox's lock without renewing it; a lock left by a
    # crashed run expires after this.
    "MAIL_LOCK_SECONDS": 600,
    # The authserv-ids of the mail servers whose Authentication-Results headers say
    # whether a message's From is its real sender (mail/authres.py): agents' mail is a
    # staff reply only when confirmed (else an internal note), and a customer's address
    # that fails the checks does not join the customer's ticket.
    "MAIL_TRUSTED_AUTHSERV_IDS": [],
    # A file of CA certificates to trust for mail servers besides the system's.
    "MAIL_CA_FILE": None,
    # The domain of the Message-IDs of outgoing mail; None takes the From address's.
    "MAIL_MESSAGE_ID_DOMAIN": None,
    # Test mails of notification templates one editor may send per hour.
    "NOTIFICATION_TEST_MAILS_PER_HOUR": 10,
    # Transcripts of tickets with more messages than this are made by a background task:
    # the desk's PDF link then answers "being prepared" and serves the file once made.
    "TRANSCRIPT_INLINE_MESSAGES": 300,
}


def get(name):
    return getattr(settings, f"WAGTAIL_TICKETS_{name}", DEFAULTS[name])


def recaptcha_configured():
    return bool(
        getattr(settings, "RECAPTCHA_PUBLIC_KEY", "")
        and getattr(settings, "RECAPTCHA_PRIVATE_KEY", "")
    )


def recaptcha_available():
    """Keys set and django-recaptcha installed; the system check reports keys without it."""
    from django.apps import apps

    return recaptcha_configured() and apps.is_installed("django_recaptcha")
