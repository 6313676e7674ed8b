"""The figures the analytics screens, their exports and the PDF show.

Every function takes a ``Scope`` (``scope.py``): the period, the departments the user
may see, and the department and agent filters. Counts come from the rollups, summed in SQL over the
quarters and months inside the period and the days at its edges
(``Period.signed_blocks``); the only reads
of live tickets are the backlog and open tickets now, which are bounded by the open
work, not the history.

Ids of departments and users that no longer exist are counted as 0 ("no department",
"no agent"), as the tickets that belonged to them now are.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, F, FloatField, Q
from django.db.models.functions import Cast

from .. import deflection
from ..models import (
    ActivityRollup,
    ArticlePage,
    ArticleVote,
    DurationRollup,
    Rating,
)
from ..models.ratings import Grain
from .percentiles import percentiles, raw_rows
from .periods import today
from .rollups import COUNTERS, FIRST_RESPONSE, RESOLUTION
from .scope import (
    AGENT_COUNTERS,
    DEPARTMENT_COUNTERS,
    SCORES,
    SUMMED,
    add_counts,
    as_date,
    counter_sums,
    open_tickets,
    person_name,
    rating_figures,
    ratio,
    zero,
)


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
        .annotate(**counter_sums())
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
            add_counts(totals, counts)
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
        .annotate(**counter_sums(scope))
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
        add_counts(merged.setdefault(agent_of(pk), zero()), counts)
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
        add_counts(merged.setdefault(scope.department_of(pk), zero()), counts)
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
