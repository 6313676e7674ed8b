"""Reading mailboxes over IMAP and POP3, one message at a time.

A message leaves the server (deleted, moved or marked read) only after its ticket or
reply has committed (messages are taken in by batches of BATCH, one transaction each).
A run that dies half way leaves the rest on the server; the next run takes them, and
those taken in already are recognised by their Message-ID and sender and not stored
again.

The standard library's imaplib and poplib are enough here: the intake needs to list,
fetch by UID, flag, move and delete, and both protocols then share one small interface.

A lock held in the database (``Mailbox.locked_until``/``lock_token``) keeps two runs, on
any hosts, from reading one mailbox at once; it is renewed while a run goes on and
expires when its holder dies.
"""

import imaplib
import logging
import poplib
import secrets
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from .. import conf
from ..models import Mailbox
from ..models.mail import is_loopback_host
from . import intake, loops
from .secrets import PasswordUnavailable, mailbox_password

logger = logging.getLogger(__name__)
Security = Mailbox.Security
AfterFetch = Mailbox.AfterFetch


class MailServerError(Exception):
    """Connecting, logging in or reading failed; the text never holds the password."""


def _scrub(text, password):
    text = str(text)
    if password:
        text = text.replace(password, "********")
    return text[:500]


def _tls_context():
    context = ssl.create_default_context()
    ca_file = conf.get("MAIL_CA_FILE")
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _check_plain(mailbox):
    """Plain text only to this machine, checked on the addresses the name resolves to."""
    if mailbox.security != Security.PLAIN:
        return
    if not is_loopback_host(mailbox.host):
        raise MailServerError("a connection without TLS is only allowed to this machine")
    try:
        infos = socket.getaddrinfo(mailbox.host, mailbox.effective_port())
    except OSError as exc:
        raise MailServerError(f"cannot resolve {mailbox.host}: {exc}") from None
    if not all(is_loopback_host(info[4][0]) for info in infos):
        raise MailServerError(f"{mailbox.host} does not resolve to this machine only")


def _quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapClient:
    def __init__(self, mailbox, password):
        self.mailbox = mailbox
        self.password = password
        self.connection = None
        self.deleted = False
        self.capabilities = set()

    def _check(self, response, what):
        status, data = response
        if status != "OK":
            detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
            raise MailServerError(f"{what}: {status} {detail}")
        return data

    def connect(self):
        box = self.mailbox
        timeout = conf.get("MAIL_TIMEOUT")
        _check_plain(box)
        if box.security == Security.TLS:
            self.connection = imaplib.IMAP4_SSL(
                box.host, box.effective_port(), ssl_context=_tls_context(), timeout=timeout
            )
        else:
            self.connection = imaplib.IMAP4(box.host, box.effective_port(), timeout=timeout)
            if box.security == Security.STARTTLS:
                self.connection.starttls(ssl_context=_tls_context())
        self.connection.login(box.username, self.password)
        # The capabilities after login (MOVE among them) replace those of the greeting.
        status, data = self.connection.capability()
        if status == "OK" and data and data[-1]:
            self.capabilities = set(data[-1].decode(errors="replace").upper().split())
        if box.after_fetch == AfterFetch.MOVE:
            # Fails harmlessly when the folder exists.
            self.connection.create(_quote(box.move_to_folder))
        self._check(self.connection.select(_quote(box.folder)), f"select {box.folder}")

    def list(self, limit):
        seen_mode = self.mailbox.after_fetch == AfterFetch.SEEN
        criteria = "(UNSEEN UNDELETED)" if seen_mode else "UNDELETED"
        data = self._check(self.connection.uid("SEARCH", None, criteria), "search")
        uids = (data[0] or b"").split() if data else []
        return uids[:limit]

    def size(self, uid):
        data = self._check(self.connection.uid("FETCH", uid, "(RFC822.SIZE)"), "size")
        for item in data:
            text = item.decode(errors="replace") if isinstance(item, bytes) else ""
            if "RFC822.SIZE" in text:
                return int(text.split("RFC822.SIZE", 1)[1].strip(" )").split()[0])
        return 0

    def fetch(self, uid):
        data = self._check(self.connection.uid("FETCH", uid, "(BODY.PEEK[])"), "fetch")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        raise MailServerError(f"fetch {uid.decode()}: no message")

    def done(self, uid):
        box = self.mailbox
        conn = self.connection
        if box.after_fetch == AfterFetch.SEEN:
            self._check(conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)"), "mark read")
            return
        if box.after_fetch == AfterFetch.MOVE:
            if "MOVE" in self.capabilities:
                self._check(conn.uid("MOVE", uid, _quote(box.move_to_folder)), "move")
                return
            self._check(conn.uid("COPY", uid, _quote(box.move_to_folder)), "copy")
        self._check(conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "delete")
        self.deleted = True

    def count(self):
        data = self._check(self.connection.uid("SEARCH", None, "UNDELETED"), "search")
        return len((data[0] or b"").split()) if data else 0

    def close(self):
        if self.connection is None:
            return
        try:
            if self.deleted:
                self.connection.expunge()
            self.connection.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


