"""A raw message → what the intake needs: sender, subject, text, attachments, threading.

Built on the standard library's ``email`` package with the modern policy. Nothing in
here raises on a broken message: headers with raw 8-bit bytes, unknown or wrong
charsets, broken transfer encodings and missing parts all give the best text there is.
"""

import base64
import binascii
import email
import email.header
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesFeedParser

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from . import charsets, html

MESSAGE_ID_RE = re.compile(r"<[^<>\s]{1,250}>")
ADDRESS_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*")
# Django's validator wants a dotted domain; mail inside an organisation may lack one.
_LOCAL_DOMAIN = re.compile(r"^[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MAX_REFERENCES = 30
_FEED_CHUNK = 64 * 1024
_IMAGE_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/pjpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
}


@dataclass
class MailAttachment:
    name: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass
class DeliveryReport:
    """A DSN (RFC 3464): the recipients it reports and what became of them."""

    failed: list = field(default_factory=list)  # [(address, status)]
    original_ids: list = field(default_factory=list)


@dataclass
class ParsedMail:
    message_id: str
    has_message_id: bool
    from_address: str
    from_name: str
    subject: str
    text: str
    attachments: list
    in_reply_to: list
    references: list
    headers: dict
    language: str = ""
    report: DeliveryReport | None = None
    size: int = 0
    #: The Authentication-Results headers, topmost first (mail/authres.py).
    auth_results: list = field(default_factory=list)

    @property
    def thread_ids(self):
        """In-Reply-To first, then References from the newest to the oldest."""
        seen = []
        for mail_id in [*self.in_reply_to, *reversed(self.references)]:
            if mail_id not in seen:
                seen.append(mail_id)
        return seen


def clean_text(value):
    """No NUL or other control characters (PostgreSQL refuses NUL in text)."""
    return _CONTROL.sub("", value or "")


def _raw_values(message, name):
    name = name.lower()
    try:
        return [value for key, value in message.raw_items() if key.lower() == name]
    except Exception:
        return []


def decode_header_value(value, fallback_charset=None):
    """A raw header value (RFC 2047 words, raw 8-bit bytes, folding) → one line of text."""
    if value is None:
        return ""
    value = str(value)
    value = charsets.decode_surrogates(value, fallback_charset)
    try:
        parts = email.header.decode_header(value)
    except Exception:
        parts = [(value, None)]
    pieces = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            pieces.append(charsets.decode(chunk, charset or fallback_charset or "ascii"))
        else:
            pieces.append(chunk)
    text = "".join(pieces)
    return " ".join(clean_text(text).split())


def header(message, name, fallback_charset=None):
    values = _raw_values(message, name)
    return decode_header_value(values[0], fallback_charset) if values else None


def message_ids(value):
    return MESSAGE_ID_RE.findall(value or "")


def _valid(address):
    if _LOCAL_DOMAIN.match(address):
        return True
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def _address(value):
    """(name, address) from a From header's text; address '' when there is none."""
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:
        pairs = []
    for name, address in pairs:
        address = (address or "").strip()
        if _valid(address):
            return name.strip().strip('"'), address
    match = ADDRESS_RE.search(value or "")
    if match and _valid(match.group()):
        name = value[: match.start()].strip().strip('<"').strip()
        return name, match.group()
    return "", ""


def _payload_bytes(part):
    data = None
    payload = part.get_payload()
    if isinstance(payload, str) and part.get("content-transfer-encoding", "").lower() == "base64":
        # The email package splits the payload into lines and joins them again before
        # decoding, several copies of a large attachment at once; the decoder skips line
        # breaks by itself.
        try:
            data = base64.b64decode(payload.encode("ascii", "surrogateescape"))
        except (binascii.Error, ValueError):
            data = None
    if data is None:
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
    if data is None:
        payload = part.get_payload()
        if isinstance(payload, str):
            data = payload.encode("utf-8", "surrogateescape")
        else:
            data = b""
    return data


def _part_text(part):
    return charsets.decode(_payload_bytes(part), part.get_content_charset())


