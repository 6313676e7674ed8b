"""The figures the analytics screens, their exports and the PDF show.

Every function takes a ``Scope``: the period, the departments the user may see, and the
department and agent filters. Counts come from the rollups, summed in SQL over the
months inside the period and the days at its edges (``Period.blocks``); the only reads
of live tickets are the backlog and open tickets now, which are bounded by the open
work, not the history.

Ids of departments and users that no longer exist are counted as 0 ("no department",
"no agent"), as the tickets that belonged to them now are.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, F, FloatField, Q, Sum, When
from django.db.models.functions import Cast

from .. import deflection
from ..models import (
    ActivityRollup,
    ArticlePage,
    ArticleVote,
    DurationRollup,
    Rating,
    Ticket,
)
from ..models.ratings import ALL_AGENTS, SATISFIED_SCORES, Grain
from .percentiles import percentiles, raw_rows
from .periods import Period, today
from .rollups import COUNTERS, FIRST_RESPONSE, RESOLUTION

SCORES = (1, 2, 3, 4, 5)
#: The counts the agents screen shows; an agent with none of them is left out.
AGENT_COUNTERS = (
    "replies",
    "touched",
    "resolved",
    "time_spent",
    "first_responses",
    *(f"rated_{score}" for score in SCORES),
)
#: The counts the departments screen shows; a department with none of them is left out.
DEPARTMENT_COUNTERS = (
    "opened",
    "resolved",
    "first_responses",
    "sla_total",
    *(f"rated_{score}" for score in SCORES),
)


@dataclass(frozen=True)
class Scope:
    """What a report covers.

    ``departments``: the ids the user may see, or None for every department (and
    tickets without one). ``department`` and ``agent``: the filters, or None.
    ``known_departments``: the ids of the departments that exist, for reports grouped by
    department (others count as 0).
    """

    period: Period
    departments: tuple | None = None
    department: int | None = None
    agent: int | None = None
    known_departments: frozenset = field(default_factory=frozenset)

    @property
    def is_empty(self):
        return (
            self.department is not None
            and self.departments is not None
            and self.department not in self.departments
        )

    def department_q(self, name="department_id"):
        if self.is_empty:
            return Q(pk__in=[])
        if self.department is not None:
            return Q(**{name: self.department})
        if self.departments is not None:
            return Q(**{f"{name}__in": self.departments})
        return Q()

    def department_list(self):
        """The departments as a list for ``deflection`` (None: all)."""
        if self.is_empty:
            return []
        if self.department is not None:
            return [self.department]
        return None if self.departments is None else list(self.departments)

    def department_of(self, dept):
        return dept if dept in self.known_departments else 0

    def blocks_q(self):
        """The rollup rows a sum over the period reads (see ``signed``)."""
        return self._signed[0]

    def signed(self, name):
        """``name`` of a rollup row, negative on the days taken away from whole months
        (``Period.signed_blocks``): summed over ``blocks_q``, it gives the period's sum."""
        return Case(When(self._signed[1], then=-F(name)), default=F(name))

    def sum(self, name):
        return Sum(self.signed(name))

    def block_branches(self):
        """The period's rows as a few conditions (quarters, months, days) whose union is
        ``blocks_q``."""
        return self._signed[2]

    @cached_property
    def _signed(self):
        # Days as a list of equal days rather than ranges: then the database walks the
        # buckets of each day in the index (see DurationRollup's key).
        quarters, months, add, take = self.period.signed_blocks()
        branches = [
            Q(grain=grain, day__in=starts)
            for grain, starts in (
                (Grain.QUARTER, quarters),
                (Grain.MONTH, months),
                (Grain.DAY, [*add, *take]),
            )
            if starts
        ]
        condition = Q(pk__in=[])
        for branch in branches:
            condition |= branch
        taken = Q(grain=Grain.DAY, day__in=take) if take else Q(pk__in=[])
        return condition, taken, branches

    def unsigned_blocks_q(self):
        """The rows of the period without any taken away, for maximums (topics)."""
        quarters, months, days = self.period.blocks()
        condition = Q(pk__in=[])
        for grain, starts in ((Grain.QUARTER, quarters), (Grain.MONTH, months), (Grain.DAY, days)):
            if starts:
                condition |= Q(grain=grain, day__in=starts)
        return condition

    def agent_family_q(self):
        return Q(agent_id=self.agent if self.agent is not None else ALL_AGENTS)

    def per_agent_q(self):
        return Q(agent_id=self.agent) if self.agent is not None else Q(agent_id__gte=0)


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