class _POP3Mixin:
    # poplib refuses lines over 2,048 bytes; HTML mail often has longer ones.
    def _getline(self):
        line = self.file.readline(1024 * 1024 + 1)
        if len(line) > 1024 * 1024:
            raise poplib.error_proto("line too long")
        self._debugging = getattr(self, "_debugging", 0)
        if not line:
            raise poplib.error_proto("-ERR EOF")
        octets = len(line)
        if line[-2:] == b"\r\n":
            return line[:-2], octets
        if line[:1] == b"\r":
            return line[1:-1], octets
        return line[:-1], octets


class _POP3(_POP3Mixin, poplib.POP3):
    pass


class _POP3SSL(_POP3Mixin, poplib.POP3_SSL):
    pass


class Pop3Client:
    def __init__(self, mailbox, password):
        self.mailbox = mailbox
        self.password = password
        self.connection = None

    def connect(self):
        box = self.mailbox
        timeout = conf.get("MAIL_TIMEOUT")
        _check_plain(box)
        if box.security == Security.TLS:
            self.connection = _POP3SSL(
                box.host, box.effective_port(), context=_tls_context(), timeout=timeout
            )
        else:
            self.connection = _POP3(box.host, box.effective_port(), timeout=timeout)
            if box.security == Security.STARTTLS:
                self.connection.stls(context=_tls_context())
        self.connection.user(box.username)
        self.connection.pass_(self.password)

    def list(self, limit):
        _response, listing, _octets = self.connection.list()
        self.sizes = {}
        for line in listing:
            parts = line.split()
            if len(parts) == 2:
                self.sizes[parts[0]] = int(parts[1])
        return list(self.sizes)[:limit]

    def size(self, number):
        return self.sizes.get(number, 0)

    def fetch(self, number):
        _response, lines, _octets = self.connection.retr(int(number))
        return b"\r\n".join(lines) + b"\r\n"

    def done(self, number):
        # Applied by the server only at QUIT: a run that dies leaves every message there.
        self.connection.dele(int(number))

    def count(self):
        return self.connection.stat()[0]

    def close(self):
        if self.connection is None:
            return
        try:
            self.connection.quit()
        except (poplib.error_proto, OSError):
            pass


def client_for(mailbox):
    """A connected, logged-in client; raises MailServerError (or PasswordUnavailable)."""
    password = mailbox_password(mailbox)
    client_class = ImapClient if mailbox.protocol == Mailbox.Protocol.IMAP else Pop3Client
    client = client_class(mailbox, password)
    try:
        client.connect()
    except MailServerError:
        client.close()
        raise
    except (imaplib.IMAP4.error, poplib.error_proto, OSError, ssl.SSLError, ValueError) as exc:
        client.close()
        raise MailServerError(_scrub(f"{type(exc).__name__}: {exc}", password)) from None
    return client


# --- the lock ---------------------------------------------------------------------------


def acquire_lock(mailbox):
    """Take the mailbox's lock; returns its token, or None when another run holds it."""
    token = secrets.token_hex(16)
    now = timezone.now()
    until = now + timedelta(seconds=conf.get("MAIL_LOCK_SECONDS"))
    taken = (
        Mailbox.objects.filter(pk=mailbox.pk)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=until, lock_token=token)
    )
    return token if taken else None


def renew_lock(mailbox, token):
    until = timezone.now() + timedelta(seconds=conf.get("MAIL_LOCK_SECONDS"))
    return bool(Mailbox.objects.filter(pk=mailbox.pk, lock_token=token).update(locked_until=until))


def release_lock(mailbox, token):
    Mailbox.objects.filter(pk=mailbox.pk, lock_token=token).update(
        locked_until=None, lock_token=""
    )


# --- a run ------------------------------------------------------------------------------


@dataclass
class FetchReport:
    mailbox: str
    taken: int = 0
    duplicates: int = 0
    left: int = 0
    locked: bool = False
    errors: list = field(default_factory=list)
    outcomes: dict = field(default_factory=dict)

    @property
    def ok(self):
        return not self.errors and not self.locked


