"""The cached ids of the statuses of each kind, behind Ticket.objects.active()/archived()."""

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import Status, Ticket
from wagtail_tickets.models.tickets import status_ids


def test_active_and_archived_follow_the_status_kinds(department):
    open_one = factories.open_ticket(department, subject="Still open")
    done = factories.open_ticket(department, subject="Done")
    workflow.close(done)
    assert list(Ticket.objects.active()) == [open_one]
    assert list(Ticket.objects.archived()) == [done]


def test_ids_are_cached_after_the_first_use(db, django_assert_num_queries):
    status_ids(Status.ACTIVE_KINDS)
    with django_assert_num_queries(0):
        ids = status_ids(Status.ACTIVE_KINDS)
    assert set(ids) == set(
        Status.objects.filter(kind__in=Status.ACTIVE_KINDS).values_list("pk", flat=True)
    )


def test_a_managers_change_of_kind_shows_at_once(department):
    ticket = factories.open_ticket(department)
    assert list(Ticket.objects.active()) == [ticket]  # fills the cache
    status = ticket.status
    status.kind = Status.Kind.CLOSED
    status.save()
    assert list(Ticket.objects.active()) == []
    assert list(Ticket.objects.archived()) == [ticket]


def test_a_new_or_deleted_status_shows_at_once(department):
    status_ids(Status.ACTIVE_KINDS)
    extra = Status.objects.create(name="On hold", kind=Status.Kind.WAITING, colour="#888888")
    assert extra.pk in status_ids(Status.ACTIVE_KINDS)
    extra.delete()
    assert extra.pk not in status_ids(Status.ACTIVE_KINDS)
