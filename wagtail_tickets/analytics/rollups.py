"""The rollups the analytics read, kept exact by the workflow.

Every ticket adds *facts* to the rollups: it was opened on a day (for its assignee), it
was resolved on a day and took so many minutes, an agent replied twice on a day and
spent 20 minutes, it got its first response after 12 minutes, a reply was rated 4. The
facts are a function of the ticket's saved rows (``ticket_facts``), and the ticket keeps
the facts it last added (``Ticket.analytics_facts``). After each change the workflow
calls ``record_ticket``, in its own transaction: it reads the ticket and its staff
messages again, and adds the difference between the new facts and the kept ones. So
the rollups always equal what ``rebuild`` computes from the tickets, and a change takes
back exactly what the ticket had added, even after a priority's targets were edited or
a department deleted (the rollups' keys are ids; the reports treat ids of deleted
departments and users as "none").

What counts where (days in the site's time zone, see ``periods``):

- opened: the creation day, for the assignee; resolved: the day of the (latest)
  resolution, for the assignee. A reopened ticket no longer counts as resolved, so the
  backlog of any past day is the backlog now minus the tickets opened since plus those
  resolved since.
- replies and time spent: each staff message's day, for its author (time includes
  internal notes); tickets answered: the day of an agent's first public reply on the
  ticket, once per agent and ticket.
- first response: its day, for the agent who gave it, with its time in minutes;
  resolution time: the resolution's day, for the assignee. Tickets merged into another
  leave both out, and the SLA.
- SLA: a resolved ticket whose priority has targets is within them when its first
  response (or, without one, its resolution) came within the first-response target and
  its resolution within the resolution target; counted on the resolution day with the
  targets as they were when the ticket last changed.
- ratings: the day of the first rating, for the agent rated, by score.
- topics: resolved tickets with a topic key, by status, for "Frequent requests".

Each fact is added to a day row, a month row and a quarter row, and for the agent and
for the department's total (``ALL_AGENTS``); durations also in 32- and 1,024-minute
buckets.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import DateTimeField, Exists, FilteredRelation, Max, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from ..models import ActivityRollup, DepartmentPage, DurationRollup, Ticket, TopicRollup
from ..models.ratings import ALL_AGENTS, Grain
from .periods import day_start, local_day, minutes_between, next_month, quarter_start

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
UPSERT_ROWS = 300

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


# --------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------


class Rows:
    """Rollup rows and what to add to them, keyed as the tables' unique constraints."""

    def __init__(self):
        self.activity = defaultdict(lambda: [0] * len(COUNTERS))
        self.durations = defaultdict(int)
        # key -> [count, latest resolved_at as ISO text or None]
        self.topics = {}

    def add_facts(self, facts, sign=1):
        if not facts:
            return
        dept = facts["dept"]
        cache = {}

        def blocks_of(ordinal):
            """((grain, first day's ordinal), ...) of the day, month and quarter."""
            blocks = cache.get(ordinal)
            if blocks is None:
                day = date.fromordinal(ordinal)
                blocks = cache[ordinal] = (
                    (Grain.DAY, ordinal),
                    (Grain.MONTH, day.replace(day=1).toordinal()),
                    (Grain.QUARTER, quarter_start(day).toordinal()),
                )
            return blocks

        for ordinal, agent, counter, amount in facts["a"]:
            for grain, block in blocks_of(ordinal):
                for who in (agent, ALL_AGENTS):
                    self.activity[(grain, block, dept, who)][counter] += sign * amount
        for metric, ordinal, agent, minutes in facts["d"]:
            for grain, block in blocks_of(ordinal):
                for who in (agent, ALL_AGENTS):
                    for level, shift in enumerate(LEVEL_SHIFTS):
                        key = (metric, level, grain, block, dept, who, minutes >> shift)
                        self.durations[key] += sign
        for ordinal, status, subject_key, resolved in facts["t"]:
            for grain, block in blocks_of(ordinal):
                entry = self.topics.setdefault((grain, block, dept, status, subject_key), [0, None])
                entry[0] += sign
                if sign > 0 and (entry[1] is None or resolved > entry[1]):
                    entry[1] = resolved

    def merge(self, other):
        for key, values in other.activity.items():
            mine = self.activity[key]
            for index, value in enumerate(values):
                mine[index] += value
        for key, value in other.durations.items():
            self.durations[key] += value
        for key, (count, latest) in other.topics.items():
            entry = self.topics.setdefault(key, [0, None])
            entry[0] += count
            if latest is not None and (entry[1] is None or latest > entry[1]):
                entry[1] = latest

    def __len__(self):
        return len(self.activity) + len(self.durations) + len(self.topics)


