"""Finding published knowledge-base articles: one place for the search page, the ticket
form's suggestions and the desk's reply form."""

from .models import ArticlePage


def live_articles(*, site=None, root=None):
    """Published, publicly visible articles under ``root`` (a page) or in ``site``."""
    queryset = ArticlePage.objects.live().public()
    if root is not None:
        queryset = queryset.descendant_of(root)
    elif site is not None:
        queryset = queryset.in_site(site)
    return queryset


def search_articles(query, *, site=None, root=None, queryset=None):
    """Search results (relevance order) for ``query`` through Wagtail's search backend."""
    if queryset is None:
        queryset = live_articles(site=site, root=root)
    return queryset.search(query, operator="or")


def suggest_articles(query, *, site=None, root=None, limit=5):
    """Up to ``limit`` articles for a half-typed subject: prefix matches on the title."""
    query = (query or "").strip()
    if len(query) < 3:
        return []
    queryset = live_articles(site=site, root=root)
    return list(queryset.autocomplete(query)[:limit])
