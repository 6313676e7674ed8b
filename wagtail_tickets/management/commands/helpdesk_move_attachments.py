"""Move ticket attachments stored before they had a storage of their own.

Until 0.1 attachments were saved in the default storage (MEDIA_ROOT, under
WAGTAIL_TICKETS_UPLOAD_TO). This copies each file still there into the attachments'
storage under the same name, then deletes the old copy (unless --keep). Run it once
after upgrading; running it again moves nothing.
"""

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand

from wagtail_tickets.models import Attachment


class Command(BaseCommand):
    help = "Move ticket attachments from the default storage (MEDIA_ROOT) to their own."

    def add_arguments(self, parser):
        parser.add_argument(
            "--keep", action="store_true", help="Leave the old copies where they are."
        )
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be moved.")

    def handle(self, *args, keep=False, dry_run=False, **options):
        target = Attachment._meta.get_field("file").storage
        moved = missing = already = 0
        for attachment in Attachment.objects.order_by("pk").iterator(chunk_size=500):
            name = attachment.file.name
            if target.exists(name):
                already += 1
                continue
            if not default_storage.exists(name):
                missing += 1
                self.stderr.write(f"Missing: {name} (attachment {attachment.pk})")
                continue
            if not dry_run:
                with default_storage.open(name, "rb") as handle:
                    saved = target.save(name, handle)
                if saved != name:
                    Attachment.objects.filter(pk=attachment.pk).update(file=saved)
                if not keep:
                    default_storage.delete(name)
            moved += 1
        verb = "Would move" if dry_run else "Moved"
        self.stdout.write(f"{verb} {moved} file(s); {already} already in place; {missing} missing.")
