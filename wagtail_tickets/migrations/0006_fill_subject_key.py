from django.db import migrations

from wagtail_tickets.topics import topic_key


def fill_subject_keys(apps, schema_editor):
    Ticket = apps.get_model("wagtail_tickets", "Ticket")
    batch = []
    for ticket in Ticket.objects.only("pk", "subject").iterator(chunk_size=2000):
        ticket.subject_key = topic_key(ticket.subject)
        batch.append(ticket)
        if len(batch) >= 2000:
            Ticket.objects.bulk_update(batch, ["subject_key"])
            batch = []
    if batch:
        Ticket.objects.bulk_update(batch, ["subject_key"])


class Migration(migrations.Migration):
    dependencies = [("wagtail_tickets", "0005_knowledge_base")]

    operations = [migrations.RunPython(fill_subject_keys, migrations.RunPython.noop)]
