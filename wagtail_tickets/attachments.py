"""Validation of uploaded files: extension allow-list, sniffed content, size and count.

The type is read from the file's first bytes, never trusted from its name or the
browser. Formats a browser could run (HTML, SVG, XML) are refused whatever the setting.
"""

import hashlib
import os
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

NEVER_ALLOWED = frozenset(
    {
        "html",
        "htm",
        "xhtml",
        "shtml",
        "svg",
        "svgz",
        "xml",
        "js",
        "mjs",
        "php",
        "exe",
        "bat",
        "cmd",
        "com",
        "scr",
        "msi",
        "jar",
        "sh",
        "hta",
    }
)

# extension -> the content type served, and the sniffer family the bytes must belong to
TYPES = {
    "jpg": ("image/jpeg", "jpeg"),
    "jpeg": ("image/jpeg", "jpeg"),
    "png": ("image/png", "png"),
    "gif": ("image/gif", "gif"),
    "webp": ("image/webp", "webp"),
    "pdf": ("application/pdf", "pdf"),
    "txt": ("text/plain", "text"),
    "log": ("text/plain", "text"),
    "csv": ("text/csv", "text"),
    "zip": ("application/zip", "zip"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "ooxml",
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "ooxml"),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "ooxml",
    ),
    "odt": ("application/vnd.oasis.opendocument.text", "odf"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "odf"),
}

MARKUP_MARKERS = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe")


def _is_text(head):
    if b"\x00" in head:
        return False
    lowered = head.lstrip().lower()
    if any(marker in lowered[:1024] for marker in MARKUP_MARKERS):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still text.
        if exc.start < len(head) - 4:
            try:
                head.decode("cp1251")
            except UnicodeDecodeError:
                return False
    return True


def _zip_members(upload):
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        upload.seek(0)


def sniff_family(upload):
    """Return the family of what the bytes really are, or None."""
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        members = _zip_members(upload)
        if members is None:
            return None
        if "[Content_Types].xml" in members:
            return "ooxml"
        if "mimetype" in members and "content.xml" in members:
            return "odf"
        return "zip"
    if _is_text(head):
        return "text"
    return None


def parse_extensions(value):
    return {
        ext.strip().lstrip(".").lower()
        for ext in (value or "").replace(",", " ").split()
        if ext.strip()
    } - NEVER_ALLOWED


@dataclass
class AttachmentRules:
    extensions: frozenset
    max_bytes: int
    max_count: int

    @classmethod
    def for_department(cls, department, site_settings):
        extensions = parse_extensions(department.allowed_extensions) or parse_extensions(
            site_settings.allowed_extensions
        )
        max_mb = department.max_attachment_mb or site_settings.max_attachment_mb
        max_count = (
            department.max_attachments
            if department.max_attachments is not None
            else site_settings.max_attachments
        )
        return cls(frozenset(extensions & set(TYPES)), max_mb * 1024 * 1024, max_count)

    @property
    def enabled(self):
        return self.max_count > 0 and bool(self.extensions)

    @property
    def accept(self):
        return ",".join(f".{ext}" for ext in sorted(self.extensions))

    def describe(self):
        return _("Up to %(count)s files, %(size)s each: %(types)s.") % {
            "count": self.max_count,
            "size": filesizeformat(self.max_bytes),
            "types": ", ".join(sorted(self.extensions)),
        }

    def validate(self, files):
        """Validate uploads; return a list of ValidatedFile or raise ValidationError."""
        files = [f for f in files if f]
        if not files:
            return []
        if not self.enabled:
            raise ValidationError(_("This form does not accept attachments."), code="disabled")
        if len(files) > self.max_count:
            raise ValidationError(
                ngettext(
                    "You can attach at most %(count)d file.",
                    "You can attach at most %(count)d files.",
                    self.max_count,
                )
                % {"count": self.max_count},
                code="too_many",
            )
        errors = []
        validated = []
        for upload in files:
            name = os.path.basename(upload.name or "").strip() or "file"
            ext = os.path.splitext(name)[1].lstrip(".").lower()
            if ext not in self.extensions:
                errors.append(
                    ValidationError(
                        _("“%(name)s”: files of this type are not accepted."),
                        code="extension",
                        params={"name": name},
                    )
                )
                continue
            if upload.size > self.max_bytes:
                errors.append(
                    ValidationError(
                        _("“%(name)s” is larger than %(size)s."),
                        code="size",
                        params={"name": name, "size": filesizeformat(self.max_bytes)},
                    )
                )
                continue
            if upload.size == 0:
                errors.append(
                    ValidationError(_("“%(name)s” is empty."), code="empty", params={"name": name})
                )
                continue
            content_type, family = TYPES[ext]
            if sniff_family(upload) != family:
                errors.append(
                    ValidationError(
                        _("“%(name)s”: the content does not match its file type."),
                        code="mismatch",
                        params={"name": name},
                    )
                )
                continue
            validated.append(ValidatedFile(upload, name[-255:], content_type))
        if errors:
            raise ValidationError(errors)
        return validated


@dataclass
class ValidatedFile:
    upload: object
    name: str
    content_type: str

    def sha256(self):
        digest = hashlib.sha256()
        self.upload.seek(0)
        for chunk in self.upload.chunks():
            digest.update(chunk)
        self.upload.seek(0)
        return digest.hexdigest()
