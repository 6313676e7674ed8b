"""The tickets' own search table, kept by the workflow in its transaction.

Why not Wagtail's search index: its database backends refresh their title norms over
the whole index table on every ``add()`` (two scans, ~45 ms each at 100,000 tickets),
so each new ticket or reply cost time proportional to the history, and indexing
100,000 tickets took minutes. Here a ticket is one row of ``TicketSearch``:

- ``title``: the code and subject; ``body``: the customer's name and e-mail and every
  message's text, internal notes included (the desk searched them before, and only
  desk users search). Both hold lower-cased words only (``words()``): codes, e-mail addresses and
  URLs are split into their parts, so ``000123``, ``builders`` or the whole address
  all find a ticket on every database.
- A reply appends its words to ``body`` with one UPDATE; an edit, deletion or merge
  rebuilds the affected tickets' rows from their messages. Either costs time in the
  size of one ticket, never of the history (B-tree and GIN/FTS5 updates are
  logarithmic).
- PostgreSQL: a generated ``search_vector`` column (``to_tsvector('russian', ...)``,
  title weighted A, body B) with a GIN index. The ``russian`` configuration stems
  Cyrillic words with the Russian Snowball stemmer and Latin words with the English
  one, English stop words included, which is what the desk's two languages need.
- SQLite: an external-content FTS5 table (``porter unicode61 remove_diacritics 2``)
  kept by triggers on ``TicketSearch``; Russian words are matched by prefix.
- Any other database: ``icontains`` on the two columns (slow, but right).

Every query term matches as a prefix of a (stemmed) word, all terms must match
(``AND``), and at most ``MAX_TERMS`` terms of at most ``MAX_TERM_LENGTH`` characters
are used: quotes, NUL bytes, operators and a 2,000-word query are just words, never a
syntax error.
"""

import re

from django.db import connection, models
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

TABLE = "wagtail_tickets_ticketsearch"
FTS_TABLE = "wagtail_tickets_ticketsearch_fts"
PG_CONFIG = "russian"
MAX_TERMS = 32
MAX_TERM_LENGTH = 64
#: A ticket's searchable body is cut at this many characters, so that one enormous
#: conversation cannot make each of its replies slower; the start of a conversation
#: (the customer's problem) is what people search for.
MAX_BODY_LENGTH = 200_000
BATCH = 1000

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text):
    """The words of ``text``, lower-cased, joined by spaces (underscores split too).

    Lower-cased here, not by the database: PostgreSQL folds case by its locale, and a
    database created with the C locale leaves Cyrillic capitals alone.
    """
    return " ".join(w for w in _WORD.findall((text or "").replace("_", " ").lower()) if w)


def query_terms(query):
    terms = []
    for word in _WORD.findall((query or "").replace("_", " ")):
        terms.append(word[:MAX_TERM_LENGTH].lower())
        if len(terms) == MAX_TERMS:
            break
    return terms


class TicketSearch(models.Model):
    ticket = models.OneToOneField(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="search_entry",
    )
    title = models.TextField(_("code and subject"), blank=True)
    body = models.TextField(_("customer and messages"), blank=True)

    class Meta:
        verbose_name = _("ticket search entry")
        verbose_name_plural = _("ticket search entries")
        db_table = TABLE

    def __str__(self):
        return self.title


def _title(ticket):
    return words(f"{ticket.code} {ticket.subject}")


def _head(ticket):
    return words(f"{ticket.customer_name} {ticket.customer_email}")


def _clip(text):
    return text[:MAX_BODY_LENGTH]


def index_ticket(ticket, message_bodies=None):
    """Write ``ticket``'s row from scratch (its messages read unless given)."""
    if message_bodies is None:
        message_bodies = ticket.messages.order_by("created_at", "pk").values_list("body", flat=True)
    body = _clip(" ".join([_head(ticket), *(words(b) for b in message_bodies)]))
    TicketSearch.objects.update_or_create(
        ticket_id=ticket.pk, defaults={"title": _title(ticket), "body": body}
    )


def add_ticket(ticket, first_body):
    """The row of a ticket just opened: one INSERT."""
    TicketSearch.objects.create(
        ticket_id=ticket.pk,
        title=_title(ticket),
        body=_clip(f"{_head(ticket)} {words(first_body)}"),
    )


def add_message(ticket, body):
    """Append one message's words to ``ticket``'s row: one UPDATE."""
    text = words(body)
    if not text:
        return
    table = connection.ops.quote_name(TABLE)
    concat = "body || ' ' || %s"
    clipped = f"SUBSTR({concat}, 1, %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET body = {clipped} WHERE ticket_id = %s",
            [text, MAX_BODY_LENGTH, ticket.pk],
        )
        missing = cursor.rowcount == 0
    if missing:  # a ticket from before the table, or created around the workflow
        index_ticket(ticket)