def _upsert(model, keys, sums, rows, latest=None):
    """INSERT ... ON CONFLICT DO UPDATE adding ``sums`` (and keeping the latest of the
    ``latest`` column) for ``rows`` of (keys..., sums..., [latest]); one statement per
    UPSERT_ROWS rows. Both SQLite (3.24+) and PostgreSQL speak this dialect."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = [*keys, *sums, *([latest] if latest else [])]
    columns = [quote(model._meta.get_field(name).column) for name in names]
    key_columns = columns[: len(keys)]
    updates = [
        f"{column} = {table}.{column} + excluded.{column}" for column in columns[len(keys) :]
    ]
    if latest:
        updates[-1] = (
            f"{columns[-1]} = CASE WHEN {table}.{columns[-1]} IS NULL "
            f"OR excluded.{columns[-1]} > {table}.{columns[-1]} "
            f"THEN excluded.{columns[-1]} ELSE {table}.{columns[-1]} END"
        )
    row_sql = "(" + ", ".join(["%s"] * len(names)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start : start + UPSERT_ROWS]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                + ", ".join([row_sql] * len(chunk))
                + f" ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET "
                + ", ".join(updates),
                [value for row in chunk for value in row],
            )


def _day(ordinal):
    return connection.ops.adapt_datefield_value(date.fromordinal(ordinal))


def _datetime(stamp):
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _moment(stamp):
    if not stamp:
        return None
    return connection.ops.adapt_datetimefield_value(_datetime(stamp))


def write(rows):
    """Add ``rows`` to the tables; rows whose additions are all zero are left alone."""
    _upsert(
        ActivityRollup,
        ("grain", "day", "department_id", "agent_id"),
        COUNTERS,
        [
            (grain, _day(block), dept, agent, *values)
            for (grain, block, dept, agent), values in sorted(rows.activity.items())
            if any(values)
        ],
    )
    _upsert(
        DurationRollup,
        ("metric", "level", "grain", "day", "bucket", "agent_id", "department_id"),
        ("count",),
        [
            (metric, level, grain, _day(block), bucket, agent, dept, count)
            for (metric, level, grain, block, dept, agent, bucket), count in sorted(
                rows.durations.items()
            )
            if count
        ],
    )
    _upsert(
        TopicRollup,
        ("grain", "day", "department_id", "status_id", "subject_key"),
        ("resolved",),
        [
            (grain, _day(block), dept, status, key, count, _moment(latest))
            for (grain, block, dept, status, key), (count, latest) in sorted(rows.topics.items())
            if count or latest
        ],
        latest="last_resolved",
    )


def _refresh_latest(keys, ticket_id):
    """Recompute ``last_resolved`` of topic rows ticket ``ticket_id`` left, or now holds
    with an earlier resolution: a maximum cannot be taken back. ``keys`` maps each row to
    the ticket's new resolution in it (a stamp), or None. The other tickets are read as
    saved; this one may not be saved yet. The tickets of a deleted department have none,
    and the reports count such ids as "no department", so for those the tickets without
    a department count."""
    for (grain, block, dept, status, subject_key), stamp in keys.items():
        first = date.fromordinal(block)
        if grain == Grain.DAY:
            after = first + timedelta(days=1)
        elif grain == Grain.MONTH:
            after = next_month(first)
        else:
            after = next_month(next_month(next_month(first)))
        department = Q(department_id__isnull=True)
        if dept:
            department = Q(department_id=dept) | (
                department & ~Exists(DepartmentPage.objects.filter(pk=dept))
            )
        latest = Subquery(
            Ticket.objects.filter(
                department,
                subject_key=subject_key,
                status_id=status,
                merged_into__isnull=True,
                resolved_at__gte=day_start(first),
                resolved_at__lt=day_start(after),
            )
            .exclude(pk=ticket_id)
            .order_by()
            .values("subject_key")
            .annotate(wt_latest=Max("resolved_at"))
            .values("wt_latest")[:1]
        )
        if stamp is not None:
            mine = Value(_datetime(stamp), output_field=DateTimeField())
            latest = Greatest(Coalesce(latest, mine), mine)
        TopicRollup.objects.filter(
            grain=grain,
            day=first,
            department_id=dept,
            status_id=status,
            subject_key=subject_key,
        ).update(last_resolved=latest)


def apply_change(old, new, ticket_id=None):
    """Take ``old`` facts of ticket ``ticket_id`` back and add ``new`` ones."""
    rows = Rows()
    rows.add_facts(old, -1)
    rows.add_facts(new, +1)
    write(rows)
    # Topic rows whose latest resolution may have been this ticket's old one.
    if old and old.get("t"):
        before, after = Rows(), Rows()
        before.add_facts({**old, "a": [], "d": []})
        after.add_facts({**new, "a": [], "d": []} if new else None)
        stale = {
            key: after.topics[key][1] if key in after.topics else None
            for key, (_count, latest) in before.topics.items()
            if key not in after.topics or (after.topics[key][1] or "") < (latest or "")
        }
        _refresh_latest(stale, ticket_id)


def record_ticket(ticket):
    """Bring the rollups in line with ``ticket`` as saved; the workflow calls this in its
    transaction after its changes. One query when nothing changed for the analytics."""
    loaded = load_tickets([ticket.pk]).get(ticket.pk)
    if loaded is None:
        return False
    columns, messages = loaded
    old = columns["analytics_facts"] or {}
    new = ticket_facts(columns, messages)
    if new == old:
        return False
    apply_change(old, new, ticket.pk)
    Ticket.objects.filter(pk=ticket.pk).update(analytics_facts=new)
    ticket.analytics_facts = new
    return True


def new_ticket_facts(ticket):
    """The facts of a ticket being opened, from the unsaved instance (it has no staff
    messages yet), so that opening one costs a single write here."""
    return build_facts(columns_of(ticket), {}, None, None)


def update_ticket(ticket, message=None):
    """Bring the rollups in line with ``ticket``'s changes before the workflow saves it:
    ``ticket`` is the locked instance with its changes in memory, ``message`` a staff
    message just added. Sets ``ticket.analytics_facts``, which the save writes; one query
    (the rollups' write), or none when nothing changed for the analytics. Falls back to
    reading the messages when the kept facts cannot tell."""
    old = ticket.analytics_facts or {}
    new = facts_after(old, ticket, message)
    if new is None:
        loaded = load_tickets([ticket.pk]).get(ticket.pk)
        messages = loaded[1] if loaded else []
        new = ticket_facts(columns_of(ticket), messages)
    if new != old:
        apply_change(old, new, ticket.pk)
        ticket.analytics_facts = new
    return new != old


def add_facts(facts):
    rows = Rows()
    rows.add_facts(facts)
    write(rows)


def forget_ticket(ticket):
    """Take back what a deleted ticket had added."""
    facts = ticket.analytics_facts
    if facts:
        apply_change(facts, {}, ticket.pk)


# --------------------------------------------------------------------------------------
# Rebuild
# --------------------------------------------------------------------------------------

REBUILD_BATCH = 2000
#: Rows kept in memory before they are written out.
REBUILD_FLUSH = 400_000


def rebuild(*, batch=REBUILD_BATCH, progress=None):
    """Recompute every rollup from the tickets, and each ticket's kept facts.

    For repair, after bulk imports, and after changing ``TIME_ZONE``. On PostgreSQL the
    ticket table is locked against changes meanwhile (reading stays possible); on SQLite
    the first write takes the database's write lock. Returns the number of tickets.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {connection.ops.quote_name(Ticket._meta.db_table)} "
                    "IN EXCLUSIVE MODE"
                )
        for model in (ActivityRollup, DurationRollup, TopicRollup):
            model.objects.all().delete()
        ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
        rows = Rows()
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            changed = []
            for pk, (columns, messages) in load_tickets(chunk).items():
                facts = ticket_facts(columns, messages)
                rows.add_facts(facts)
                if facts != columns["analytics_facts"]:
                    changed.append(Ticket(pk=pk, analytics_facts=facts))
            Ticket.objects.bulk_update(changed, ["analytics_facts"], batch_size=500)
            if len(rows) > REBUILD_FLUSH:
                write(rows)
                rows = Rows()
            if progress:
                progress(min(start + batch, len(ids)), len(ids))
        write(rows)
    return len(ids)
