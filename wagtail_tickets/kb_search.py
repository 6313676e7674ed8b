"""Finding published knowledge-base articles: one place for the search page, the ticket
form's suggestions and the desk's reply form.

A ticket subject is a sentence, so a match needs any of its words, not all of them, and
the best matches come first. With Wagtail's database search backends the ranking query
goes straight to their index tables (SQLite FTS5, PostgreSQL tsvectors) instead of
through ``QuerySet.search()`` or ``autocomplete()``, which rank each candidate page in a
correlated subquery. Measured on SQLite with 5,000 articles: ``autocomplete(operator=
"or")`` 160-175 ms and ``search()`` up to 460 ms a query (0.6-1.5 s before the planner
had statistics), 10-16 ms this way. Other backends (Elasticsearch, OpenSearch) keep
Wagtail's own API.
"""

import re

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connections
from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils.http import urlencode
from wagtail.models import Page
from wagtail.search.backends import get_search_backend

from .models import ArticlePage, KnowledgeBaseIndexPage
from .topics import STOP_WORDS

#: Shorter input is not worth a query: "pa" would match half of any knowledge base.
SUGGEST_MIN_LENGTH = 3
MAX_QUERY_LENGTH = 200
#: Words of a query that count; a pasted paragraph must not become a huge OR.
MAX_TERMS = 8
#: The department's own articles rank as if they matched this much better.
DEPARTMENT_BOOST = 1.5

# Letters and digits only: the same words the index tokenisers produce, and nothing that
# FTS5 or to_tsquery() would read as syntax.
WORD_RE = re.compile(r"[^\W_]+")

SUGGEST = "suggest"
SEARCH = "search"


def live_articles(*, site=None, root=None):
    """Published, publicly visible articles under ``root`` (a page) or in ``site``.

    Wagtail's ``public()``: one query for the view restrictions, then filters on the
    tree path, which search backends can apply too (they filter on indexed fields only).
    A correlated NOT EXISTS on the restrictions would save that query, but SQLite, with
    its statistics, answers it by scanning every page for each row.
    """
    queryset = ArticlePage.objects.live().public()
    if root is not None:
        queryset = queryset.descendant_of(root)
    elif site is not None:
        queryset = queryset.in_site(site)
    return queryset


