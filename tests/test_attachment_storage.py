"""Attachments live on a storage of their own, outside MEDIA_ROOT, with no URL."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client

from tests import factories
from wagtail_tickets import checks, workflow
from wagtail_tickets.models import Attachment
from wagtail_tickets.storage import private_root

pytestmark = pytest.mark.django_db


def _attach(department, name="log.txt", content=b"private log\n"):
    ticket, raw = factories.open_ticket_with_token(department)
    message = workflow.post_reply(
        ticket, body="File.", author_name="Ann", attachments=[factories.validated(name, content)]
    )
    return ticket, raw, message.attachments.get()


def test_attachments_are_stored_outside_media_root(department, settings):
    _ticket, _raw, attachment = _attach(department)
    path = Path(attachment.file.path)
    assert path.is_file() and path.read_bytes() == b"private log\n"
    assert Path(settings.WAGTAIL_TICKETS_PRIVATE_ROOT) in path.parents
    assert Path(settings.MEDIA_ROOT) not in path.parents
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]
    with pytest.raises(ValueError):
        attachment.file.url  # noqa: B018 - nothing can link to it


def test_the_download_view_still_serves_them(helpdesk, department):
    ticket, raw, attachment = _attach(department)
    client = Client()
    client.get(f"{helpdesk.url}access/{raw}/")
    response = client.get(f"{helpdesk.url}tickets/{ticket.code}/files/{attachment.pk}/")
    assert b"".join(response.streaming_content) == b"private log\n"


def test_the_default_folder_is_next_to_media_root(settings, tmp_path):
    settings.WAGTAIL_TICKETS_PRIVATE_ROOT = None
    settings.MEDIA_ROOT = str(tmp_path / "site" / "media")
    assert private_root() == (tmp_path / "site" / "private").resolve()


def test_a_storage_alias_is_used_when_configured(department, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "tickets": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "bucket")},
        },
    }
    settings.WAGTAIL_TICKETS_ATTACHMENT_STORAGE = "tickets"
    _ticket, _raw, attachment = _attach(department)
    assert (tmp_path / "bucket" / attachment.file.name).is_file()
    assert checks.attachment_storage_is_private(None) == []
    settings.WAGTAIL_TICKETS_ATTACHMENT_STORAGE = "missing"
    assert [e.id for e in checks.attachment_storage_is_private(None)] == ["wagtail_tickets.E003"]


def test_a_private_root_inside_media_root_is_warned_about(settings):
    settings.WAGTAIL_TICKETS_PRIVATE_ROOT = str(Path(settings.MEDIA_ROOT) / "tickets")
    assert [w.id for w in checks.attachment_storage_is_private(None)] == ["wagtail_tickets.W005"]


def test_the_migrations_name_the_callable_not_a_folder():
    from django.db.migrations.writer import MigrationWriter

    field = Attachment._meta.get_field("file")
    _name, _path, _args, kwargs = field.deconstruct()
    serialized, _imports = MigrationWriter.serialize(kwargs["storage"])
    assert serialized == "wagtail_tickets.storage.attachment_storage"


def test_files_stored_in_media_root_before_are_moved(department, settings):
    _ticket, _raw, attachment = _attach(department, content=b"old place\n")
    name = attachment.file.name
    # As an older version stored it: in the default storage, under MEDIA_ROOT.
    attachment.file.storage.delete(name)
    default_storage.save(name, ContentFile(b"old place\n"))
    output = StringIO()
    call_command("helpdesk_move_attachments", stdout=output)
    assert "Moved 1 file(s)" in output.getvalue()
    assert not default_storage.exists(name)
    fresh = Attachment.objects.get(pk=attachment.pk)
    with fresh.file.open("rb") as handle:
        assert handle.read() == b"old place\n"
    call_command("helpdesk_move_attachments", stdout=output)
    assert "Moved 0 file(s); 1 already in place" in output.getvalue()