SUMMED = tuple(f"wt_{name}" for name in COUNTERS)


def _sums(scope=None):
    """Sums of every counter; over blocks (``scope``) with the days taken away negative."""
    if scope is None:
        return {f"wt_{name}": Sum(name) for name in COUNTERS}
    return {f"wt_{name}": scope.sum(name) for name in COUNTERS}


def _add(total, row):
    for name in COUNTERS:
        total[name] += row[name]


def zero():
    return dict.fromkeys(COUNTERS, 0)


def ratio(part, whole):
    return part / whole if whole else None


def rating_figures(counts):
    """Count, sum, average, satisfaction and unhappy count from per-score counts."""
    by_score = {score: counts[f"rated_{score}"] for score in SCORES}
    total = sum(by_score.values())
    score_sum = sum(score * n for score, n in by_score.items())
    satisfied = sum(by_score[score] for score in SATISFIED_SCORES)
    return {
        "ratings": total,
        "score_sum": score_sum,
        "average": ratio(score_sum, total),
        "satisfied": satisfied,
        "satisfaction": ratio(satisfied, total),
        "by_score": by_score,
    }


def person_name(user):
    return user.get_full_name() or user.get_username()


def open_tickets(scope):
    """Tickets not resolved now, in the scope's departments (and of its agent)."""
    tickets = Ticket.objects.filter(scope.department_q(), resolved_at__isnull=True)
    if scope.agent is not None:
        tickets = tickets.filter(assignee_id=scope.agent)
    return tickets


# --------------------------------------------------------------------------------------
# Overview
# --------------------------------------------------------------------------------------


def as_date(value):
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def as_datetime(value):
    """A datetime column read by ``raw_rows``: text in UTC on SQLite."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def daily(scope, until):
    """{day: counters} from the period's first day to ``until``, one query."""
    rows = raw_rows(
        ActivityRollup.objects.filter(
            scope.department_q(),
            scope.agent_family_q(),
            grain=Grain.DAY,
            day__gte=scope.period.start,
            day__lte=until,
        )
        .order_by()
        .values("day")
        .annotate(**_sums())
        .values_list("day", *SUMMED)
    )
    return {
        as_date(row[0]): dict(zip(COUNTERS, (value or 0 for value in row[1:]), strict=True))
        for row in rows
    }


#: Periods up to this many days are charted per day, longer ones per week.
DAILY_DAYS = 31


def series_buckets(period):
    """The chart's buckets: (first day, last day) per day up to DAILY_DAYS days, else per
    week (Monday to Sunday, cut at the period's ends)."""
    if period.days <= DAILY_DAYS:
        return [(day, day) for day in period.each_day()]
    buckets = []
    first = period.start
    while first <= period.end:
        last = min(first + timedelta(days=6 - first.weekday()), period.end)
        buckets.append((first, last))
        first = last + timedelta(days=1)
    return buckets