def knowledge_base_for(department, site):
    """The knowledge base to send a department's visitors to: the first published one
    under the department's support centre, else the shallowest one in the site."""
    helpdesk_path = department.path[: -Page.steplen]
    return (
        KnowledgeBaseIndexPage.objects.live()
        .public()
        .in_site(site)
        .annotate(
            wt_elsewhere=Case(
                When(path__startswith=helpdesk_path, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("wt_elsewhere", "depth", "path")
        .first()
    )


KB_URL_CACHE_SECONDS = 300
_GENERATION_KEY = "wagtail_tickets:kb_url_generation"


def forget_knowledge_base_urls():
    """Pages were published, unpublished, moved or restricted: look the URLs up again."""
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:
        cache.set(_GENERATION_KEY, 1, None)


def knowledge_base_search_url(department, site, request):
    """``search_url(knowledge_base_for(department, site), request)``, kept in Django's
    cache: the department form shows it to every visitor, and finding it costs two
    queries (view restrictions, then the pages). Any page being published, unpublished,
    moved or deleted, or a view restriction changing, starts a new generation of keys
    (signal_handlers); the keys also expire after KB_URL_CACHE_SECONDS."""
    generation = cache.get(_GENERATION_KEY) or 0
    key = f"wagtail_tickets:kb_url:{generation}:{site.pk}:{department.pk}:{request.get_host()}"
    url = cache.get(key)
    if url is None:
        kb_index = knowledge_base_for(department, site)
        url = search_url(kb_index, request) if kb_index else ""
        cache.set(key, url, KB_URL_CACHE_SECONDS)
    return url or None


def search_url(kb_index, request, query=""):
    """The knowledge base's search page, with ``query`` filled in when given."""
    url = kb_index.get_url(request) + kb_index.reverse_subpage("search_route")
    return f"{url}?{urlencode({'q': query})}" if query else url


def search_terms(query):
    """The words of ``query`` worth matching: lower case, each once, stop words dropped
    unless nothing else is left, at most ``MAX_TERMS``."""
    words = list(dict.fromkeys(WORD_RE.findall((query or "")[:MAX_QUERY_LENGTH].lower())))
    meaningful = [word for word in words if word not in STOP_WORDS and len(word) > 1]
    return (meaningful or words)[:MAX_TERMS]


def search_articles(query, *, site=None, root=None, queryset=None, backend_name="default"):
    """Articles matching ``query`` (any of its words, each also as the start of a longer
    word), best first.

    Made for a ``Paginator``: ``count()``, ``len()``, slicing and iteration give
    ``ArticlePage`` objects of ``queryset`` (by default the live, public articles under
    ``root`` or in ``site``), with its annotations. Not a QuerySet: filter ``queryset``
    before searching.
    """
    if queryset is None:
        queryset = live_articles(site=site, root=root)
    terms = search_terms(query)
    if not terms:
        return RankedArticles(None, queryset)
    ranking = _ranking(queryset, terms, SEARCH, backend_name=backend_name)
    if ranking is None:
        return queryset.search(" ".join(terms), operator="or")
    return RankedArticles(ranking, queryset)


def suggest_articles(
    query, *, site=None, root=None, department=None, limit=5, backend_name="default"
):
    """Up to ``limit`` articles for a half-typed ticket subject, matched on their titles
    and summaries; ``department``'s own articles get a boost."""
    query = (query or "").strip()
    terms = search_terms(query)
    if len(query) < SUGGEST_MIN_LENGTH or not terms:
        return []
    queryset = live_articles(site=site, root=root)
    preferred = None
    if department is not None:
        preferred = ArticlePage.objects.filter(department=department)
    ranking = _ranking(queryset, terms, SUGGEST, preferred=preferred, backend_name=backend_name)
    if ranking is None:
        return _suggest_generic(queryset, terms, department, limit)
    return RankedArticles(ranking, queryset.defer("body"))[:limit]


class RankedArticles:
    """Articles in the order of a ranking.

    ``count()`` reads the ranked ids of all matches at once (a list of integers), so a
    paginated page costs two queries, as with Wagtail's own search results: the ids, and
    the page's articles. A slice taken without counting asks only for its ids.
    """

    def __init__(self, ranking, queryset):
        self._ranking = ranking
        self._queryset = queryset
        self._all_ids = None if ranking is not None else []

    def count(self):
        if self._all_ids is None:
            self._all_ids = self._ranking.ids(0, None)
        return len(self._all_ids)

    def __len__(self):
        return self.count()

    def __bool__(self):
        return self.count() > 0

    def __iter__(self):
        return iter(self[:])

    def __getitem__(self, key):
        if isinstance(key, slice):
            if key.step not in (None, 1) or (key.start or 0) < 0 or (key.stop or 0) < 0:
                raise ValueError("only forward slices without a step are supported")
            start = key.start or 0
            if key.stop is not None and key.stop <= start:
                return []
            if self._all_ids is not None:
                return self._fetch(self._all_ids[start : key.stop])
            return self._fetch(self._ranking.ids(start, key.stop))
        if key < 0:
            raise IndexError("negative indexing is not supported")
        found = self[key : key + 1]
        if not found:
            raise IndexError(key)
        return found[0]

    def _fetch(self, ids):
        if not ids:
            return []
        articles = {article.pk: article for article in self._queryset.filter(pk__in=ids)}
        return [articles[pk] for pk in ids if pk in articles]


# --------------------------------------------------------------------------------------
# Ranking on the database backends' index tables
# --------------------------------------------------------------------------------------


def _ranking(candidates, terms, mode, *, preferred=None, backend_name="default"):
    """The ranking of ``candidates`` matching any of ``terms``: an object whose
    ``ids(start, stop)`` gives their ids best first. None when the backend is not one of
    Wagtail's database backends, or when their internals have moved."""
    backend = get_search_backend(backend_name)
    vendor = type(backend).__name__
    try:
        from modelsearch.conf import get_app_config

        app_config = get_app_config()
        if vendor == "SQLiteSearchBackend":
            return _SQLiteRanking(app_config, candidates, terms, mode, preferred)
        if vendor == "PostgresSearchBackend":
            return _PostgresRanking(app_config, backend, candidates, terms, mode, preferred)
    except (ImportError, LookupError, AttributeError, TypeError):
        pass
    return None


class _SQLiteRanking:
    """FTS5 MATCH with bm25(), in SQL written out so that the full-text table drives the
    query: CROSS JOIN fixes the join order in SQLite, and each hit is checked against the
    candidate articles by primary key. Left to its planner, SQLite may instead walk all
    candidates and run the MATCH once per article, a hundred times slower; building the
    list of all candidates first costs more than the search itself."""

    def __init__(self, app_config, candidates, terms, mode, preferred):
        fts = app_config.get_model("SQLiteFTSIndexEntry")
        entries = app_config.get_model("IndexEntry")
        self.using = candidates.db
        quote = connections[self.using].ops.quote_name
        fts_table = quote(fts._meta.db_table)
        entry_table = quote(entries._meta.db_table)
        # Every word is a prefix: the last one is being typed, and without stemming
        # "password" should still find "passwords".
        words = " OR ".join(f'"{term}"*' for term in terms)
        # The FTS table's columns: autocomplete (title and summary), body, title.
        if mode == SUGGEST:
            match, weights = f"{{autocomplete title}} : ({words})", "1.0, 0.0, 2.0"
        else:
            match, weights = f"{{title body}} : ({words})", "0.0, 1.0, 2.0"
        candidate_sql, candidate_params = self._is_one_of(candidates)
        self.from_where = (
            f"FROM {fts_table} CROSS JOIN {entry_table} e ON e.id = {fts_table}.rowid "
            f"WHERE {fts_table} MATCH %s AND e.content_type_id = %s AND {candidate_sql}"
        )
        self.params = [match, ContentType.objects.get_for_model(ArticlePage).pk]
        self.params += candidate_params
        # bm25() is negative, lower is better: a boost multiplies it.
        rank = f"bm25({fts_table}, {weights})"
        order = [rank]
        self.order_params = []
        if preferred is not None:
            preferred_sql, preferred_params = self._is_one_of(preferred)
            order = [
                f"{rank} * (CASE WHEN {preferred_sql} THEN {DEPARTMENT_BOOST!r} ELSE 1.0 END)",
                f"{preferred_sql} DESC",
            ]
            self.order_params = preferred_params * 2
        order.append("CAST(e.object_id AS integer)")
        self.order = "ORDER BY " + ", ".join(order)

    @staticmethod
    def _is_one_of(queryset):
        """SQL true when the index entry ``e`` is one of ``queryset``'s articles."""
        correlated = (
            queryset.order_by().filter(pk=RawSQL("CAST(e.object_id AS integer)", [])).values("pk")
        )
        sql, params = correlated.query.sql_with_params()
        return f"EXISTS ({sql})", list(params)

    def ids(self, start, stop):
        limit = -1 if stop is None else stop - start
        sql = (
            f"SELECT CAST(e.object_id AS integer) {self.from_where} {self.order} LIMIT %s OFFSET %s"
        )
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, self.params + self.order_params + [limit, start])
            return [row[0] for row in cursor.fetchall()]


class _PostgresRanking:
    """tsquery on the index entries' vectors. Each hit is checked against the candidate
    articles by primary key (a correlated EXISTS): hashing every candidate's id as text
    first costs more than the search itself."""

    def __init__(self, app_config, backend, candidates, terms, mode, preferred):
        from django.contrib.postgres.search import SearchQuery, SearchRank

        entries = app_config.get_model("IndexEntry")
        words = " | ".join(f"'{term}':*" for term in terms)
        stemmed = SearchQuery(words, search_type="raw", config=backend.config)
        if mode == SUGGEST:
            plain = SearchQuery(words, search_type="raw", config=backend.autocomplete_config)
            hits = entries.objects.filter(autocomplete=plain)
            rank = SearchRank(F("autocomplete"), plain) + SearchRank(F("title"), stemmed)
        else:
            hits = entries.objects.filter(Q(title=stemmed) | Q(body=stemmed))
            rank = SearchRank(F("title"), stemmed) * 2.0 + SearchRank(F("body"), stemmed)
        # Only rows that passed the content type filter reach the cast: the ids of other
        # models need not be numbers.
        article_id = Cast(OuterRef("object_id"), BigIntegerField())
        hits = hits.filter(
            Exists(candidates.order_by().filter(pk=article_id)),
            content_type_id=ContentType.objects.get_for_model(ArticlePage).pk,
        )
        annotations = {"wt_article_id": Cast("object_id", BigIntegerField())}
        ordering = [F("wt_rank").desc()]
        if preferred is not None:
            annotations["wt_preferred"] = Exists(preferred.order_by().filter(pk=article_id))
            rank = rank * Case(
                When(wt_preferred=True, then=Value(DEPARTMENT_BOOST)),
                default=Value(1.0),
                output_field=FloatField(),
            )
            ordering.append(F("wt_preferred").desc())
        self.ranked = (
            hits.annotate(**annotations)
            .annotate(wt_rank=rank)
            .order_by(*ordering, "wt_article_id")
            .values_list("wt_article_id", flat=True)
        )

    def ids(self, start, stop):
        return list(self.ranked[start:stop])


def _suggest_generic(queryset, terms, department, limit):
    """Suggestions through Wagtail's API for other backends. Their scores do not compare
    with ours, so the department's articles among the best ``2 * limit`` come first."""
    found = list(queryset.defer("body").autocomplete(" ".join(terms), operator="or")[: limit * 2])
    department_id = getattr(department, "pk", None)
    found.sort(key=lambda article: not (department_id and article.department_id == department_id))
    return found[:limit]
