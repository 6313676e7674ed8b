"""Statuses get a name for customers; the seeded colours meet WCAG AA with white text.

Both changes touch only what the seed migration (0002) created and nobody changed since:
a status still called by its seeded name gets its customer-facing name, and a status or
priority still in its seeded name and colour gets the new colour. A manager's own names
and colours stay as they are.
"""

from django.db import migrations, models
from django.utils.translation import gettext_noop

# Seeded (name, kind) -> name for customers. Stored in English and shown through the
# translation catalogue, like the seeded names. New, Resolved and Closed read well to
# customers as they are.
CUSTOMER_NAMES = {
    ("Open", "open"): gettext_noop("In progress"),
    ("Waiting for customer", "waiting"): gettext_noop("Waiting for your reply"),
}

# Seeded name -> (old colour, new colour). The old ones gave white text 3.2 to 5.2:1;
# the new ones give it 5.0:1 or more (and every badge picks black or white text by
# contrast, see wagtail_tickets/colours.py).
STATUS_COLOURS = {
    "New": ("#2563eb", "#1d4ed8"),
    "Open": ("#0891b2", "#0e7490"),
    "Waiting for customer": ("#d97706", "#b45309"),
    "Resolved": ("#16a34a", "#15803d"),
    "Closed": ("#6b7280", "#4b5563"),
}
PRIORITY_COLOURS = {
    "Low": ("#6b7280", "#4b5563"),
    "Normal": ("#2563eb", "#1d4ed8"),
    "High": ("#d97706", "#b45309"),
    "Urgent": ("#dc2626", "#b91c1c"),
}


def _recolour(model, colours, forward):
    for name, (old, new) in colours.items():
        before, after = (old, new) if forward else (new, old)
        for row in model.objects.filter(name=name):
            if row.colour.lower() == before:
                row.colour = after
                row.save(update_fields=["colour"])


def forwards(apps, schema_editor):
    Status = apps.get_model("wagtail_tickets", "Status")
    Priority = apps.get_model("wagtail_tickets", "Priority")
    for (name, kind), customer_name in CUSTOMER_NAMES.items():
        Status.objects.filter(name=name, kind=kind, customer_name="").update(
            customer_name=customer_name
        )
    _recolour(Status, STATUS_COLOURS, forward=True)
    _recolour(Priority, PRIORITY_COLOURS, forward=True)


def backwards(apps, schema_editor):
    # The field goes with the schema change; only the colours need putting back.
    _recolour(apps.get_model("wagtail_tickets", "Status"), STATUS_COLOURS, forward=False)
    _recolour(apps.get_model("wagtail_tickets", "Priority"), PRIORITY_COLOURS, forward=False)


class Migration(migrations.Migration):
    dependencies = [("wagtail_tickets", "0014_desk_usability")]

    operations = [
        migrations.AddField(
            model_name="status",
            name="customer_name",
            field=models.CharField(
                blank=True,
                default="",
                help_text=(
                    "What customers see on their pages and in their e-mails, e.g. “Waiting "
                    "for your reply” for “Waiting for customer”. Empty: the name."
                ),
                max_length=60,
                verbose_name="name for customers",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
