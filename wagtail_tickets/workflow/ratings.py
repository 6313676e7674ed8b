"""Customers' ratings of staff replies, and reopening a ticket its customer is unhappy with."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .. import signals
from ..analytics import rollups
from ..models import Message, Rating, Status
from ..models.ratings import MAX_SCORE, MIN_SCORE
from .tickets import WorkflowError, _copy_state, _lock, _send_after_commit, reopen

COMMENT_LENGTH = 2000


@dataclass
class Rated:
    rating: Rating
    created: bool
    changed: bool
    reopened: bool


def clean_score(score):
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = None
    if score is None or not MIN_SCORE <= score <= MAX_SCORE:
        raise WorkflowError(
            _("A score is a whole number from %(low)d to %(high)d.")
            % {"low": MIN_SCORE, "high": MAX_SCORE}
        )
    return score


def clean_comment(comment):
    return (comment or "").replace("\x00", "").strip()[:COMMENT_LENGTH]


def is_rateable(message):
    return message.is_staff_reply and not message.is_internal


def can_change(rating, change_days, now=None):
    """Whether ``rating`` may still be changed, ``change_days`` after it was given."""
    if change_days is None:
        return True
    return (now or timezone.now()) <= rating.created_at + timedelta(days=change_days)


def _person(user):
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


@transaction.atomic
def rate(
    message,
    *,
    score,
    comment="",
    user=None,
    source=Rating.Source.PAGE,
    change_days=None,
    reopen_if_unhappy=False,
    at=None,
):
    """Store the customer's score (1-5) and comment of a public staff reply, or change
    them while ``change_days`` have not passed since it was first rated. The rating
    counts for the reply's author. With ``reopen_if_unhappy``, a score of 1 or 2 reopens
    a resolved or closed ticket. Returns a ``Rated``."""
    score = clean_score(score)
    comment = clean_comment(comment)
    now = at or timezone.now()
    ticket = message.ticket
    locked = _lock(ticket)
    message = Message.objects.filter(pk=message.pk, ticket=locked).select_related("author").first()
    if message is None or not is_rateable(message):
        raise WorkflowError(_("Only replies from the support team can be rated."))
    rating = Rating.objects.filter(message=message).first()
    created = rating is None
    if created:
        rating = Rating.objects.create(
            message=message,
            ticket=locked,
            agent_id=message.author_id,
            score=score,
            comment=comment,
            rated_by=user if user is not None and user.is_authenticated else None,
            source=source,
            created_at=now,
            updated_at=now,
        )
        old_score = None
    else:
        if not can_change(rating, change_days, now):
            raise WorkflowError(_("This rating can no longer be changed."))
        if rating.score == score and rating.comment == comment:
            return Rated(rating, created=False, changed=False, reopened=False)
        old_score = rating.score
        rating.score, rating.comment, rating.updated_at = score, comment, now
        rating.save(update_fields=["score", "comment", "updated_at"])
    rollups.record_ticket(locked)
    log(
        locked,
        "wagtail_tickets.rating.create" if created else "wagtail_tickets.rating.change",
        user=user if user is not None and user.is_authenticated else None,
        data={
            "message_id": message.pk,
            "score": score,
            "old_score": old_score,
            "agent": _person(message.author),
            "source": source,
        },
        timestamp=now,
    )
    reopened = False
    if reopen_if_unhappy and rating.is_unhappy and locked.status.kind in Status.ARCHIVED_KINDS:
        reopened = reopen(locked, user=_actor(user), at=now)
    _copy_state(ticket, locked)
    _send_after_commit(
        signals.ticket_rated,
        ticket=locked,
        rating=rating,
        created=created,
        reopened=reopened,
        user=user,
    )
    return Rated(rating, created=created, changed=True, reopened=reopened)


def _actor(user):
    return user if user is not None and user.is_authenticated else None


@transaction.atomic
def reopen_unhappy(rating, *, user=None, at=None):
    """Reopen the ticket of an unhappy rating (1 or 2), as its customer asked; returns
    False when the ticket is already open."""
    if not rating.is_unhappy:
        raise WorkflowError(_("Only a ticket rated 1 or 2 is reopened this way."))
    locked = _lock(rating.ticket)
    if locked.status.kind not in Status.ARCHIVED_KINDS:
        return False
    now = at or timezone.now()
    reopen(locked, user=_actor(user), at=now)
    log(
        locked,
        "wagtail_tickets.rating.reopen",
        user=_actor(user),
        data={"message_id": rating.message_id, "score": rating.score},
        timestamp=now,
    )
    _send_after_commit(signals.unhappy_reopened, ticket=locked, rating=rating, user=user)
    return True
