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
from django.db.models import DateTimeField, Exists, Max, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from ..models import ActivityRollup, DepartmentPage, DurationRollup, Ticket, TopicRollup
from ..models.ratings import ALL_AGENTS, Grain
from .facts import (  # noqa: F401 - the workflow and the queries name them from here
    COUNTERS,
    FIRST_RESPONSE,
    LEVEL_SHIFTS,
    RESOLUTION,
    columns_of,
    facts_after,
    load_tickets,
    new_ticket_facts,
    ticket_facts,
)
from .periods import day_start, next_month, quarter_start

UPSERT_ROWS = 300


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
    if old and new and old.get("t") == new.get("t") and old.get("dept") == new.get("dept"):
        # Its topic rows stay as they are (a reply to a resolved ticket): taking them
        # back and adding them again would write every one of them for nothing.
        old, new = {**old, "t": []}, {**new, "t": []}
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