def overview(scope):
    """The overview's figures and its two series (new and resolved per bucket, and the
    backlog at the end of each bucket)."""
    period = scope.period
    now_day = today()
    until = max(period.end, now_day)
    days = daily(scope, until)
    backlog_now = open_tickets(scope).count()

    totals = zero()
    for day, counts in days.items():
        if period.start <= day <= period.end:
            _add(totals, counts)
    # The backlog at the end of a day: the backlog now, less what was opened after that
    # day, plus what was resolved after it.
    later = 0
    backlog_after = {}
    for offset in range((until - period.start).days + 1):
        day = until - timedelta(days=offset)
        backlog_after[day] = backlog_now - later
        counts = days.get(day)
        if counts:
            later += counts["opened"] - counts["resolved"]
    series = [
        {
            "first": first,
            "last": last,
            "opened": 0,
            "resolved": 0,
            "backlog": backlog_after[last] if last <= now_day else None,
        }
        for first, last in series_buckets(period)
    ]
    bucket_of = {}
    for index, row in enumerate(series):
        for offset in range((row["last"] - row["first"]).days + 1):
            bucket_of[row["first"] + timedelta(days=offset)] = index
    for day, counts in days.items():
        index = bucket_of.get(day)
        if index is not None:
            series[index]["opened"] += counts["opened"]
            series[index]["resolved"] += counts["resolved"]
    durations = percentiles(
        DurationRollup.objects.filter(scope.department_q(), scope.agent_family_q()),
        branches=scope.block_branches(),
        metrics=(FIRST_RESPONSE, RESOLUTION),
        percents=(50,),
        count=scope.sum("count"),
    )
    first = durations.get((None, FIRST_RESPONSE), {})
    resolution = durations.get((None, RESOLUTION), {})
    kb = deflection.totals(period.start, period.end, departments=scope.department_list())
    return {
        "period": period,
        "opened": totals["opened"],
        "resolved": totals["resolved"],
        "backlog_now": backlog_now,
        "first_responses": totals["first_responses"],
        "first_response_median": first.get(50),
        "resolution_count": resolution.get("count", 0),
        "resolution_median": resolution.get(50),
        "sla_total": totals["sla_total"],
        "sla_met": totals["sla_met"],
        "sla_share": ratio(totals["sla_met"], totals["sla_total"]),
        **rating_figures(totals),
        "deflection": kb,
        "series": series,
    }


# --------------------------------------------------------------------------------------
# Agents
# --------------------------------------------------------------------------------------


def _grouped(scope, field_name, family):
    rows = raw_rows(
        ActivityRollup.objects.filter(scope.blocks_q(), scope.department_q(), family)
        .order_by()
        .values(field_name)
        .annotate(**_sums(scope))
        .values_list(field_name, *SUMMED)
    )
    return {
        row[0]: dict(zip(COUNTERS, (value or 0 for value in row[1:]), strict=True)) for row in rows
    }


def agents(scope):
    """One dict per agent with work in the scope (and "no agent", id 0, when it has any),
    busiest first."""
    raw = _grouped(scope, "agent_id", scope.per_agent_q())
    open_now = dict(
        open_tickets(scope)
        .order_by()
        .values("assignee_id")
        .annotate(wt_n=Count("pk"))
        .values_list("assignee_id", "wt_n")
    )
    ids = {pk for pk in [*raw, *open_now] if pk}
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=ids)}

    def agent_of(pk):
        return pk if pk in users else 0

    merged = {}
    for pk, counts in raw.items():
        _add(merged.setdefault(agent_of(pk), zero()), counts)
    opened_now = {}
    for pk, count in open_now.items():
        key = agent_of(pk or 0)
        opened_now[key] = opened_now.get(key, 0) + count
        merged.setdefault(key, zero())
    first = percentiles(
        DurationRollup.objects.filter(scope.department_q(), scope.per_agent_q()),
        branches=scope.block_branches(),
        metrics=(FIRST_RESPONSE,),
        percents=(50,),
        count=scope.sum("count"),
        group_field="agent_id",
        group_of=agent_of,
    )
    total_replies = sum(counts["replies"] for counts in merged.values())
    result = []
    for pk, counts in merged.items():
        if not any(counts[name] for name in AGENT_COUNTERS) and not opened_now.get(pk):
            continue  # nothing the screen shows (e.g. only tickets opened for them)
        user = users.get(pk)
        result.append(
            {
                "agent_id": pk,
                "name": person_name(user) if user else None,
                "is_active": bool(user and user.is_active),
                "replies": counts["replies"],
                "reply_share": ratio(counts["replies"], total_replies),
                "touched": counts["touched"],
                "resolved": counts["resolved"],
                "time_spent": counts["time_spent"],
                "open_now": opened_now.get(pk, 0),
                "first_responses": counts["first_responses"],
                "first_response_median": first.get((pk, FIRST_RESPONSE), {}).get(50),
                **rating_figures(counts),
            }
        )
    result.sort(
        key=lambda row: (row["agent_id"] == 0, -row["replies"], -row["resolved"], row["name"] or "")
    )
    return result


