"""What a ticket adds to the analytics rollups: its *facts*.

The facts are a function of the ticket's saved rows (``ticket_facts``); see
``rollups`` for what counts where and how the rollups are kept.
"""

from collections import defaultdict
from datetime import UTC, timedelta

from django.db.models import FilteredRelation, Q

from ..models import DurationRollup, Ticket
from .periods import local_day, minutes_between

FACTS_VERSION = 1
COUNTERS = (
    "opened",
    "resolved",
    "replies",
    "touched",
    "time_spent",
    "first_responses",
    "sla_total",
    "sla_met",
    "rated_1",
    "rated_2",
    "rated_3",
    "rated_4",
    "rated_5",
)
COUNTER_INDEX = {name: index for index, name in enumerate(COUNTERS)}
#: Duration buckets: the minute itself, 32-minute and 1,024-minute buckets.
LEVEL_SHIFTS = (0, 5, 10)
FIRST_RESPONSE = DurationRollup.Metric.FIRST_RESPONSE.value
RESOLUTION = DurationRollup.Metric.RESOLUTION.value

#: What ``ticket_facts`` reads, per staff message (a LEFT JOIN, so a ticket without
#: staff messages still gives its row).
TICKET_COLUMNS = (
    "pk",
    "analytics_facts",
    "created_at",
    "resolved_at",
    "first_response_at",
    "department_id",
    "assignee_id",
    "merged_into_id",
    "status_id",
    "subject_key",
    "priority__first_response_minutes",
    "priority__resolution_minutes",
)
MESSAGE_COLUMNS = (
    "wt_staff__pk",
    "wt_staff__author_id",
    "wt_staff__created_at",
    "wt_staff__is_internal",
    "wt_staff__time_spent_minutes",
    "wt_staff__rating__score",
    "wt_staff__rating__agent_id",
    "wt_staff__rating__created_at",
)


# --------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------


def load_tickets(ticket_ids):
    """{ticket id: (ticket columns as a dict, [staff message tuples in order])}, one query."""
    rows = (
        Ticket.objects.filter(pk__in=ticket_ids)
        .annotate(wt_staff=FilteredRelation("messages", condition=Q(messages__is_staff_reply=True)))
        .order_by("pk", "wt_staff__created_at", "wt_staff__pk")
        .values_list(*TICKET_COLUMNS, *MESSAGE_COLUMNS)
    )
    loaded = {}
    width = len(TICKET_COLUMNS)
    for row in rows:
        entry = loaded.get(row[0])
        if entry is None:
            entry = loaded[row[0]] = (dict(zip(TICKET_COLUMNS, row[:width], strict=True)), [])
        if row[width] is not None:
            entry[1].append(row[width:])
    return loaded


def _ordinal(moment):
    return local_day(moment).toordinal()


