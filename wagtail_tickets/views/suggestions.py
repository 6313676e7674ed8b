"""Article suggestions for a department's ticket form (the ``suggest/`` route).

GET ``?q=<subject>`` answers JSON: ``{"results": [{"id", "title", "url", "summary"}],
"search_url": ...}``. POST records what the visitor did with them, for the deflection
figures: ``event=shown`` once per form when suggestions were first displayed, or
``event=opened`` with ``article=<id>``. The figures change only by POST (with CSRF), so
a crawler, a link prefetch or a cached GET cannot move them, and the page counts only
what it really displayed: a response that arrives after the visitor typed on is never
counted.
"""

import json
import time

from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotAllowed
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _
from wagtail.models import Site

from .. import conf, deflection, kb_search
from ..inputs import parse_id
from .utils import client_ip

# Unicode escapes for the characters that matter in HTML, as json_script does: the
# answer stays inert even where a browser would sniff it as a page.
JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}
# A minute in the visitor's own browser: retyping or deleting a letter asks nothing
# again. "private" keeps proxies and CDNs from holding on to an article that an editor
# has just unpublished; the answer holds no personal data.
MAX_AGE = 60
WINDOW_SECONDS = 60


def _json(data, status=200):
    body = json.dumps(data, ensure_ascii=False).translate(JSON_ESCAPES)
    return HttpResponse(body, status=status, content_type="application/json")


def _too_many(request):
    """True once this address has made more requests this minute than allowed.

    A fixed window per address; cache.add and incr are atomic in shared caches, so
    several app servers count together.
    """
    limit = conf.get("SUGGEST_REQUESTS_PER_MINUTE")
    if not limit:
        return False
    window = int(time.time() // WINDOW_SECONDS)
    key = f"wagtail_tickets:suggest:{client_ip(request) or 'unknown'}:{window}"
    cache.add(key, 0, WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, WINDOW_SECONDS * 2)
        count = 1
    return count > limit


def _article_id(value):
    return parse_id(value)


def suggest(request, page):
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if _too_many(request):
        response = _json({"error": _("Too many requests. Please wait a minute.")}, status=429)
        response["Retry-After"] = str(WINDOW_SECONDS)
        add_never_cache_headers(response)
        return response
    site = Site.find_for_request(request)
    if request.method == "POST":
        response = _record(request, page, site)
        add_never_cache_headers(response)
        return response
    query = request.GET.get("q", "").strip()[: kb_search.MAX_QUERY_LENGTH]
    articles = kb_search.suggest_articles(query, site=site, department=page)
    search_url = None
    if articles:  # the page offers the search only under suggestions
        kb_index = kb_search.knowledge_base_for(page, site)
        if kb_index is not None:
            search_url = kb_search.search_url(kb_index, request, query)
    response = _json(
        {
            "results": [
                {
                    "id": article.pk,
                    "title": article.title,
                    "url": article.get_url(request),
                    "summary": article.summary,
                }
                for article in articles
            ],
            "search_url": search_url,
        }
    )
    patch_cache_control(response, private=True, max_age=MAX_AGE)
    return response


def _record(request, page, site):
    event = request.POST.get("event")
    if event == "shown":
        deflection.record_shown(page)
    elif event == "opened":
        article_id = _article_id(request.POST.get("article"))
        # Only a suggestion the endpoint could have given counts.
        if (
            article_id is None
            or not kb_search.live_articles(site=site).filter(pk=article_id).exists()
        ):
            return _json({"error": _("Unknown article.")}, status=400)
        deflection.record_opened(page)
    else:
        return _json({"error": _("Unknown event.")}, status=400)
    return HttpResponse(status=204)