# --------------------------------------------------------------------------------------
# Departments
# --------------------------------------------------------------------------------------


def departments(scope, titles):
    """One dict per department with figures in the scope; ``titles`` names them."""
    raw = _grouped(scope, "department_id", scope.agent_family_q())
    merged = {}
    for pk, counts in raw.items():
        _add(merged.setdefault(scope.department_of(pk), zero()), counts)
    backlog = {}
    for pk, count in (
        open_tickets(scope)
        .order_by()
        .values("department_id")
        .annotate(wt_n=Count("pk"))
        .values_list("department_id", "wt_n")
    ):
        key = scope.department_of(pk or 0)
        backlog[key] = backlog.get(key, 0) + count
        merged.setdefault(key, zero())
    durations = percentiles(
        DurationRollup.objects.filter(scope.department_q(), scope.agent_family_q()),
        branches=scope.block_branches(),
        metrics=(FIRST_RESPONSE, RESOLUTION),
        percents=(50, 90),
        count=scope.sum("count"),
        group_field="department_id",
        group_of=scope.department_of,
    )
    result = []
    for pk, counts in merged.items():
        if not any(counts[name] for name in DEPARTMENT_COUNTERS) and not backlog.get(pk):
            continue  # only replies or time of the filtered agent, which are not shown
        first = durations.get((pk, FIRST_RESPONSE), {})
        resolution = durations.get((pk, RESOLUTION), {})
        result.append(
            {
                "department_id": pk,
                "title": titles.get(pk) if pk else None,
                "opened": counts["opened"],
                "resolved": counts["resolved"],
                "backlog_now": backlog.get(pk, 0),
                "first_responses": counts["first_responses"],
                "first_response_median": first.get(50),
                "first_response_p90": first.get(90),
                "resolution_count": resolution.get("count", 0),
                "resolution_median": resolution.get(50),
                "resolution_p90": resolution.get(90),
                "sla_total": counts["sla_total"],
                "sla_met": counts["sla_met"],
                "sla_share": ratio(counts["sla_met"], counts["sla_total"]),
                **rating_figures(counts),
            }
        )
    order = {pk: index for index, pk in enumerate(titles)}
    result.sort(key=lambda row: (row["department_id"] == 0, order.get(row["department_id"], 0)))
    return result


# --------------------------------------------------------------------------------------
# Ratings
# --------------------------------------------------------------------------------------


def rating_totals(scope):
    """Ratings given in the scope, by score, from the rollups."""
    row = ActivityRollup.objects.filter(
        scope.blocks_q(), scope.department_q(), scope.agent_family_q()
    ).aggregate(**{f"rated_{score}": scope.sum(f"rated_{score}") for score in SCORES})
    return rating_figures({key: value or 0 for key, value in row.items()})


def ratings(scope, *, scores=None):
    """The ratings given in the scope (their first rating's time), newest first."""
    queryset = Rating.objects.filter(
        scope.department_q("ticket__department_id"),
        created_at__gte=scope.period.starts_at(),
        created_at__lt=scope.period.ends_before(),
    )
    if scope.agent is not None:
        queryset = queryset.filter(agent_id=scope.agent)
    if scores:
        queryset = queryset.filter(score__in=scores)
    return queryset.order_by("-created_at", "-pk")


# --------------------------------------------------------------------------------------
# Knowledge base
# --------------------------------------------------------------------------------------