def _stamp(moment):
    """A datetime as text that sorts as the datetimes do (UTC, fixed width)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: Counters that come from the staff messages and their ratings; the others come from
#: the ticket's own columns.
MESSAGE_COUNTERS = frozenset(
    COUNTER_INDEX[name]
    for name in (
        "replies",
        "touched",
        "time_spent",
        "rated_1",
        "rated_2",
        "rated_3",
        "rated_4",
        "rated_5",
    )
)


def _add(activity, moment, agent, counter, amount=1):
    activity[(_ordinal(moment), agent, COUNTER_INDEX[counter])] += amount


def message_part(messages):
    """(activity, responder, latest) of staff messages in order: replies, time, tickets
    answered and ratings; the author of the first public reply (None without one); the
    time of the latest staff message as a stamp."""
    activity = defaultdict(int)
    answered = set()
    responder = None
    latest = None
    for _pk, author, at, internal, spent, score, rated_agent, rated_at in messages:
        latest = _stamp(at)
        agent = author or 0
        if spent:
            _add(activity, at, agent, "time_spent", spent)
        if internal:
            continue
        _add(activity, at, agent, "replies")
        if agent not in answered:
            answered.add(agent)
            _add(activity, at, agent, "touched")
        if responder is None:
            responder = agent
        if score:
            _add(activity, rated_at, rated_agent or 0, f"rated_{score}")
    return activity, responder, latest


def build_facts(ticket, activity, responder, latest):
    """The facts of a ticket (a dict of TICKET_COLUMNS) given its message part."""
    activity = defaultdict(int, activity)
    assignee = ticket["assignee_id"] or 0
    created = ticket["created_at"]
    resolved = ticket["resolved_at"]
    first_response = ticket["first_response_at"]
    _add(activity, created, assignee, "opened")
    if resolved is not None:
        _add(activity, resolved, assignee, "resolved")
    durations, topics = [], []
    if ticket["merged_into_id"] is None:
        if first_response is not None:
            who = responder or 0
            _add(activity, first_response, who, "first_responses")
            durations.append(
                [
                    FIRST_RESPONSE,
                    _ordinal(first_response),
                    who,
                    minutes_between(created, first_response),
                ]
            )
        if resolved is not None:
            durations.append(
                [RESOLUTION, _ordinal(resolved), assignee, minutes_between(created, resolved)]
            )
            first_target = ticket["priority__first_response_minutes"]
            resolution_target = ticket["priority__resolution_minutes"]
            if first_target or resolution_target:
                _add(activity, resolved, assignee, "sla_total")
                answered_in = (first_response or resolved) - created
                resolved_in = resolved - created
                if (not first_target or answered_in <= timedelta(minutes=first_target)) and (
                    not resolution_target or resolved_in <= timedelta(minutes=resolution_target)
                ):
                    _add(activity, resolved, assignee, "sla_met")
            if ticket["subject_key"]:
                topics.append(
                    [
                        _ordinal(resolved),
                        ticket["status_id"],
                        ticket["subject_key"],
                        _stamp(resolved),
                    ]
                )
    return {
        "v": FACTS_VERSION,
        "dept": ticket["department_id"] or 0,
        "r": responder,
        "m": latest,
        "a": sorted([*key, amount] for key, amount in activity.items() if amount),
        "d": sorted(durations),
        "t": topics,
    }


def ticket_facts(ticket, messages):
    """The facts of one ticket (a dict of TICKET_COLUMNS) with its staff messages."""
    return build_facts(ticket, *message_part(messages))


def columns_of(ticket):
    """TICKET_COLUMNS of a ticket instance as it is in memory (saved or about to be)."""
    priority = ticket.priority
    return {
        "department_id": ticket.department_id,
        "assignee_id": ticket.assignee_id,
        "created_at": ticket.created_at,
        "resolved_at": ticket.resolved_at,
        "first_response_at": ticket.first_response_at,
        "merged_into_id": ticket.merged_into_id,
        "status_id": ticket.status_id,
        "subject_key": ticket.subject_key,
        "priority__first_response_minutes": priority.first_response_minutes if priority else None,
        "priority__resolution_minutes": priority.resolution_minutes if priority else None,
    }


def facts_after(old, ticket, message=None):
    """The new facts of ``ticket`` (an instance with its changes in memory) from its kept
    facts, when its staff messages are the same or ``message`` was added after all of
    them; None when that cannot be told (then the messages are read again)."""
    if not old or old.get("v") != FACTS_VERSION or ticket.merged_into_id is not None:
        return None
    activity = defaultdict(int)
    for ordinal, agent, counter, amount in old["a"]:
        if counter in MESSAGE_COUNTERS:
            activity[(ordinal, agent, counter)] += amount
    responder, latest = old.get("r"), old.get("m")
    if message is not None and message.is_staff_reply:
        stamp = _stamp(message.created_at)
        if latest is not None and stamp < latest:
            return None  # backdated before another staff message
        agent = message.author_id or 0
        more, first, _last = message_part(
            [
                (
                    message.pk,
                    message.author_id,
                    message.created_at,
                    message.is_internal,
                    message.time_spent_minutes,
                    None,
                    None,
                    None,
                )
            ]
        )
        answered = {a for (_o, a, c) in activity if c == COUNTER_INDEX["touched"]}
        for (ordinal, who, counter), amount in more.items():
            if counter == COUNTER_INDEX["touched"] and who in answered:
                continue
            activity[(ordinal, who, counter)] += amount
        if responder is None and first is not None:
            responder = agent
        latest = stamp
    return build_facts(columns_of(ticket), activity, responder, latest)


def new_ticket_facts(ticket):
    """The facts of a ticket being opened, from the unsaved instance (it has no staff
    messages yet), so that opening one costs a single write here."""
    return build_facts(columns_of(ticket), {}, None, None)
