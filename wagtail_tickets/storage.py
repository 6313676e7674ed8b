"""Where ticket attachments are kept: a storage of their own, never MEDIA_ROOT.

Web servers usually serve MEDIA_ROOT to anyone (Wagtail sites do, for images), so a
file there is public to whoever learns its path. Attachments go to a storage that
nothing serves; the permission-checking download views are the only way to them.

- ``WAGTAIL_TICKETS_ATTACHMENT_STORAGE``: the alias of a storage in Django's
  ``STORAGES`` setting (for example a private S3 bucket) to use instead.
- Otherwise a ``FileSystemStorage`` without a URL at ``WAGTAIL_TICKETS_PRIVATE_ROOT``,
  by default the folder ``private`` next to MEDIA_ROOT.

``Attachment.file`` names ``attachment_storage`` (a callable), so the choice is made
when the site starts, not frozen into a migration; changing the settings (as tests
do) takes effect at once.
"""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty

WATCHED_SETTINGS = {
    "WAGTAIL_TICKETS_ATTACHMENT_STORAGE",
    "WAGTAIL_TICKETS_PRIVATE_ROOT",
    "MEDIA_ROOT",
    "STORAGES",
}


def private_root():
    """The folder of attachments when no storage alias is configured."""
    configured = getattr(settings, "WAGTAIL_TICKETS_PRIVATE_ROOT", None)
    if configured:
        return Path(configured)
    if not settings.MEDIA_ROOT:
        raise ImproperlyConfigured(
            "Set WAGTAIL_TICKETS_PRIVATE_ROOT (a folder the web server does not serve) "
            "or MEDIA_ROOT, next to which ticket attachments are kept by default."
        )
    return Path(settings.MEDIA_ROOT).resolve().parent / "private"


def storage_alias():
    return getattr(settings, "WAGTAIL_TICKETS_ATTACHMENT_STORAGE", None) or None


class PrivateFileSystemStorage(FileSystemStorage):
    """Files on disk with no URL: ``url()`` raises, so no template can link to them."""

    def __init__(self, location=None, **kwargs):
        kwargs["base_url"] = None
        super().__init__(location=location, **kwargs)

    def url(self, name):
        raise ValueError("Ticket attachments have no public URL; use the download views.")


class AttachmentStorage(LazyObject):
    def _setup(self):
        alias = storage_alias()
        if alias:
            self._wrapped = storages[alias]
        else:
            self._wrapped = PrivateFileSystemStorage(location=private_root())

    def reset(self):
        self._wrapped = empty


_storage = AttachmentStorage()


def attachment_storage():
    """The storage of ``Attachment.file`` (referenced by the model and its migrations)."""
    return _storage


@receiver(setting_changed)
def _settings_changed(setting, **kwargs):
    if setting in WATCHED_SETTINGS:
        _storage.reset()
