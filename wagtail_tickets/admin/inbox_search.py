"""Keyword search of the inbox through Wagtail's search backend."""

from django.db import connection
from django.db.models import BigIntegerField, Case, F, IntegerField, Lookup, Q, Value, When
from django.db.models.functions import Cast
from wagtail.search.backends import get_search_backend

from ..models import Ticket

#: With a search backend that is not a database (Elasticsearch, OpenSearch), the inbox
#: keeps the best this many matches and lets the database filter and sort them.
EXTERNAL_SEARCH_LIMIT = 1000


def search_tickets(queryset, query, *, default_ordering, backend_name="default"):
    """Narrow ``queryset`` (filtered and ordered) to the tickets matching ``query``.

    The search backend finds matches among all tickets (code, subject, customer name and
    e-mail, message bodies); the database then applies visibility, filters, sort and
    pagination to them, so every filter works with search on every backend. With the
    database backends the matches stay a subquery of the page query. A ticket whose code
    is exactly the query is always found and comes first.
    """
    query = (query or "").strip()
    if not query:
        return queryset
    backend = get_search_backend(backend_name)
    results = backend.search(query, Ticket, operator="and", order_by_relevance=False)
    matches = _index_matches(backend, results)
    if matches is None:
        as_queryset = getattr(results, "get_queryset", None)
        if callable(as_queryset):
            matches = as_queryset().values("pk")
        else:
            matches = [ticket.pk for ticket in results[:EXTERNAL_SEARCH_LIMIT]]
    # Codes are stored in capitals: an equality on the unique index, not a LIKE. One IN
    # of a union (not "IN ... OR code = ...") lets the database look the tickets up by
    # key instead of scanning them all. UNION ALL: a ticket listed twice is still one
    # row, and the database need not deduplicate thousands of matches first.
    code = query.upper()
    by_code = Ticket.objects.filter(code=code).order_by().values("pk")
    if isinstance(matches, list):
        ids = matches + list(by_code)
    else:
        ids = matches.order_by().union(by_code, all=True)
    exact = Case(When(code=code, then=Value(0)), default=Value(1), output_field=IntegerField())
    ordering = list(queryset.query.order_by) or [default_ordering]
    if isinstance(ids, list) or connection.vendor != "postgresql":
        matching = Q(pk__in=ids)
    else:
        matching = InArray(F("pk"), ids)
    return queryset.filter(matching).order_by(exact, *ordering)


class InArray(Lookup):
    """``column = ANY(ARRAY(subquery))`` (PostgreSQL).

    With ``IN (subquery)`` and thousands of matches the planner hashes the matches and
    reads every ticket the user may see (about 60 ms at 100,000 tickets); given an
    array, it looks the matches up by key (about 35 ms), and stays as fast for a word
    that is in every ticket.
    """

    lookup_name = "wt_in_array"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


def _index_matches(backend, results):
    """The matching tickets' ids as a subquery that lets the database use its text index.

    Wagtail's database backends (django-modelsearch) join every ticket's index entry to
    the match: SQLite then runs the FTS5 MATCH once per entry (2 s at 20,000 tickets)
    and PostgreSQL cannot use the GIN indexes on a concatenated vector. Asking the index
    table directly - FTS5 first, or ``title @@ q OR body @@ q`` - is milliseconds. Any
    other backend, or a change inside the backend, falls back to the generic way (None).
    """
    try:
        from django.contrib.contenttypes.models import ContentType
        from modelsearch.conf import get_app_config

        IndexEntry = get_app_config().get_model("IndexEntry")
        compiler = results.query_compiler
        ticket_type = ContentType.objects.get_for_model(Ticket)
        entries = IndexEntry.objects.filter(content_type_id=ticket_type.pk)
        vendor = type(backend).__name__

        def as_ids(matching):
            # object_id is text; the tickets' key is an integer.
            return matching.annotate(wt_ticket_id=Cast("object_id", BigIntegerField())).values(
                "wt_ticket_id"
            )

        if vendor == "SQLiteSearchBackend":
            from modelsearch.backends.database.sqlite.query import MatchExpression, normalize

            SQLiteFTSIndexEntry = get_app_config().get_model("SQLiteFTSIndexEntry")

            match = MatchExpression(
                compiler.FTS_TABLE_FIELDS,
                compiler.build_search_query(normalize(compiler.query), config=backend.config),
            )
            hits = SQLiteFTSIndexEntry.objects.filter(match).values("index_entry_id")
            return as_ids(entries.filter(pk__in=hits))
        if vendor == "PostgresSearchBackend":
            tsquery = compiler.build_tsquery(compiler.query, config=backend.config)
            return as_ids(entries.filter(Q(title=tsquery) | Q(body=tsquery)))
    except (ImportError, AttributeError, TypeError, LookupError):  # an internal API moved
        return None
    return None
