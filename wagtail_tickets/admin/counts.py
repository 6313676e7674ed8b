"""Counts the desk shows everywhere (menu badge, dashboard), at a cost that stays flat.

An agent's screens count "my open tickets", "unassigned" and "overdue" on every page
view. Counting every matching row costs time in the number of active tickets: with
50,000 of them the dashboard grew 3.7x between 1,000 and 100,000 tickets. Nobody acts on
the difference between 1,400 and 1,401 open tickets, so the counts stop at
``COUNT_CAP``: the database reads at most that many index entries per count
(``SELECT COUNT(*) FROM (SELECT 1 ... LIMIT cap)``), and the screens show "999+".
"""

from django.db import connections
from django.utils.translation import gettext

COUNT_CAP = 1000


def _capped_sql(queryset, cap):
    limited = queryset.order_by().values("pk")[:cap]
    sql, params = limited.query.sql_with_params()
    return f"(SELECT COUNT(*) FROM ({sql}) wt_capped)", params


def capped_counts(cap=COUNT_CAP, **querysets):
    """{name: min(count, cap)} for each queryset, in one query."""
    if not querysets:
        return {}
    names = list(querysets)
    parts, params = [], []
    for name in names:
        sql, part_params = _capped_sql(querysets[name], cap)
        parts.append(sql)
        params.extend(part_params)
    alias = next(iter(querysets.values())).db
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {name: int(value) for name, value in zip(names, row, strict=True)}


def capped_count(queryset, cap=COUNT_CAP):
    return capped_counts(cap, only=queryset)["only"]


def display_count(count, cap=COUNT_CAP):
    """The count as shown: "999+" once it reaches the cap."""
    if count >= cap:
        return gettext("%(count)s+") % {"count": cap - 1}
    return str(count)