def _note_error(mailbox, text):
    logger.warning("Mailbox %s: %s", mailbox.name, text)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error=text, last_error_at=timezone.now())


def fetch_mailbox(mailbox, limit=None):
    """Read one mailbox once; returns a FetchReport. Never raises for the server's faults."""
    report = FetchReport(mailbox.name)
    token = acquire_lock(mailbox)
    if token is None:
        report.locked = True
        return report
    try:
        _run(mailbox, limit or conf.get("MAIL_FETCH_LIMIT"), report, token)
    finally:
        try:
            release_lock(mailbox, token)
        except DatabaseError:
            logger.exception("Mailbox %s: could not release the lock", mailbox.name)
    return report


#: Messages taken in per transaction. Each commit costs a disk flush (on SQLite, the
#: largest part of taking a message in), so a batch shares one; the messages leave the
#: server only after it.
BATCH = 10


class _BatchFailed(Exception):
    """The database failed: the batch is rolled back and stays on the server."""


def _run(mailbox, limit, report, token):
    try:
        client = client_for(mailbox)
    except (MailServerError, PasswordUnavailable) as exc:
        report.errors.append(str(exc))
        _note_error(mailbox, str(exc))
        return
    password = client.password
    # Renewed when a third of its time has passed, not after every message: on SQLite
    # each renewal is a commit of its own.
    renew_every = conf.get("MAIL_LOCK_SECONDS") / 3
    renewed = time.monotonic()
    try:
        items = client.list(limit)
        for start in range(0, len(items), BATCH):
            if time.monotonic() - renewed > renew_every:
                if not renew_lock(mailbox, token):
                    report.errors.append("the lock was lost; another run took over")
                    break
                renewed = time.monotonic()
            if not _take_batch(mailbox, client, items[start : start + BATCH], report, password):
                break
    except (imaplib.IMAP4.error, poplib.error_proto, OSError, MailServerError) as exc:
        text = _scrub(f"{type(exc).__name__}: {exc}", password)
        report.errors.append(text)
    finally:
        client.close()
    loops.forget_old_counters()
    if report.errors:
        _note_error(mailbox, "; ".join(report.errors)[:2000])
    else:
        Mailbox.objects.filter(pk=mailbox.pk).update(last_success_at=timezone.now())


def _take_batch(mailbox, client, items, report, password):
    """Take ``items`` in, in one transaction; remove them from the server once it has
    committed. Returns False to stop the run."""
    taken = []
    try:
        with transaction.atomic():
            for item in items:
                result = _take_one(mailbox, client, item, report, password)
                if result is not None:
                    taken.append((item, result))
    except (_BatchFailed, DatabaseError) as exc:
        if isinstance(exc, DatabaseError):
            report.errors.append(_scrub(f"{type(exc).__name__}: {exc}", password))
        report.left += len(taken)
        return False
    for item, result in taken:
        client.done(item)
        if result.duplicate:
            report.duplicates += 1
        else:
            report.taken += 1
            report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
    return True


def _take_one(mailbox, client, item, report, password):
    """Take one message in; None leaves it on the server. Raises _BatchFailed."""
    limit = conf.get("MAIL_MAX_BYTES")
    size = client.size(item)
    if limit and size > limit:
        # Not even downloaded: it would not be taken in anyway.
        report.left += 1
        report.errors.append(f"a message was left on the server: {size} bytes, more than {limit}")
        return None
    try:
        # No local name for the bytes: receive() may then free them early.
        return intake.receive(client.fetch(item), mailbox)
    except intake.TooLarge as exc:
        report.left += 1
        report.errors.append(f"a message was left on the server: {exc}")
    except intake.TemporaryFailure as exc:
        report.left += 1
        report.errors.append(_scrub(str(exc), password))
    except DatabaseError as exc:
        report.left += 1
        report.errors.append(_scrub(f"{type(exc).__name__}: {exc}", password))
        raise _BatchFailed from exc
    except Exception as exc:
        # One message the intake cannot handle must not hold up the others; it stays
        # on the server and is tried again next time.
        logger.exception("Mailbox %s: a message could not be taken in", mailbox.name)
        report.left += 1
        report.errors.append(_scrub(f"{type(exc).__name__}: {exc}", password))
    return None


def check_connection(mailbox):
    """Log in and count the messages waiting; returns the count or raises MailServerError."""
    client = client_for(mailbox)
    try:
        return client.count()
    except (imaplib.IMAP4.error, poplib.error_proto, OSError) as exc:
        raise MailServerError(_scrub(f"{type(exc).__name__}: {exc}", client.password)) from None
    finally:
        client.close()
