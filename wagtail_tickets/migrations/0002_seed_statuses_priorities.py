from django.db import migrations
from django.utils.translation import gettext_noop

# Names are stored in English and shown through the translation catalogue.
STATUSES = [
    (gettext_noop("New"), "new", "#2563eb", True),
    (gettext_noop("Open"), "open", "#0891b2", False),
    (gettext_noop("Waiting for customer"), "waiting", "#d97706", False),
    (gettext_noop("Resolved"), "resolved", "#16a34a", False),
    (gettext_noop("Closed"), "closed", "#6b7280", False),
]

# name, colour, first response minutes, resolution minutes, default
PRIORITIES = [
    (gettext_noop("Low"), "#6b7280", 24 * 60, 7 * 24 * 60, False),
    (gettext_noop("Normal"), "#2563eb", 8 * 60, 3 * 24 * 60, True),
    (gettext_noop("High"), "#d97706", 2 * 60, 24 * 60, False),
    (gettext_noop("Urgent"), "#dc2626", 30, 8 * 60, False),
]


def seed(apps, schema_editor):
    Status = apps.get_model("wagtail_tickets", "Status")
    Priority = apps.get_model("wagtail_tickets", "Priority")
    if not Status.objects.exists():
        for order, (name, kind, colour, default) in enumerate(STATUSES):
            Status.objects.create(
                name=name, kind=kind, colour=colour, sort_order=order, is_default=default
            )
    if not Priority.objects.exists():
        for order, (name, colour, first, resolution, default) in enumerate(PRIORITIES):
            Priority.objects.create(
                name=name,
                colour=colour,
                sort_order=order,
                first_response_minutes=first,
                resolution_minutes=resolution,
                is_default=default,
            )


class Migration(migrations.Migration):
    dependencies = [("wagtail_tickets", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
