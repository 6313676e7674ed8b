"""Deflection figures: how often the ticket form's article suggestions were shown, opened,
and still followed by a ticket, per department and day (``SuggestionStat``)."""

from django.db import IntegrityError, transaction
from django.db.models import Case, F, FloatField, Sum, Value, When
from django.db.models.functions import Cast, Greatest
from django.utils import timezone

from .models import SuggestionStat

SHOWN = "shown"
OPENED = "opened"
FILED = "filed"
COUNTERS = (SHOWN, OPENED, FILED)


def record(department, counter, *, day=None):
    """Add one to ``counter`` of ``department``'s row for ``day`` (today by default).

    An UPDATE with F() adds in the database, so concurrent requests never lose a count;
    the day's first count creates the row, and when another request creates it first
    the unique constraint refuses ours and we add to theirs.
    """
    if counter not in COUNTERS:
        raise ValueError(f"unknown counter {counter!r}")
    day = day or timezone.localdate()
    rows = SuggestionStat.objects.filter(department=department, day=day)
    if rows.update(**{counter: F(counter) + 1}):
        return
    try:
        with transaction.atomic():
            SuggestionStat.objects.create(department=department, day=day, **{counter: 1})
    except IntegrityError:
        rows.update(**{counter: F(counter) + 1})


def record_shown(department):
    record(department, SHOWN)


def record_opened(department):
    record(department, OPENED)


def record_filed(department):
    record(department, FILED)


def _deflection_rate():
    # 1 - filed/shown, None without suggestions shown. A visitor may be shown suggestions
    # before midnight and file after it, so a single day can have more filed than shown;
    # the rate never goes below 0.
    return Case(
        When(wt_shown=0, then=Value(None)),
        default=Greatest(
            Value(1.0) - Cast("wt_filed", FloatField()) / Cast("wt_shown", FloatField()),
            Value(0.0),
        ),
        output_field=FloatField(),
    )


def _summed(rows):
    return rows.annotate(
        wt_shown=Sum("shown"), wt_opened=Sum("opened"), wt_filed=Sum("filed")
    ).annotate(wt_rate=_deflection_rate())


def _as_figures(row):
    return {
        "shown": row["wt_shown"] or 0,
        "opened": row["wt_opened"] or 0,
        "filed": row["wt_filed"] or 0,
        "deflection_rate": row["wt_rate"],
    }


def _between(start, end, departments):
    rows = SuggestionStat.objects.filter(day__gte=start, day__lte=end)
    if departments is not None:
        rows = rows.filter(department__in=departments)
    return rows


def figures(start, end, *, departments=None):
    """Per department with figures from ``start`` to ``end`` (dates, both included), in
    one grouped query: a list of dicts with ``department`` (id), ``title``, ``shown``,
    ``opened``, ``filed`` and ``deflection_rate`` (1 - filed/shown, None when nothing was
    shown), by department title."""
    rows = _summed(
        _between(start, end, departments).values("department", "department__title").order_by()
    ).order_by("department__title", "department")
    return [
        {"department": row["department"], "title": row["department__title"], **_as_figures(row)}
        for row in rows
    ]


def totals(start, end, *, departments=None):
    """The same figures for all (or the given) departments together."""
    row = _between(start, end, departments).aggregate(
        wt_shown=Sum("shown"), wt_opened=Sum("opened"), wt_filed=Sum("filed")
    )
    shown, filed = row["wt_shown"] or 0, row["wt_filed"] or 0
    row["wt_rate"] = max(0.0, 1 - filed / shown) if shown else None
    return _as_figures(row)
