"""Knowledge-base pages for readers: category listing, search, article, helpful votes."""

import hashlib
import secrets
from datetime import timedelta

from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, DateField, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.db.models.lookups import StartsWith
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.crypto import salted_hmac
from taggit.models import Tag
from wagtail.models import Page, PageViewRestriction

from .. import conf, kb_search
from ..inputs import parse_id, without_nul
from ..models import (
    ArticlePage,
    ArticlePageTag,
    ArticleVote,
    DepartmentPage,
    HelpdeskPage,
    KnowledgeBaseIndexPage,
)
from ..workflow.limits import take
from .utils import client_ip

VOTER_COOKIE = "wt_kb_voter"
VOTER_SALT = "wagtail_tickets.kb_voter"
VOTER_MAX_AGE = 2 * 365 * 24 * 60 * 60
POPULAR_COUNT = 5
MAX_QUERY_LENGTH = 200


# --- queries ---------------------------------------------------------------------------


def exclude_private(queryset, *, seen_from):
    """``queryset`` without pages in a private section, in the same SQL query.

    Restrictions on ``seen_from`` (the page being served) and its ancestors do not count:
    Wagtail has checked the visitor against them already, so a members-only knowledge
    base still lists its articles to its members.
    """
    ancestor_paths = [
        seen_from.path[:end] for end in range(Page.steplen, len(seen_from.path) + 1, Page.steplen)
    ]
    restricted = PageViewRestriction.objects.filter(
        StartsWith(OuterRef("path"), F("page__path"))
    ).exclude(page__path__in=ancestor_paths)
    return queryset.exclude(Exists(restricted))


def private_sections_q(page):
    """A path filter matching the private sections strictly under ``page``: the form of
    ``exclude_private`` for ``page``'s descendants that search backends understand (they
    filter on indexed fields such as the path only). It costs one query."""
    paths = PageViewRestriction.objects.filter(
        page__path__startswith=page.path, page__depth__gt=page.depth
    ).values_list("page__path", flat=True)
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    # Matches nothing when there is no private section, as in Wagtail's private_q().
    return condition or Q(pk__in=[])


def kb_indexes_under(page):
    """Published, public knowledge bases placed directly under ``page``, in tree order."""
    return exclude_private(
        KnowledgeBaseIndexPage.objects.child_of(page).live(), seen_from=page
    ).order_by("path")


def _with_helpful_votes(queryset):
    return queryset.annotate(helpful_votes=Count("votes", filter=Q(votes__helpful=True)))


def _popular(queryset):
    # Most "helpful" answers first, then the freshest.
    return _with_helpful_votes(queryset).order_by(
        "-helpful_votes", F("last_published_at").desc(nulls_last=True), "-pk"
    )


def _trail(page, *, inclusive=False):
    """The support centre and knowledge-base categories above ``page`` (top first)."""
    return list(
        Page.objects.ancestor_of(page, inclusive=inclusive)
        .live()
        .type(HelpdeskPage, KnowledgeBaseIndexPage)
        .order_by("depth")
    )


def _search_url(trail, request):
    """The search page of the topmost knowledge base in ``trail``, so that a tag link
    finds the tag's articles in every category."""
    for crumb in trail:
        if issubclass(crumb.specific_class, KnowledgeBaseIndexPage):
            # The crumbs are plain pages: reverse the route on the class, not the instance.
            route = KnowledgeBaseIndexPage.get_resolver().reverse("search_route")
            return crumb.get_url(request) + route
    return None


def _helpdesk(trail):
    for crumb in reversed(trail):
        if issubclass(crumb.specific_class, HelpdeskPage):
            return crumb
    return None


def _parent_path(page):
    return page.path[: -Page.steplen]


def _paginate(request, queryset, per_page):
    paginator = Paginator(queryset, max(1, per_page))
    # get_page() turns a missing, malformed or out-of-range number into a real page.
    return paginator.get_page(request.GET.get("page"))


def _query_string(request, *dropped):
    query = request.GET.copy()
    for key in ("page", *dropped):
        query.pop(key, None)
    return query.urlencode()


def _render(request, page, template, **extra):
    context = page.get_context(request)
    context.update(extra)
    return TemplateResponse(request, template, context)


