"""Taking a ticket's personal data out of text that is about to become public.

A resolved ticket becomes a draft knowledge-base article: the customer's name, e-mail,
phone number, IP address and private links must not travel with it. ``scrub`` replaces
them with neutral placeholders; an editor still reviews the draft before publishing, so
the rules lean towards replacing too much rather than too little, while leaving alone
the numbers an article needs (dates, versions, ticket codes, error codes, ports).

Replacements go in as private-use characters first and become the placeholders at the
end, so that a later rule never rewrites an earlier rule's placeholder (a customer
called "Name" must not turn "[name]" into "[[name]]").
"""

import base64
import binascii
import ipaddress
import re

from django.core import signing
from django.utils.translation import gettext_lazy as _

from . import links

PLACEHOLDERS = {
    "\ue100": _("[name]"),
    "\ue101": _("[e-mail address]"),
    "\ue102": _("[phone number]"),
    "\ue103": _("[IP address]"),
    "\ue104": _("[private link]"),
}
NAME, EMAIL, PHONE, IP, LINK = PLACEHOLDERS
MARKERS_RE = re.compile("[\ue100-\ue104]")

# Shorter words of a name ("Li", "Al") are too often ordinary words or parts of codes.
MIN_NAME_PART = 3
NAME_PART_RE = re.compile(r"[^\W\d_]+")

EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[\w.%+'-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.[^\W\d_]{2,}(?![\w-])"
)

URL_RE = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>\"'`{}|\\^\[\]]+", re.IGNORECASE)
# A path-like run of characters around "access/<token>", with or without scheme and host.
_URL_CHAR = r"[^\s<>\"'`{}|\\^\[\]()]"
ACCESS_TOKEN = r"access/[A-Za-z0-9_:-]{20,200}"  # HelpdeskPage.access_route's token
TRAILING_PUNCTUATION = ".,;:!?"
SIGNED_PART_RE = re.compile(r"[A-Za-z0-9_-]{30,}")

IPV6_RE = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}"
    r"(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?:%[\w.]+)?(?![\w:]|\.\d)"
)
IPV4_RE = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)")

# Groups of digits, some in brackets, separated by one space, a hyphen or a dot;
# which candidates really are phone numbers is decided in _is_phone.
_GROUP = r"(?:\(\d{1,5}\)|\d{1,15})"
_SEPARATOR = r"(?:[ \u00a0]?[-.][ \u00a0]?|[ \u00a0]|(?<=\))|(?=\())"
PHONE_RE = re.compile(
    r"(?<![\w/\\.\-+=?&#@%$€£₽])"  # not inside a word, path, code, query or amount
    r"(?:\+[ \u00a0]?)?" + _GROUP + r"(?:" + _SEPARATOR + _GROUP + r")*"
    r"(?![\w/@%-]|[.:,]\d)"
)
DATE_RES = [
    re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}"),
    re.compile(r"\d{1,2}[-./]\d{1,2}[-./]\d{2,4}"),
    re.compile(r"(?:19|20)\d{2} ?- ?(?:19|20)\d{2}"),  # a range of years
]
US_DOTTED_RE = re.compile(r"\(?\d{3}\)?\.\d{3}\.\d{4}")
THOUSANDS_RE = re.compile(r"\d{1,3}(?:[ \u00a0]\d{3})+")


def _is_phone(candidate):
    digits = sum(ch.isdigit() for ch in candidate)
    if candidate.startswith("+"):
        return 7 <= digits <= 15 and candidate.count("(") == candidate.count(")")
    if not 7 <= digits <= 15 or candidate.count("(") != candidate.count(")"):
        return False
    if any(pattern.fullmatch(candidate) for pattern in DATE_RES):
        return False
    if "." in candidate and not US_DOTTED_RE.fullmatch(candidate):
        return False  # versions, decimals, dotted dates and addresses that are not IPs
    if THOUSANDS_RE.fullmatch(candidate):
        return False  # "1 000 000"
    if candidate.isdigit():
        # A bare run of digits is more often an order or serial number than a phone
        # number unless it is as long as a full number with its area code.
        return digits >= 10
    return True


def _phone(match):
    return PHONE if _is_phone(match.group()) else match.group()


def _ip(version):
    def replace(match):
        candidate = match.group().split("%", 1)[0]
        try:
            (ipaddress.IPv6Address if version == 6 else ipaddress.IPv4Address)(candidate)
        except ValueError:
            return match.group()
        return IP

    return replace