def article_q(scope, name="department_id"):
    """Articles of the scope's departments; articles of no department for everyone who
    is not filtering by one."""
    if scope.department is not None or scope.departments is None:
        return scope.department_q(name)
    return scope.department_q(name) | Q(**{f"{name}__isnull": True})


def least_helpful(scope, limit=10):
    """Articles with "not helpful" votes in the period, the largest share of such votes
    first (then the most of them)."""
    votes = ArticleVote.objects.filter(
        created_at__gte=scope.period.starts_at(), created_at__lt=scope.period.ends_before()
    ).filter(article_q(scope, "article__department_id"))
    rows = (
        votes.order_by()
        .values("article_id", "article__title")
        .annotate(
            wt_no=Count("pk", filter=Q(helpful=False)),
            wt_yes=Count("pk", filter=Q(helpful=True)),
        )
        .filter(wt_no__gt=0)
        .annotate(
            wt_share=Cast("wt_no", FloatField()) / Cast(F("wt_no") + F("wt_yes"), FloatField())
        )
        .order_by("-wt_share", "-wt_no", "article__title", "article_id")[:limit]
    )
    return [
        {
            "article_id": row["article_id"],
            "title": row["article__title"],
            "not_helpful": row["wt_no"],
            "helpful": row["wt_yes"],
            "votes": row["wt_no"] + row["wt_yes"],
        }
        for row in rows
    ]


def articles_from_tickets(scope, limit=20):
    """The latest articles drafted from the scope's tickets, and how many of those were
    first published in the period."""
    articles = ArticlePage.objects.filter(source_ticket__isnull=False).filter(
        scope.department_q("source_ticket__department_id")
    )
    published = articles.filter(
        first_published_at__gte=scope.period.starts_at(),
        first_published_at__lt=scope.period.ends_before(),
    ).count()
    latest = list(
        articles.select_related("source_ticket").order_by("-latest_revision_created_at", "-pk")[
            :limit
        ]
    )
    return {"published_in_period": published, "latest": latest}


def knowledge_base(scope, titles):
    period = scope.period
    departments = scope.department_list()
    rows = deflection.figures(period.start, period.end, departments=departments)
    for row in rows:
        row["title"] = titles.get(row["department"]) or row["title"]
    return {
        "totals": deflection.totals(period.start, period.end, departments=departments),
        "departments": rows,
        "least_helpful": least_helpful(scope),
        "from_tickets": articles_from_tickets(scope),
    }


# --------------------------------------------------------------------------------------
# Frequent requests
# --------------------------------------------------------------------------------------

#: Tickets per query when looking up the best ticket of many topics (SQLite allows 500
#: parts in a compound SELECT).
BEST_TICKET_CHUNK = 200
#: Stand-ins for a group's values in the compiled best-ticket query.
KEY_MARK = "\x00wt-topic-key\x00"
DEPARTMENT_MARK = -7_301_957


def topic_groups(scope, *, status_ids, minimum=1, exclude_keys=None, title_order=None):
    """Resolved tickets grouped by department and topic key, from the topic rollups: dicts
    with ``department`` (0 for none or a deleted one), ``subject_key``, ``count`` and
    ``last_resolved``. ``status_ids`` are the statuses that count (those of a resolved or
    closed kind now); ``exclude_keys`` is a queryset of keys to leave out;
    ``title_order`` ({department id: position}) gives ``wt_title_order`` to sort by."""
    from django.db.models import Case, F, IntegerField, Max, Value, When

    from ..models import TopicRollup

    rows = TopicRollup.objects.filter(
        scope.unsigned_blocks_q(), scope.department_q(), status_id__in=status_ids
    ).exclude(subject_key="")
    if exclude_keys is not None:
        for keys in exclude_keys:
            rows = rows.exclude(subject_key__in=keys)
    known = sorted(scope.known_departments)
    department = (
        Case(
            *[When(department_id=pk, then=Value(pk)) for pk in known],
            default=Value(0),
            output_field=IntegerField(),
        )
        if scope.departments is None
        else F("department_id")
    )
    annotations = {}
    if title_order is not None:
        annotations["wt_title_order"] = Case(
            *[When(department_id=pk, then=Value(order)) for pk, order in title_order.items()],
            default=Value(len(title_order)),
            output_field=IntegerField(),
        )
    return (
        rows.order_by()
        .annotate(department=department, **annotations)
        .values("department", "subject_key", *annotations)
        .annotate(count=Sum("resolved"), last_resolved=Max("last_resolved"))
        .filter(count__gte=max(1, minimum))
    )