# --- category page ---------------------------------------------------------------------


def index(request, page):
    categories = list(kb_indexes_under(page))
    if categories:
        # Articles anywhere below each sub-category, counted in one grouped query on the
        # sub-category's part of the tree path.
        prefix_length = len(page.path) + Page.steplen
        counts = dict(
            exclude_private(ArticlePage.objects.live().descendant_of(page), seen_from=page)
            .filter(depth__gt=page.depth + 1)
            .annotate(category_path=Substr("path", 1, prefix_length))
            .order_by()
            .values_list("category_path")
            .annotate(articles=Count("pk"))
        )
        for category in categories:
            category.article_count = counts.get(category.path, 0)

    articles = (
        exclude_private(ArticlePage.objects.child_of(page).live(), seen_from=page)
        .annotate(
            sort_date=Coalesce("updated", TruncDate("last_published_at"), output_field=DateField())
        )
        .order_by(F("sort_date").desc(nulls_last=True), "-pk")
    )
    page_obj = _paginate(request, articles, page.articles_per_page)

    popular = []
    if page_obj.number == 1:
        popular = list(
            _popular(
                exclude_private(ArticlePage.objects.live().descendant_of(page), seen_from=page)
            ).filter(helpful_votes__gt=0)[:POPULAR_COUNT]
        )
    return _render(
        request,
        page,
        page.get_template(request),
        trail=_trail(page),
        categories=categories,
        page_obj=page_obj,
        popular=popular,
        query="",
        query_string="",
    )


# --- search ----------------------------------------------------------------------------


def _int_or_none(value):
    return parse_id(value)


def search(request, page):
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    private = private_sections_q(page)
    categories = list(
        KnowledgeBaseIndexPage.objects.descendant_of(page).live().exclude(private).order_by("path")
    )
    category_id = _int_or_none(request.GET.get("category"))
    category = next((c for c in categories if c.pk == category_id), None)

    tag_slug = without_nul(request.GET.get("tag", "")).strip()[:100]
    tag = Tag.objects.filter(slug=tag_slug).first() if tag_slug else None

    queryset = ArticlePage.objects.live().descendant_of(category or page).exclude(private)
    if tag is not None:
        queryset = queryset.filter(
            pk__in=ArticlePageTag.objects.filter(tag=tag).values("content_object_id")
        )

    if tag_slug and tag is None:
        results = ArticlePage.objects.none()
    elif query:
        results = kb_search.search_articles(query, queryset=queryset)
    else:
        results = _popular(queryset)
    page_obj = _paginate(request, results, page.articles_per_page)

    # Each result's category is its parent, which is this page or one of `categories`.
    by_path = {c.path: c for c in [page, *categories]}
    for article in page_obj.object_list:
        article.category = by_path.get(_parent_path(article))

    return _render(
        request,
        page,
        "wagtail_tickets/kb/search.html",
        trail=_trail(page, inclusive=True),
        query=query,
        categories=categories,
        category=category,
        tag=tag,
        tag_slug=tag_slug,
        filtered=bool(query or category or tag_slug),
        page_obj=page_obj,
        query_string=_query_string(request),
        without_tag=_query_string(request, "tag"),
    )


# --- article and votes -----------------------------------------------------------------


def _voter_hash(kind, value):
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _visitor_id(request):
    return request.get_signed_cookie(VOTER_COOKIE, default=None, salt=VOTER_SALT)


def _voter_hashes(request, visitor_id):
    """Every identity the visitor votes under: their account and their browser."""
    hashes = []
    if request.user.is_authenticated:
        hashes.append(_voter_hash("user", request.user.pk))
    if visitor_id:
        hashes.append(_voter_hash("cookie", visitor_id))
    return hashes


def _existing_vote(page, request, visitor_id):
    hashes = _voter_hashes(request, visitor_id)
    if not hashes:
        return None
    condition = Q(voter__in=hashes)
    if request.user.is_authenticated:
        condition |= Q(user=request.user)
    return ArticleVote.objects.filter(condition, article=page).order_by("pk").first()