def _split_trailing(text):
    """A URL found in prose without the sentence's punctuation after it."""
    end = len(text)
    while end and (
        text[end - 1] in TRAILING_PUNCTUATION
        or (text[end - 1] == ")" and text[:end].count("(") < text[:end].count(")"))
    ):
        end -= 1
    return text[:end], text[end:]


def is_signed_token(value):
    """Whether ``value`` is a signed mail-link token of this site, expired or not."""
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        # No max_age: an expired link still names the ticket and must not be published.
        signing.loads(decoded, salt=links._SALT)
    except (signing.BadSignature, binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return True


def _has_signed_token(url):
    return any(is_signed_token(part) for part in SIGNED_PART_RE.findall(url))


def _private_links(text, access_re):
    def replace(match):
        _url, rest = _split_trailing(match.group())
        return LINK + rest

    text = access_re.sub(replace, text)

    def replace_signed(match):
        url, rest = _split_trailing(match.group())
        return LINK + rest if _has_signed_token(url) else match.group()

    return URL_RE.sub(replace_signed, text)


def _helpdesk_paths(ticket):
    """The support centre's own paths ("/support/"), where its private links live."""
    helpdesk = ticket.helpdesk if ticket is not None else None
    if helpdesk is None:
        return []
    paths = {helpdesk.url_path}
    parts = helpdesk.get_url_parts()
    if parts is not None:
        paths.add(parts[2])
    return sorted(path for path in paths if path)


def _access_re(ticket):
    paths = _helpdesk_paths(ticket)
    if paths:
        path = "(?:" + "|".join(re.escape(p.rstrip("/") + "/") for p in paths) + ")"
    else:
        # Without its support centre, any page's private-link route counts.
        path = "/"
    # Starting only where a run of URL characters starts keeps long runs linear.
    return re.compile(f"(?<!{_URL_CHAR}){_URL_CHAR}*{path}{ACCESS_TOKEN}(?:/{_URL_CHAR}*)?")


def _names(ticket, extra_names):
    """The literal strings to replace: full names first, then their words."""
    full = [getattr(ticket, "customer_name", "") or ""]
    single = []
    customer = getattr(ticket, "customer", None) if getattr(ticket, "customer_id", None) else None
    if customer is not None:
        full.append(customer.get_full_name())
        full += [customer.first_name, customer.last_name]
        single.append(customer.get_username())
    full += list(extra_names)
    phrases = set()
    for name in full:
        name = " ".join((name or "").split())
        if not name:
            continue
        phrases.add(name)
        phrases.update(part for part in NAME_PART_RE.findall(name) if len(part) >= MIN_NAME_PART)
    phrases.update(value for value in single if value and len(value) >= MIN_NAME_PART)
    return sorted(phrases, key=len, reverse=True)


def _names_re(names):
    if not names:
        return None
    alternatives = [r"\s+".join(re.escape(word) for word in name.split()) for name in names]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def scrubber(*, ticket, extra_names=()):
    """A function that scrubs text of ``ticket``'s personal data.

    Builds the ticket-specific patterns once (the support centre's path costs a query),
    for callers that scrub many pieces of one ticket.
    """
    access_re = _access_re(ticket)
    names_re = _names_re(_names(ticket, extra_names))
    emails = [getattr(ticket, "customer_email", "")]
    if getattr(ticket, "customer_id", None) and ticket.customer is not None:
        emails.append(ticket.customer.email)
    emails_re = _names_re([e for e in emails if e])

    def scrub_text(text):
        text = MARKERS_RE.sub("", text or "")
        text = _private_links(text, access_re)
        if emails_re is not None:
            text = emails_re.sub(EMAIL, text)
        text = EMAIL_RE.sub(EMAIL, text)
        text = IPV6_RE.sub(_ip(6), text)
        text = IPV4_RE.sub(_ip(4), text)
        text = PHONE_RE.sub(_phone, text)
        if names_re is not None:
            text = names_re.sub(NAME, text)
        return MARKERS_RE.sub(lambda match: str(PLACEHOLDERS[match.group()]), text)

    return scrub_text


def scrub(text, *, ticket, extra_names=()):
    """``text`` with ``ticket``'s personal data replaced by neutral placeholders."""
    return scrubber(ticket=ticket, extra_names=extra_names)(text)
