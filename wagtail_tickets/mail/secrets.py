"""Mailbox passwords: encrypted with a key the site controls, or read from the environment.

The key is ``WAGTAIL_TICKETS_MAILBOX_KEY``: a Fernet key (``Fernet.generate_key()``) or a
list of them, the first encrypting and all decrypting, so a key can be replaced without
losing the stored passwords. Without it a key is derived from ``SECRET_KEY``; changing
``SECRET_KEY`` then makes stored passwords unreadable (the mailbox reports it and the
password must be entered again).
"""

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _

from .. import conf


class PasswordUnavailable(Exception):
    """The mailbox's password cannot be read; the message never contains it."""


def _as_fernet_key(value):
    if isinstance(value, str):
        value = value.encode()
    try:
        Fernet(value)
        return value
    except (ValueError, TypeError):
        # Any other string: stretched into a key, so a passphrase works too.
        return base64.urlsafe_b64encode(hashlib.sha256(value).digest())


def _fernet():
    configured = conf.get("MAILBOX_KEY")
    if configured:
        keys = [configured] if isinstance(configured, (str, bytes)) else list(configured)
    else:
        keys = ["wagtail_tickets.mailbox:" + settings.SECRET_KEY]
    return MultiFernet([Fernet(_as_fernet_key(key)) for key in keys])


def encrypt(password):
    return _fernet().encrypt(password.encode()).decode() if password else ""


def decrypt(token):
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise PasswordUnavailable(
            _(
                "The stored password cannot be decrypted (was the key or SECRET_KEY "
                "changed?). Enter the password again."
            )
        ) from exc


def mailbox_password(mailbox):
    """The password to log in with; raises PasswordUnavailable."""
    if mailbox.password_env:
        value = os.environ.get(mailbox.password_env)
        if value is None:
            raise PasswordUnavailable(
                _("The environment variable %(name)s is not set.") % {"name": mailbox.password_env}
            )
        return value
    if not mailbox.password_encrypted:
        raise PasswordUnavailable(_("No password is set."))
    return decrypt(mailbox.password_encrypted)