def best_tickets(scope, groups, *, status_ids):
    """{(department, topic key): (id, code, subject)}: in each group the resolved ticket of
    the period with the most messages, the latest resolved among equals; one walk down
    the ``wt_ticket_topic_best`` index per group. PostgreSQL takes the groups as a VALUES
    list joined LATERAL (planned once); SQLite, which has no LATERAL, a UNION ALL of
    one query per group (BEST_TICKET_CHUNK a statement), compiled once and reused."""
    from django.db import connection

    groups = sorted(set(groups))
    if not groups:
        return {}
    if connection.vendor == "postgresql":
        return _best_tickets_lateral(scope, groups, status_ids)
    shapes = {}

    def shape(with_department):
        if with_department not in shapes:
            tickets = Ticket.objects.filter(
                subject_key=KEY_MARK,
                merged_into__isnull=True,
                status_id__in=status_ids,
                resolved_at__gte=scope.period.starts_at(),
                resolved_at__lt=scope.period.ends_before(),
            )
            if with_department:
                tickets = tickets.filter(department_id=DEPARTMENT_MARK)
            else:
                tickets = tickets.filter(department__isnull=True)
            sql, params = (
                tickets.order_by("-message_count", "-resolved_at", "-pk")
                .values_list("department_id", "subject_key", "pk", "code", "subject")[:1]
                .query.sql_with_params()
            )
            shapes[with_department] = (sql, list(params))
        return shapes[with_department]

    found = {}
    for start in range(0, len(groups), BEST_TICKET_CHUNK):
        parts, params = [], []
        for number, (department, key) in enumerate(groups[start : start + BEST_TICKET_CHUNK]):
            sql, template = shape(bool(department))
            parts.append(f"SELECT * FROM ({sql}) wt_best_{number}")
            values = {KEY_MARK: key, DEPARTMENT_MARK: department}
            params.extend(values.get(value, value) for value in template)
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for department, key, pk, code, subject in cursor.fetchall():
                found[(department or 0, key)] = (pk, code, subject)
    return found


def _best_tickets_lateral(scope, groups, status_ids):
    from django.db import connection

    quote = connection.ops.quote_name
    table = quote(Ticket._meta.db_table)
    found = {}
    for with_department in (True, False):
        chosen = [(d, k) for d, k in groups if bool(d) == with_department]
        if not chosen:
            continue
        department = (
            f"t.{quote('department_id')} = g.d"
            if with_department
            else f"t.{quote('department_id')} IS NULL"
        )
        values = ", ".join(["(%s::bigint, %s::text)"] * len(chosen))
        sql = (
            f"SELECT g.d, g.k, b.id, b.code, b.subject FROM (VALUES {values}) AS g(d, k) "
            f"CROSS JOIN LATERAL (SELECT t.id, t.code, t.subject FROM {table} t "
            f"WHERE {department} AND t.subject_key = g.k AND t.merged_into_id IS NULL "
            "AND t.status_id = ANY(%s) AND t.resolved_at >= %s AND t.resolved_at < %s "
            "ORDER BY t.message_count DESC, t.resolved_at DESC, t.id DESC LIMIT 1) b"
        )
        params = [value for group in chosen for value in (group[0] or None, group[1])]
        params += [list(status_ids), scope.period.starts_at(), scope.period.ends_before()]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for department_id, key, pk, code, subject in cursor.fetchall():
                found[(department_id or 0, key)] = (pk, code, subject)
    return found