def _related(page):
    # The ids come from the page itself, so a preview shows the links being edited.
    ids = [link.article_id for link in page.related_links.all() if link.article_id]
    if not ids:
        return []
    found = {
        article.pk: article
        for article in exclude_private(
            ArticlePage.objects.live().filter(pk__in=ids), seen_from=page
        )
    }
    return [found[pk] for pk in dict.fromkeys(ids) if pk in found and pk != page.pk]


def _departments_to_offer(page, helpdesk):
    if page.department_id:
        department = exclude_private(
            DepartmentPage.objects.live().filter(pk=page.department_id), seen_from=page
        ).first()
        if department is not None:
            return [department]
    if helpdesk is None:
        return []
    departments = DepartmentPage.objects.child_of(helpdesk).live()
    return list(exclude_private(departments, seen_from=page).order_by("path"))


def article(request, page):
    trail = _trail(page)
    # An editor's preview (perhaps of a page not saved yet) has no votes and takes none.
    feedback = not getattr(request, "is_preview", False)
    vote = _existing_vote(page, request, _visitor_id(request)) if feedback else None
    departments = []
    if vote is not None and not vote.helpful:
        departments = _departments_to_offer(page, _helpdesk(trail))

    vote_counts = None
    if (
        feedback
        and request.user.is_authenticated
        and page.permissions_for_user(request.user).can_edit()
    ):
        vote_counts = ArticleVote.objects.filter(article=page).aggregate(
            yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
        )

    response = _render(
        request,
        page,
        page.get_template(request),
        trail=trail,
        tag_search_url=_search_url(trail, request),
        tags=list(page.tags.order_by("name")),
        related=_related(page),
        feedback=feedback,
        vote=vote,
        just_voted=vote is not None and request.GET.get("voted") == "1",
        vote_not_counted=vote is None and request.GET.get("voted") == "limited",
        departments=departments,
        vote_counts=vote_counts,
    )
    # What the reader sees depends on their vote cookie and their account.
    patch_vary_headers(response, ("Cookie",))
    if vote is not None or vote_counts is not None:
        add_never_cache_headers(response)
    return response


def _ip_hash(request):
    ip = client_ip(request)
    return salted_hmac(VOTER_SALT, ip).hexdigest() if ip else ""


def _record_vote(page, request, voter, user, helpful):
    """Store the vote unless the address has given this article its share of votes
    today; returns whether it counted.

    Without a cookie a script could vote again and again: the votes are counted per
    address under the address's lock (workflow.limits.take), so simultaneous requests
    from several processes cannot pass the limit together.
    """
    limit = conf.get("KB_VOTES_PER_IP_PER_DAY")
    ip_hash = _ip_hash(request)
    with transaction.atomic():
        if limit and ip_hash:
            take(f"kb-vote:{page.pk}:{ip_hash}")
            since = timezone.now() - timedelta(days=1)
            votes = ArticleVote.objects.filter(article=page, ip_hash=ip_hash, created_at__gte=since)
            if votes.count() >= limit:
                return False
        try:
            with transaction.atomic():
                ArticleVote.objects.get_or_create(
                    article=page,
                    voter=voter,
                    defaults={"user": user, "helpful": helpful, "ip_hash": ip_hash},
                )
        except IntegrityError:
            # A concurrent request from the same visitor won: its vote stands.
            pass
    return True


def vote(request, page):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    answer = request.POST.get("helpful")
    if answer not in ("yes", "no"):
        return HttpResponseBadRequest()

    visitor_id = _visitor_id(request)
    new_visitor = visitor_id is None
    if new_visitor:
        visitor_id = secrets.token_urlsafe(24)

    # A visitor who voted before logging in keeps that one vote.
    counted = True
    if _existing_vote(page, request, None if new_visitor else visitor_id) is None:
        user = request.user if request.user.is_authenticated else None
        voter = _voter_hash("user", user.pk) if user else _voter_hash("cookie", visitor_id)
        counted = _record_vote(page, request, voter, user, answer == "yes")

    voted = "1" if counted else "limited"
    response = redirect(page.get_url(request) + f"?voted={voted}#wt-kb-feedback")
    if new_visitor:
        response.set_signed_cookie(
            VOTER_COOKIE,
            visitor_id,
            salt=VOTER_SALT,
            max_age=VOTER_MAX_AGE,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    return response