def update_title(ticket):
    updated = TicketSearch.objects.filter(ticket_id=ticket.pk).update(title=_title(ticket))
    if not updated:
        index_ticket(ticket)


def reindex(ticket_ids):
    """Rebuild the rows of these tickets from their messages, in batches."""
    from .tickets import Message, Ticket

    ticket_ids = sorted(set(ticket_ids))
    for start in range(0, len(ticket_ids), BATCH):
        chunk = ticket_ids[start : start + BATCH]
        tickets = list(
            Ticket.objects.filter(pk__in=chunk).only(
                "pk", "code", "subject", "customer_name", "customer_email"
            )
        )
        bodies = {ticket.pk: [] for ticket in tickets}
        for ticket_id, body in (
            Message.objects.filter(ticket_id__in=chunk)
            .order_by("ticket_id", "created_at", "pk")
            .values_list("ticket_id", "body")
        ):
            bodies[ticket_id].append(body)
        TicketSearch.objects.filter(ticket_id__in=chunk).delete()
        TicketSearch.objects.bulk_create(
            [
                TicketSearch(
                    ticket_id=ticket.pk,
                    title=_title(ticket),
                    body=_clip(" ".join([_head(ticket), *(words(b) for b in bodies[ticket.pk])])),
                )
                for ticket in tickets
            ]
        )


def rebuild_all(batch=BATCH, progress=None):
    """Rebuild the whole table (``helpdesk_reindex``, the migration): returns the count."""
    from .tickets import Ticket

    TicketSearch.objects.all().delete()
    last, done = 0, 0
    while True:
        ids = list(
            Ticket.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return done
        reindex(ids)
        done += len(ids)
        last = ids[-1]
        if progress is not None:
            progress(done)


def matching_ids(query):
    """The ids of the tickets matching every term of ``query``, as a subquery.

    Returns None when the query has no words (nothing to search for).
    """
    terms = query_terms(query)
    if not terms:
        return None
    entries = TicketSearch.objects.order_by()
    vendor = connection.vendor
    if vendor == "postgresql":
        tsquery = " & ".join(f"'{term}':*" for term in terms)
        condition = RawSQL(
            f"search_vector @@ to_tsquery('{PG_CONFIG}', %s)",
            [tsquery],
            output_field=BooleanField(),
        )
    elif vendor == "sqlite" and fts5_available():
        condition = Q(
            ticket_id__in=RawSQL(
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",
                [" ".join(f'"{term}"*' for term in terms)],
            )
        )
    else:
        condition = Q()
        for term in terms:
            condition &= Q(title__icontains=term) | Q(body__icontains=term)
    return entries.filter(condition).values("ticket_id")


_fts5 = {}


def fts5_available():
    """Whether the FTS5 table exists (SQLite built without FTS5 falls back to LIKE)."""
    alias = connection.alias
    if alias not in _fts5:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE]
            )
            _fts5[alias] = cursor.fetchone() is not None
    return _fts5[alias]


# --- schema (the migration runs these) ----------------------------------------------------


def create_vendor_structures(apps, schema_editor):
    conn = schema_editor.connection
    _fts5.clear()
    if conn.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            f"setweight(to_tsvector('{PG_CONFIG}'::regconfig, title), 'A') || "
            f"setweight(to_tsvector('{PG_CONFIG}'::regconfig, body), 'B')) STORED"
        )
        schema_editor.execute(
            f"CREATE INDEX wt_ticketsearch_vector ON {TABLE} USING GIN (search_vector)"
        )
    elif conn.vendor == "sqlite":
        try:
            schema_editor.execute(
                f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, body, content='{TABLE}', "
                "content_rowid='ticket_id', tokenize='porter unicode61 remove_diacritics 2')"
            )
        except Exception:  # SQLite built without FTS5: the LIKE fallback
            return
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


def drop_vendor_structures(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "sqlite":
        for name in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS wt_ticketsearch_{name}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    _fts5.clear()


SQLITE_TRIGGERS = [
    f"CREATE TRIGGER wt_ticketsearch_ai AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (new.ticket_id, new.title, new.body); "
    "END",
    f"CREATE TRIGGER wt_ticketsearch_ad AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, body) "
    "VALUES ('delete', old.ticket_id, old.title, old.body); END",
    f"CREATE TRIGGER wt_ticketsearch_au AFTER UPDATE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, body) "
    "VALUES ('delete', old.ticket_id, old.title, old.body); "
    f"INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (new.ticket_id, new.title, new.body); "
    "END",
]