def _filename(part, fallback_charset):
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        try:
            name = part.get_param("name")
            if isinstance(name, tuple):
                name = email.utils.collapse_rfc2231_value(name)
        except Exception:
            name = None
    if not name:
        return ""
    return decode_header_value(name, fallback_charset).replace("/", "_").replace("\\", "_")


def _disposition(part):
    try:
        return part.get_content_disposition()
    except Exception:
        return None


class _Walker:
    def __init__(self, fallback_charset):
        self.fallback_charset = fallback_charset
        self.pieces = []
        self.attachments = []
        self.report = None

    def _unnamed(self, content_type):
        extension = _IMAGE_EXTENSIONS.get(content_type) or (
            (mimetypes.guess_extension(content_type) or ".bin").lstrip(".")
        )
        stem = "image" if content_type.startswith("image/") else "attachment"
        return f"{stem}-{len(self.attachments) + 1}.{extension}"

    def attach(self, part, inline=False):
        content_type = part.get_content_type()
        name = _filename(part, self.fallback_charset) or self._unnamed(content_type)
        data = _payload_bytes(part)
        # The encoded text is no longer needed: free it while the rest is parsed.
        part.set_payload("")
        if data:
            self.attachments.append(MailAttachment(name[-255:], content_type, data, inline))

    def text_piece(self, part):
        if part.get_content_type() == "text/html":
            self.pieces.append(html.to_text(_part_text(part)))
        else:
            self.pieces.append(_part_text(part).replace("\r\n", "\n").strip("\n"))

    def walk(self, part, depth=0):
        if depth > 20:
            return
        content_type = part.get_content_type()
        disposition = _disposition(part)
        if part.is_multipart():
            children = [child for child in (part.get_payload() or []) if child is not None]
            if content_type == "multipart/alternative":
                self.alternative(children, depth)
            elif content_type == "multipart/related" and children:
                self.walk(children[0], depth + 1)
                for child in children[1:]:
                    self.resources(child, depth + 1)
            elif content_type == "multipart/report":
                self.delivery_report(part, children, depth)
            else:
                for child in children:
                    self.walk(child, depth + 1)
        elif content_type == "message/rfc822":
            self.attached_message(part, depth)
        elif disposition == "attachment" or (
            _filename(part, self.fallback_charset) and not content_type.startswith("text/")
        ):
            self.attach(part, inline=disposition == "inline")
        elif content_type in ("text/plain", "text/html") or (
            content_type.startswith("text/") and disposition != "attachment" and not depth
        ):
            if _filename(part, self.fallback_charset) and disposition != "inline":
                self.attach(part)
            else:
                self.text_piece(part)
        else:
            self.attach(part, inline=True)

    def alternative(self, children, depth):
        """Text from the plainest alternative; files (inline images) from all of them."""
        chosen = None
        for preferred in ("text/plain", "text/html"):
            chosen = next((c for c in children if c.get_content_type() == preferred), None)
            if chosen is not None:
                break
        if chosen is None and children:
            chosen = children[-1]
        for child in children:
            if child is chosen:
                self.walk(child, depth + 1)
            else:
                self.resources(child, depth + 1)

    def resources(self, part, depth):
        """Files of a part whose text is not used (the HTML alternative, related parts)."""
        if part.is_multipart():
            for child in part.get_payload() or []:
                self.resources(child, depth + 1)
        elif not part.get_content_type().startswith(("text/", "multipart/")):
            self.attach(part, inline=True)
        elif _disposition(part) == "attachment":
            self.attach(part)

    def attached_message(self, part, depth):
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if inner is None or not hasattr(inner, "raw_items"):
            self.attach(part)
            return
        lines = ["---------- " + "Attached message" + " ----------"]
        for name in ("From", "Date", "Subject", "To"):
            value = header(inner, name, self.fallback_charset)
            if value:
                lines.append(f"{name}: {value}")
        self.pieces.append("\n".join(lines))
        self.walk(inner, depth + 1)

    def delivery_report(self, part, children, depth):
        if (part.get_param("report-type") or "").lower() != "delivery-status":
            for child in children:
                self.walk(child, depth + 1)
            return
        report = DeliveryReport()
        for child in children:
            child_type = child.get_content_type()
            if child_type in ("message/delivery-status", "message/global-delivery-status"):
                report.failed.extend(_failed_recipients(child))
            elif child_type in ("message/rfc822", "text/rfc822-headers"):
                report.original_ids.extend(_original_ids(child))
            elif child_type.startswith("text/") and not self.pieces:
                self.text_piece(child)
        self.report = report


