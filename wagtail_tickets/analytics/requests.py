"""The "Frequent requests" report's reads: resolved tickets per topic from the topic
rollups, and the most detailed ticket of each topic on a page."""

from django.db.models import Case, F, IntegerField, Max, Sum, Value, When

from ..models import Ticket, TopicRollup

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
