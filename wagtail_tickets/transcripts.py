"""Transcripts (PDF) of long tickets, made in the background and kept until they change.

WeasyPrint lays out every page of a transcript in the request that asks for it: a few
hundred messages take seconds, two thousand take half a minute. Tickets with more than
``TRANSCRIPT_INLINE_MESSAGES`` messages get theirs from a task instead (``tasks.
make_transcript``); the desk's PDF link says it is being prepared and serves the file
once it is there. The file's name is a keyed hash of what the transcript shows (the
ticket, which copy, the language, and the state of its messages), so a changed ticket
gets a new file, nobody can guess a name, and the download view checks, as for every
ticket view, that the user may see the ticket before it opens the file. The files are
kept where attachments are (``storage.py``), which nothing serves: a staff copy holds
internal notes.
"""

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db.models import Max
from django.utils.crypto import salted_hmac

from . import conf
from .models import Message
from .storage import attachment_storage

FOLDER = "wagtail_tickets/transcripts"
#: How long a transcript being made stops another from being asked for.
PENDING_SECONDS = 600


def made_in_background(ticket):
    return ticket.message_count > conf.get("TRANSCRIPT_INLINE_MESSAGES")


def transcript_name(ticket, *, include_notes, language):
    """The storage name of the transcript as the ticket stands now."""
    edited = Message.objects.filter(ticket=ticket).aggregate(last=Max("edited_at"))["last"]
    state = ":".join(
        str(part)
        for part in (
            ticket.pk,
            int(bool(include_notes)),
            language or "",
            ticket.message_count,
            ticket.updated_at.isoformat() if ticket.updated_at else "",
            edited.isoformat() if edited else "",
        )
    )
    key = salted_hmac("wagtail_tickets.transcript", state, algorithm="sha256").hexdigest()
    return f"{FOLDER}/{ticket.pk}-{key}.pdf"


def stored(name):
    return attachment_storage().exists(name)


def open_stored(name):
    return attachment_storage().open(name)


def claim(name):
    """True for the first request to ask for this transcript while none is being made."""
    return cache.add(f"wagtail_tickets:transcript:{name}", 1, PENDING_SECONDS)


def store(name, content):
    storage = attachment_storage()
    if not storage.exists(name):
        storage.save(name, ContentFile(content))
