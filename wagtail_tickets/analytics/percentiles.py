"""Exact percentiles of first-response and resolution times, from the duration rollups.

Definition (the same on every database, since only whole counts come from SQL): the
p-th percentile of N durations in whole minutes is the value at rank ceil(p × N / 100)
when they are sorted ascending, counting from 1 ("nearest rank"). The median is the
50th percentile, so for an even N it is the lower of the two middle values. With no
durations there is no percentile (None).

Reading: each duration is counted in its 1,024-minute bucket (level 2), its 32-minute
bucket (level 1) and its minute (level 0). Three queries find every percentile asked
for: the level-2 counts of the period, then the level-1 counts inside only the buckets
that hold a wanted rank, then the minutes inside only those level-1 buckets. Each reads
at most a few dozen rows per month and day of the period and group, whatever the number
of tickets.
"""

from collections import defaultdict

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, Sum

LEVELS = (2, 1, 0)
FANOUT_SHIFT = 5  # level n buckets hold 32 buckets of level n - 1


def raw_rows(queryset):
    """Rows as plain tuples, without Django's per-value converters."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing, e.g. no departments
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def rank(percent, total):
    """The 1-based rank of the ``percent``-th percentile among ``total`` values."""
    return max(1, (percent * total + 99) // 100)


def _locate(counts, ranks):
    """{rank: (bucket, rank within bucket)} for sorted [(bucket, count)]."""
    located = {}
    seen = 0
    pending = sorted(set(ranks))
    for bucket, count in counts:
        while pending and pending[0] <= seen + count:
            wanted = pending.pop(0)
            located[wanted] = (bucket, wanted - seen)
        seen += count
        if not pending:
            break
    return located


def percentiles(
    rows, *, metrics, percents, branches=None, count=None, group_field=None, group_of=None
):
    """Percentiles of ``rows`` (a DurationRollup queryset limited to the departments and
    agent family of a scope) in the period ``branches`` make (conditions whose union
    is the period's blocks, see ``Scope.block_branches``), summing ``count`` (an
    expression; by default the rows' counts, see ``Scope.sum`` for days taken away).
    Each bucket range is combined with each branch, so that the database finds it in
    the index under every day, month and quarter rather than filtering all of them.

    Returns {(group, metric): {"count": N, percent: minutes or None, ...}}; ``group`` is
    None without ``group_field``; ``group_of`` maps a raw group id to the group it counts
    for (ids of deleted departments or users to 0).
    """
    group_of = group_of or (lambda value: value)
    count = count if count is not None else Sum("count")
    fields = ["metric", "bucket", *([group_field] if group_field else [])]

    branches = branches if branches is not None else [Q()]

    def counts(level, ranges=None):
        condition = Q(pk__in=[])
        for branch in branches:
            for bucket_range in ranges if ranges is not None else [Q()]:
                condition |= branch & bucket_range
        queryset = rows.filter(condition, level=level, metric__in=metrics)
        result = defaultdict(lambda: defaultdict(int))
        grouped = queryset.order_by().values(*fields).annotate(wt_n=count)
        for row in raw_rows(grouped.values_list(*fields, "wt_n")):
            metric, bucket, *group, n = row
            if not n:
                continue
            group = group_of(group[0]) if group_field else None
            result[(group, metric)][bucket] += n
        return {key: sorted(buckets.items()) for key, buckets in result.items()}

    top = counts(LEVELS[0])
    results = {}
    # (group, metric) -> {percent: (bucket at the current level, rank inside it)}
    targets = {}
    for key, buckets in top.items():
        total = sum(n for _bucket, n in buckets)
        results[key] = {"count": total}
        ranks = {percent: rank(percent, total) for percent in percents}
        located = _locate(buckets, ranks.values())
        targets[key] = {percent: located[ranks[percent]] for percent in percents}
    for level in LEVELS[1:]:
        wanted = {
            (metric, bucket)
            for (_group, metric), found in targets.items()
            for bucket, _rank in filter(None, found.values())
        }
        if not wanted:
            break
        ranges = []
        for metric, bucket in sorted(wanted):
            low = bucket << FANOUT_SHIFT
            high = low + (1 << FANOUT_SHIFT) - 1
            ranges.append(Q(metric=metric, bucket__gte=low, bucket__lte=high))
        finer = counts(level, ranges)
        for key, found in targets.items():
            buckets = finer.get(key, [])
            for percent, located in list(found.items()):
                if located is None:
                    continue
                bucket, inner = located
                low = bucket << FANOUT_SHIFT
                inside = [(b, c) for b, c in buckets if low <= b < low + (1 << FANOUT_SHIFT)]
                # The counts of all levels change together; a change committed between
                # two of these reads can only shift a rank past the end of its bucket.
                found[percent] = _locate(inside, [inner]).get(inner) or (
                    (inside[-1][0], inside[-1][1]) if inside else None
                )
    for key, found in targets.items():
        for percent, located in found.items():
            results[key][percent] = located[0] if located else None
    for value in results.values():
        for percent in percents:
            value.setdefault(percent, None)
    return results