def _status_blocks(part):
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    text = payload if isinstance(payload, str) else _payload_bytes(part).decode("latin-1")
    blocks = re.split(r"\r?\n\s*\r?\n", text)
    return [email.message_from_string(block, policy=policy.compat32) for block in blocks]


def _failed_recipients(part):
    failed = []
    for block in _status_blocks(part):
        try:
            action = str(block.get("Action", "")).strip().lower()
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            status = str(block.get("Status", "")).strip()
        except Exception:
            continue
        address = recipient.split(";", 1)[-1].strip().strip("<>")
        if action == "failed" and address:
            failed.append((address, status[:32]))
    return failed


def _original_ids(part):
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return message_ids(str(payload[0].get("Message-ID", "")))
    return message_ids(_payload_bytes(part).decode("latin-1"))[:1]


_MAX_AUTH_RESULTS = 20

_LOOP_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "return-path",
    "list-id",
    "list-unsubscribe",
    "content-language",
    "sender",
)


def _chunks(source):
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        for start in range(0, len(view), _FEED_CHUNK):
            yield view[start : start + _FEED_CHUNK].tobytes()
        return
    source.seek(0)
    while chunk := source.read(_FEED_CHUNK):
        yield chunk


def parse(source):
    """Parse one message (bytes, or a binary file); never raises on what it contains."""
    # Fed in chunks: given the whole message at once the parser splits all of it into
    # lines in one go, about eight times the message's size in memory.
    parser = BytesFeedParser(policy=policy.default)
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(source):
        digest.update(chunk)
        size += len(chunk)
        parser.feed(chunk)
    message = parser.close()
    fallback = None
    try:
        fallback = message.get_content_charset() if not message.is_multipart() else None
    except Exception:
        fallback = None

    found_ids = message_ids(header(message, "Message-ID") or "")
    has_message_id = bool(found_ids)
    mail_id = found_ids[0] if found_ids else f"<{digest.hexdigest()}@no-message-id>"
    name, address = _address(header(message, "From", fallback) or "")
    headers = {}
    for key in _LOOP_HEADERS:
        values = _raw_values(message, key)
        if values:
            headers[key] = decode_header_value(values[0], fallback)

    walker = _Walker(fallback)
    try:
        walker.walk(message)
    except Exception:
        # A structure the walker cannot follow: the whole message as text, so nothing
        # the sender wrote is lost (the original is kept besides).
        walker.pieces = [charsets.decode(b"".join(_chunks(source)))]
    text = "\n\n".join(piece for piece in walker.pieces if piece.strip())

    return ParsedMail(
        message_id=mail_id[:255],
        has_message_id=has_message_id,
        from_address=address,
        from_name=clean_text(name)[:150],
        subject=(header(message, "Subject", fallback) or "")[:255],
        text=clean_text(text),
        attachments=walker.attachments,
        in_reply_to=message_ids(header(message, "In-Reply-To") or "")[:5],
        references=message_ids(header(message, "References") or "")[-_MAX_REFERENCES:],
        headers=headers,
        language=_language(headers.get("content-language", ""), text),
        report=walker.report,
        size=size,
        auth_results=[
            decode_header_value(value, fallback)
            for value in _raw_values(message, "Authentication-Results")[:_MAX_AUTH_RESULTS]
        ],
    )


_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def _language(declared, text):
    """A language code from Content-Language, else "ru" for mostly Cyrillic text."""
    code = (declared or "").split(",")[0].strip().lower()[:12]
    if code:
        return code.split("-")[0]
    sample = text[:4000]
    if len(_CYRILLIC.findall(sample)) > len(_LATIN.findall(sample)):
        return "ru"
    return ""
