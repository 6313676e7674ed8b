"""Knowledge-base pages for readers: where they live, listing, search, articles, votes."""

import hashlib
import io
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, Permission
from django.core.files.images import ImageFile
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import GroupPagePermission, Page, PageViewRestriction
from wagtail.rich_text import RichText
from wagtail.test.utils.form_data import (
    nested_form_data,
    querydict_from_html,
    rich_text,
    streamfield,
)

from tests import factories
from wagtail_tickets.models import (
    ArticlePage,
    ArticleVote,
    DepartmentPage,
    HelpdeskPage,
    KnowledgeBaseIndexPage,
    RelatedArticle,
)
from wagtail_tickets.templatetags.wagtail_tickets_kb import kb_excerpt, kb_highlight
from wagtail_tickets.views.knowledge import VOTER_COOKIE, VOTER_SALT

pytestmark = pytest.mark.django_db

# Measured, and the same for 3 and for 30 articles, votes, related articles or departments.
# Wagtail serving a page at depth d: the site, two per page along the path, and the view
# restrictions with their alias check in one query (models/privacy.py; two before): 6
# for a knowledge base, 8 for an article in it, 10 for one in a category.
# - category page: 6 + sub-categories, their article counts, COUNT and the page of
#   articles, popular articles, breadcrumbs: 12.
# - search: 6 + private sections below, categories, the ranked ids of all matches (their
#   number is the count), the page's articles, breadcrumbs: 11. Empty query (popular):
#   6 + private sections, categories, COUNT, the page, breadcrumbs: 11.
# - article in a category: 10 + breadcrumbs, tags, related links, their live articles: 14.
# - article after a "no": 8 + breadcrumbs, the visitor's vote, the departments, tags,
#   related links (none): 13.
INDEX_PAGE_QUERIES = 12
SEARCH_QUERIES = 11
POPULAR_QUERIES = 11
ARTICLE_QUERIES = 14
ARTICLE_AFTER_NO_VOTE_QUERIES = 13


def _soup(response):
    return BeautifulSoup(response.content.decode(), "html.parser")


def _titles(response):
    return [a.get_text().strip() for a in _soup(response).select(".wt-kb-item__title a")]


def _home():
    from wagtail.models import Site

    return Site.objects.get(is_default_site=True).root_page.specific


@pytest.fixture
def kb(helpdesk):
    return factories.make_kb(
        helpdesk, "Knowledge base", intro="<p>Answers to common questions.</p>"
    )


@pytest.fixture
def article(kb, department):
    return factories.make_article(
        kb,
        "Printer is on fire",
        summary="What to do when smoke comes out of the printer.",
        body_text="Unplug the printer and open a window.",
        department=department,
        tags=["hardware", "safety"],
    )


def _vote(client, article, answer):
    return client.post(article.url + "vote/", {"helpful": answer})


def _is_login_redirect(response, next_url):
    return response.status_code == 302 and response["Location"].endswith("login/?next=" + next_url)


def _feedback(response):
    return _soup(response).select_one("#wt-kb-feedback")


# --- where pages may be created ------------------------------------------------------------


def test_kb_index_can_be_created_under_the_support_centre_and_under_itself(helpdesk, kb):
    assert KnowledgeBaseIndexPage.can_create_at(helpdesk)
    assert KnowledgeBaseIndexPage in HelpdeskPage.allowed_subpage_models()
    # Categories are knowledge bases inside knowledge bases.
    assert KnowledgeBaseIndexPage.can_create_at(kb)


def test_articles_only_under_a_knowledge_base(helpdesk, department, kb):
    assert ArticlePage.allowed_parent_page_models() == [KnowledgeBaseIndexPage]
    assert ArticlePage.can_create_at(kb)
    assert not ArticlePage.can_create_at(helpdesk)
    assert not ArticlePage.can_create_at(department)
    assert not ArticlePage.can_create_at(_home())
    assert not ArticlePage.can_create_at(Page.get_first_root_node())


def test_nothing_under_an_article(article):
    assert ArticlePage.allowed_subpage_models() == []
    for page_type in (ArticlePage, KnowledgeBaseIndexPage, DepartmentPage, HelpdeskPage):
        assert not page_type.can_create_at(article)


# --- article body -------------------------------------------------------------------------


def _image(title="Paper tray"):
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), "blue").save(buffer, "PNG")
    return get_image_model().objects.create(
        title=title, file=ImageFile(buffer, name="tray.png"), description="The open paper tray"
    )


def test_every_block_type_renders(client, kb):
    image = _image()
    article = factories.make_article(
        kb,
        "Clearing a paper jam",
        body=[
            ("heading", "Before you start"),
            ("text", RichText("<p>Switch it <b>off</b>.</p>")),
            ("code", {"language": "shell", "code": "lpstat -p <printer>"}),
            ("image", {"image": image, "caption": "Where the tray is"}),
            ("callout", {"kind": "warning", "text": RichText("<p>Mind the <i>hot</i> parts.</p>")}),
        ],
    )

    response = client.get(article.url)

    assert response.status_code == 200
    body = _soup(response).select_one(".wt-kb-body")
    assert body.select_one("h2.wt-kb-heading").get_text() == "Before you start"
    assert body.select_one("p b").get_text() == "off"
    code = body.select_one("pre.wt-kb-code > code.language-shell")
    # The code is shown as typed, never as markup.
    assert code.get_text() == "lpstat -p <printer>"
    assert "&lt;printer&gt;" in str(code)
    figure = body.select_one("figure.wt-kb-figure")
    img = figure.select_one("img")
    assert img["src"].startswith("/")  # a rendition, not the original upload
    assert img["alt"]
    assert figure.select_one("figcaption").get_text() == "Where the tray is"
    callout = body.select_one("aside.wt-kb-callout--warning")
    assert callout.select_one(".wt-kb-callout__label").get_text() == "Warning"
    assert callout.select_one("i").get_text() == "hot"


# --- visibility: drafts, unpublished and private articles -------------------------------------


@pytest.fixture
def hidden_articles(kb):
    """A draft, an unpublished and a private article, all about printers."""
    draft = factories.make_article(kb, "Printer draft", summary="printer", live=False)
    gone = factories.make_article(kb, "Printer retired", summary="printer")
    gone.unpublish()
    private = factories.make_article(kb, "Printer internals", summary="printer")
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)
    return draft, ArticlePage.objects.get(pk=gone.pk), private


def test_hidden_articles_are_not_listed_nor_searchable(client, kb, hidden_articles):
    visible = factories.make_article(kb, "Printer basics", summary="printer")
    for hidden in hidden_articles:
        ArticleVote.objects.create(article=hidden, voter=f"v{hidden.pk}", helpful=True)

    assert _titles(client.get(kb.url)) == ["Printer basics"]
    assert _titles(client.get(kb.url + "search/?q=printer")) == ["Printer basics"]
    # Nor among the popular articles, though only they have votes.
    assert _titles(client.get(kb.url + "search/")) == ["Printer basics"]
    assert visible.title in client.get(kb.url).content.decode()
    assert "wt-kb-popular" not in client.get(kb.url).content.decode()


def test_hidden_articles_are_not_served(client, hidden_articles, customer):
    draft, gone, private = hidden_articles
    assert client.get(draft.url).status_code == 404
    assert client.get(f"/support/knowledge-base/{gone.slug}/").status_code == 404
    response = client.get(private.url)
    assert response.status_code == 302
    assert _is_login_redirect(response, private.url)
    # A visitor the section is open to reads it.
    client.force_login(customer)
    assert client.get(private.url).status_code == 200


def test_members_only_knowledge_base_works_for_members(client, helpdesk, kb, customer):
    basics = factories.make_article(kb, "Printer basics", summary="printer")
    toner = factories.make_article(kb, "Toner", summary="toner")
    RelatedArticle.objects.create(page=toner, article=basics, sort_order=0)
    ArticleVote.objects.create(article=basics, voter="v", helpful=True)
    PageViewRestriction.objects.create(page=kb, restriction_type=PageViewRestriction.LOGIN)

    assert client.get(kb.url).status_code == 302
    assert client.get(kb.url + "search/?q=printer").status_code == 302
    assert not _soup(client.get(helpdesk.url)).select(".wt-kb-links")
    client.force_login(customer)
    assert _titles(client.get(kb.url)) == ["Toner", "Printer basics"]
    assert _titles(client.get(kb.url + "search/?q=printer")) == ["Printer basics"]
    assert _titles(client.get(kb.url + "search/")) == ["Printer basics", "Toner"]
    related = _soup(client.get(toner.url)).select(".wt-kb-related a")
    assert [a.get_text() for a in related] == ["Printer basics"]


def test_category_of_another_audience_is_hidden_in_a_public_kb(client, kb, customer):
    staff_only = factories.make_kb(kb, "Staff notes")
    factories.make_article(staff_only, "Printer passwords", summary="printer")
    PageViewRestriction.objects.create(page=staff_only, restriction_type=PageViewRestriction.LOGIN)
    factories.make_article(kb, "Printer basics", summary="printer")

    html = client.get(kb.url).content.decode()
    assert "Staff notes" not in html
    assert _titles(client.get(kb.url + "search/?q=printer")) == ["Printer basics"]


# --- category page ------------------------------------------------------------------------


def test_category_page_lists_sub_categories_with_counts_and_its_own_articles(client, kb):
    printing = factories.make_kb(kb, "Printing")
    network = factories.make_kb(kb, "Network")
    factories.make_kb(kb, "Unpublished category", live=False)
    factories.make_article(printing, "Paper jam")
    factories.make_article(printing, "Toner")
    toner_old = factories.make_article(printing, "Old toner", live=False)
    deep = factories.make_kb(printing, "Laser printers")
    factories.make_article(deep, "Laser safety")
    factories.make_article(kb, "Welcome", updated=date(2024, 1, 10))
    factories.make_article(kb, "Contact hours", updated=date(2024, 3, 1))
    factories.make_article(kb, "Holidays", updated=date(2023, 12, 24))

    response = client.get(kb.url)

    soup = _soup(response)
    counts = {
        li.a.get_text(): li.select_one(".wt-note").get_text(strip=True)
        for li in soup.select(".wt-kb-category")
    }
    # Sub-categories count the articles anywhere under them; drafts do not count.
    assert counts == {"Printing": "3 articles", "Network": "0 articles"}
    assert toner_old.title not in response.content.decode()
    # Only the category's own articles, the most recently updated first.
    assert _titles(response) == ["Contact hours", "Welcome", "Holidays"]
    assert soup.select_one(".wt-intro").get_text(strip=True) == "Answers to common questions."
    search = soup.select_one("form.wt-kb-search")
    assert search["method"] == "get"
    assert search["action"] == kb.url + "search/"
    assert soup.select_one(f"label[for={search.select_one('input')['id']}]")
    assert network.url in {a["href"] for a in soup.select(".wt-kb-category a")}


def test_category_page_paginates_and_survives_bad_page_numbers(client, kb):
    kb.articles_per_page = 2
    kb.save_revision().publish()
    for n in range(5):
        factories.make_article(kb, f"Article {n}", updated=date(2024, 1, 1) + timedelta(days=n))

    assert _titles(client.get(kb.url)) == ["Article 4", "Article 3"]
    assert _titles(client.get(kb.url + "?page=3")) == ["Article 0"]
    # Nonsense and out-of-range numbers give a real page instead of an error.
    assert _titles(client.get(kb.url + "?page=abc")) == ["Article 4", "Article 3"]
    assert _titles(client.get(kb.url + "?page=99")) == ["Article 0"]
    assert _soup(client.get(kb.url)).select_one(".wt-pagination a[rel=next]")["href"] == "?page=2"


def test_category_page_shows_popular_articles_once_readers_have_voted(client, kb):
    printing = factories.make_kb(kb, "Printing")
    jam = factories.make_article(printing, "Paper jam")
    toner = factories.make_article(kb, "Toner")
    assert not _soup(client.get(kb.url)).select(".wt-kb-popular")

    for n in range(2):
        ArticleVote.objects.create(article=jam, voter=f"jam{n}", helpful=True)
    ArticleVote.objects.create(article=toner, voter="toner", helpful=True)
    ArticleVote.objects.create(article=toner, voter="toner-no", helpful=False)

    popular = [a.get_text() for a in _soup(client.get(kb.url)).select(".wt-kb-popular a")]
    assert popular == ["Paper jam", "Toner"]


# --- search -------------------------------------------------------------------------------


@pytest.fixture
def library(kb):
    """Two categories, tags, and an article in another knowledge base."""
    printing = factories.make_kb(kb, "Printing")
    network = factories.make_kb(kb, "Network")
    factories.make_article(
        printing, "Printer jams", body_text="Open the tray and pull the paper.", tags=["paper"]
    )
    factories.make_article(printing, "Printer ink", summary="Replacing printer cartridges.")
    factories.make_article(
        network,
        "Network printer offline",
        summary="When the printer drops off the network.",
        tags=["paper", "wifi"],
    )
    factories.make_article(kb, "Wi-Fi password", summary="Where to find it.", tags=["wifi"])
    other_kb = factories.make_kb(kb.get_parent(), "Partner knowledge base")
    factories.make_article(other_kb, "Partner printer", summary="printer")
    return printing, network


def test_search_finds_articles_under_this_knowledge_base(client, kb, library):
    response = client.get(kb.url + "search/?q=printer")

    assert response.status_code == 200
    assert sorted(_titles(response)) == ["Network printer offline", "Printer ink", "Printer jams"]
    soup = _soup(response)
    categories = {
        item.select_one(".wt-kb-item__title").get_text().strip(): item.select_one(
            ".wt-kb-item__category"
        ).get_text()
        for item in soup.select(".wt-kb-item")
    }
    assert categories["Printer jams"] == "Printing"
    assert categories["Network printer offline"] == "Network"
    # A search from a category stays in it.
    printing, _network = library
    assert sorted(_titles(client.get(printing.url + "search/?q=printer"))) == [
        "Printer ink",
        "Printer jams",
    ]


def test_search_result_shows_summary_or_body_snippet_with_terms_marked(client, kb, library):
    soup = _soup(client.get(kb.url + "search/?q=tray"))

    item = soup.select_one(".wt-kb-item")
    assert item.select_one(".wt-kb-item__title a").get_text() == "Printer jams"
    summary = item.select_one(".wt-kb-item__summary")
    assert summary.get_text() == "Open the tray and pull the paper."
    assert [mark.get_text() for mark in summary.select("mark")] == ["tray"]


def test_search_filters_by_category(client, kb, library):
    printing, network = library
    url = kb.url + "search/?q=printer&category="

    assert _titles(client.get(url + str(network.pk))) == ["Network printer offline"]
    response = client.get(url + str(printing.pk))
    assert sorted(_titles(response)) == ["Printer ink", "Printer jams"]
    selected = _soup(response).select_one("select[name=category] option[selected]")
    assert selected["value"] == str(printing.pk)
    # Something that is not one of this knowledge base's categories is ignored.
    other = KnowledgeBaseIndexPage.objects.get(title="Partner knowledge base")
    for bogus in (str(other.pk), "abc", "-1"):
        assert len(_titles(client.get(url + bogus))) == 3


def test_search_filters_by_tag(client, kb, library):
    assert sorted(_titles(client.get(kb.url + "search/?tag=paper"))) == [
        "Network printer offline",
        "Printer jams",
    ]
    assert _titles(client.get(kb.url + "search/?q=network&tag=paper")) == [
        "Network printer offline"
    ]
    assert _titles(client.get(kb.url + "search/?q=jams&tag=wifi")) == []
    _printing, network = library
    assert _titles(client.get(kb.url + f"search/?tag=wifi&category={network.pk}")) == [
        "Network printer offline"
    ]
    response = client.get(kb.url + "search/?tag=no-such-tag")
    assert response.status_code == 200
    assert _titles(response) == []
    # The tag filter can be dropped while keeping the words.
    soup = _soup(client.get(kb.url + "search/?q=printer&tag=paper"))
    assert soup.select_one(".wt-kb-filter a")["href"] == "?q=printer"


def test_search_is_paginated(client, kb):
    kb.articles_per_page = 2
    kb.save_revision().publish()
    for n in range(5):
        factories.make_article(kb, f"Scanner tip {n}", summary="scanner")

    seen = []
    for number in (1, 2, 3):
        seen += _titles(client.get(kb.url + f"search/?q=scanner&page={number}"))
    assert sorted(seen) == [f"Scanner tip {n}" for n in range(5)]
    soup = _soup(client.get(kb.url + "search/?q=scanner&page=2"))
    assert soup.select_one(".wt-pagination a[rel=next]")["href"] == "?q=scanner&page=3"
    assert _titles(client.get(kb.url + "search/?q=scanner&page=zzz")) == seen[:2]


def test_empty_search_lists_most_helpful_then_most_recent(client, kb):
    older = factories.make_article(kb, "Older, no votes")
    newer = factories.make_article(kb, "Newer, no votes")
    helpful = factories.make_article(kb, "Two helpful votes")
    mixed = factories.make_article(kb, "One helpful vote")
    unhelpful = factories.make_article(kb, "Three unhelpful votes")
    now = timezone.now()
    ArticlePage.objects.filter(pk=older.pk).update(last_published_at=now - timedelta(days=9))
    ArticlePage.objects.filter(pk=newer.pk).update(last_published_at=now - timedelta(days=1))
    ArticlePage.objects.filter(pk=unhelpful.pk).update(last_published_at=now - timedelta(days=5))
    ArticlePage.objects.filter(pk=mixed.pk).update(last_published_at=now - timedelta(days=30))
    for n in range(2):
        ArticleVote.objects.create(article=helpful, voter=f"h{n}", helpful=True)
    ArticleVote.objects.create(article=mixed, voter="m1", helpful=True)
    ArticleVote.objects.create(article=mixed, voter="m2", helpful=False)
    for n in range(3):
        ArticleVote.objects.create(article=unhelpful, voter=f"u{n}", helpful=False)

    response = client.get(kb.url + "search/")

    assert _titles(response) == [
        "Two helpful votes",
        "One helpful vote",
        "Newer, no votes",
        "Three unhelpful votes",
        "Older, no votes",
    ]
    assert _soup(response).select_one("#wt-kb-results").get_text() == "Popular articles"


def test_search_writes_nothing(client, kb, library):
    client.get(kb.url + "search/?q=printer")
    with CaptureQueriesContext(connection) as captured:
        for url in ("search/?q=printer", "search/?tag=paper", "search/", ""):
            assert client.get(kb.url + url).status_code == 200
    writes = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert "Set-Cookie" not in client.get(kb.url + "search/?q=printer").headers


# --- highlighting -------------------------------------------------------------------------


def test_highlight_escapes_text_and_query():
    text = 'Run <script>alert("x")</script> & print'
    html = kb_highlight(text, "<script> print")
    assert "<script>" not in html
    assert html == (
        "Run &lt;<mark>script</mark>&gt;alert(&quot;x&quot;)&lt;/<mark>script</mark>&gt; "
        "&amp; <mark>print</mark>"
    )
    # A query word cannot reach into the entities that escaping produced.
    assert kb_highlight("a < b", "lt") == "a &lt; b"
    assert kb_highlight("<b>bold</b>", "") == "&lt;b&gt;bold&lt;/b&gt;"
    # Words start a match; the middle of another word does not.
    assert kb_highlight("Printers and blueprints", "print") == (
        "<mark>Print</mark>ers and blueprints"
    )


def test_highlight_through_the_search_page(client, kb):
    factories.make_article(
        kb,
        "Script <b>errors</b>",
        body_text='The page shows <script>alert("boo")</script> in the footer.',
    )
    factories.make_article(kb, "Script summary", summary="<img src=x onerror=alert(1)> script")

    response = client.get(kb.url + "search/", {"q": '<script>alert("boo")</script>'})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>" not in html.split("</main>")[0]
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=<mark>alert</mark>(1)&gt; <mark>script</mark>" in html
    assert "<mark>Script</mark> &lt;b&gt;errors&lt;/b&gt;" in html
    assert "&lt;<mark>script</mark>&gt;<mark>alert</mark>(&quot;<mark>boo</mark>&quot;)" in html
    # The query is echoed escaped in the field and the heading.
    assert 'value="&lt;script&gt;alert(&quot;boo&quot;)&lt;/script&gt;"' in html


def test_body_snippet_starts_near_the_first_match(kb):
    words = " ".join(f"word{n}" for n in range(80))
    article = factories.make_article(kb, "Long", body_text=f"{words} toner cartridge {words}")

    excerpt = kb_excerpt(article, "toner")

    assert "toner cartridge" in excerpt
    assert excerpt.startswith("…") and excerpt.endswith("…")
    assert len(excerpt) <= 210
    assert kb_excerpt(article, "").startswith("word0 word1")


# --- article page -------------------------------------------------------------------------


def test_article_page_shows_date_tags_breadcrumbs_and_live_related_articles(client, kb, article):
    printing = factories.make_kb(kb, "Printing")
    jam = factories.make_article(printing, "Paper jam", tags=["paper"])
    draft = factories.make_article(kb, "Draft neighbour", live=False)
    private = factories.make_article(kb, "Private neighbour")
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)
    for order, other in enumerate((draft, jam, private)):
        RelatedArticle.objects.create(page=jam, article=other, sort_order=order)
    RelatedArticle.objects.create(page=jam, article=article, sort_order=5)
    ArticlePage.objects.filter(pk=jam.pk).update(updated=date(2024, 2, 29))

    soup = _soup(client.get(jam.url))

    assert soup.select_one("h1").get_text() == "Paper jam"
    assert soup.select_one(".wt-kb-article time")["datetime"] == "2024-02-29"
    crumbs = [(a.get_text(), a["href"]) for a in soup.select(".wt-breadcrumbs a")]
    assert crumbs == [
        ("Support", "/support/"),
        ("Knowledge base", kb.url),
        ("Printing", printing.url),
    ]
    assert soup.select_one(".wt-breadcrumbs [aria-current=page]").get_text() == "Paper jam"
    # Tags lead to the whole knowledge base's search, filtered by the tag.
    tag = soup.select_one(".wt-kb-tag")
    assert (tag.get_text(), tag["href"]) == ("paper", kb.url + "search/?tag=paper")
    related = [a.get_text() for a in soup.select(".wt-kb-related a")]
    assert related == [article.title]


def test_article_date_falls_back_to_last_publication(client, article):
    soup = _soup(client.get(article.url))
    assert soup.select_one(".wt-kb-article time")["datetime"] == (
        timezone.localdate(article.last_published_at).isoformat()
    )


def _preview(client, form_url, preview_url, **fields):
    data = querydict_from_html(client.get(form_url).content.decode(), form_id="page-edit-form")
    # The body's editor is drawn by JavaScript, so its fields are not in the HTML.
    body = streamfield([("heading", "Steps"), ("text", rich_text("<p>Unplug it.</p>"))])
    for name, value in {**nested_form_data({"body": body}), **fields}.items():
        data[name] = value
    assert client.post(preview_url, data).json() == {"is_valid": True, "is_available": True}
    return client.get(preview_url)


def test_editor_previews_a_new_article(client, kb, superuser):
    client.force_login(superuser)
    args = ["wagtail_tickets", "articlepage", kb.pk]

    response = _preview(
        client,
        reverse("wagtailadmin_pages:add", args=args),
        reverse("wagtailadmin_pages:preview_on_add", args=args),
        title="Not saved yet",
        slug="not-saved-yet",
        summary="A preview.",
    )

    assert response.status_code == 200
    soup = _soup(response)
    assert soup.h1.get_text() == "Not saved yet"
    assert soup.select_one(".wt-kb-body h2").get_text() == "Steps"
    assert [a.get_text() for a in soup.select(".wt-breadcrumbs a")] == ["Support", kb.title]
    # Nothing to vote on in a preview.
    assert soup.select_one("#wt-kb-feedback") is None
    assert not ArticlePage.objects.filter(slug="not-saved-yet").exists()


def test_editor_previews_changes_to_an_article(client, article, superuser):
    ArticleVote.objects.create(article=article, voter="x", helpful=True)
    client.force_login(superuser)

    response = _preview(
        client,
        reverse("wagtailadmin_pages:edit", args=[article.pk]),
        reverse("wagtailadmin_pages:preview_on_edit", args=[article.pk]),
        title="Printer is on fire (draft)",
    )

    soup = _soup(response)
    assert soup.h1.get_text() == "Printer is on fire (draft)"
    assert [a.get_text() for a in soup.select(".wt-kb-tag")] == ["hardware", "safety"]
    assert soup.select_one("#wt-kb-feedback") is None


# --- votes --------------------------------------------------------------------------------


def test_visitor_votes_once_and_sees_their_answer(client, article):
    page = client.get(article.url)
    form = _feedback(page).select_one("form")
    assert form["method"] == "post"
    assert form["action"] == article.url + "vote/"
    assert form.select_one("input[name=csrfmiddlewaretoken]")
    assert {b["value"] for b in form.select("button[name=helpful]")} == {"yes", "no"}

    response = _vote(client, article, "yes")
    assert response.status_code == 302
    assert response["Location"] == article.url + "?voted=1#wt-kb-feedback"
    thanks = _feedback(client.get(response["Location"]))
    assert "Thank you for your feedback." in thanks.get_text()
    assert thanks.select_one("form") is None

    # Voting again, even the other way, changes nothing.
    assert _vote(client, article, "no").status_code == 302
    assert list(ArticleVote.objects.values_list("helpful", flat=True)) == [True]
    later = _feedback(client.get(article.url))
    assert "You found this article helpful." in later.get_text()
    assert "Thank you" not in later.get_text()
    assert later.select_one("form") is None

    # Another visitor has their own vote.
    assert _vote(Client(), article, "no").status_code == 302
    assert sorted(ArticleVote.objects.values_list("helpful", flat=True)) == [False, True]


def test_visitor_cookie_is_signed_http_only_and_only_its_hash_is_stored(client, article):
    response = _vote(client, article, "yes")

    cookie = response.cookies[VOTER_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] >= 365 * 24 * 60 * 60
    reader = RequestFactory().get("/")
    reader.COOKIES[VOTER_COOKIE] = cookie.value
    visitor_id = reader.get_signed_cookie(VOTER_COOKIE, salt=VOTER_SALT)
    assert len(visitor_id) >= 32
    vote = ArticleVote.objects.get()
    assert vote.voter == hashlib.sha256(f"cookie:{visitor_id}".encode()).hexdigest()
    assert vote.user is None
    # A forged cookie is a new visitor, not a way to act as another one.
    forger = Client()
    forger.cookies[VOTER_COOKIE] = visitor_id
    _vote(forger, article, "no")
    assert ArticleVote.objects.count() == 2


def test_logged_in_user_votes_once_from_any_browser(article, customer):
    laptop, phone = Client(), Client()
    laptop.force_login(customer)
    phone.force_login(customer)

    _vote(laptop, article, "no")
    _vote(phone, article, "yes")

    vote = ArticleVote.objects.get()
    assert vote.user == customer
    assert vote.helpful is False
    assert vote.voter == hashlib.sha256(f"user:{customer.pk}".encode()).hexdigest()
    assert "You said this article did not help." in _feedback(phone.get(article.url)).get_text()


def test_vote_before_logging_in_still_counts_once(client, article, customer):
    _vote(client, article, "yes")
    client.force_login(customer)
    _vote(client, article, "no")
    assert list(ArticleVote.objects.values_list("helpful", flat=True)) == [True]


def test_concurrent_second_vote_is_ignored(client, article, customer, monkeypatch):
    from wagtail_tickets.views import knowledge

    # The user's other request committed its vote just after this one looked for it.
    ArticleVote.objects.create(article=article, voter="other-request", user=customer, helpful=True)
    monkeypatch.setattr(knowledge, "_existing_vote", lambda *args: None)
    client.force_login(customer)

    response = _vote(client, article, "no")

    assert response.status_code == 302
    assert list(ArticleVote.objects.values_list("voter", "helpful")) == [("other-request", True)]


def test_vote_must_be_a_post(client, article):
    response = client.get(article.url + "vote/?helpful=yes")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert not ArticleVote.objects.exists()


@pytest.mark.parametrize("answer", ["", "maybe", "YES", "1"])
def test_vote_with_a_bad_answer_is_refused(client, article, answer):
    assert _vote(client, article, answer).status_code == 400
    assert client.post(article.url + "vote/").status_code == 400
    assert not ArticleVote.objects.exists()


def test_vote_without_csrf_token_is_refused(article):
    client = Client(enforce_csrf_checks=True)
    assert _vote(client, article, "yes").status_code == 403
    assert not ArticleVote.objects.exists()
    # With the token from the page it goes through.
    token = _feedback(client.get(article.url)).select_one("input[name=csrfmiddlewaretoken]")
    response = client.post(
        article.url + "vote/", {"helpful": "yes", "csrfmiddlewaretoken": token["value"]}
    )
    assert response.status_code == 302
    assert ArticleVote.objects.count() == 1


def test_no_vote_on_unpublished_or_private_articles(client, kb):
    draft = factories.make_article(kb, "Draft", live=False)
    gone = factories.make_article(kb, "Gone")
    gone.unpublish()
    private = factories.make_article(kb, "Private")
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)

    assert client.post(f"{kb.url}{draft.slug}/vote/", {"helpful": "yes"}).status_code == 404
    assert client.post(f"{kb.url}{gone.slug}/vote/", {"helpful": "yes"}).status_code == 404
    # Wagtail's own view restriction answers first: log in to see (and rate) it.
    response = _vote(client, private, "yes")
    assert _is_login_redirect(response, private.url + "vote/")
    assert not ArticleVote.objects.exists()


def test_no_answer_offers_the_articles_department(client, article, department):
    response = client.get(_vote(client, article, "no")["Location"])

    links = _feedback(response).select(".wt-kb-departments a")
    assert [a["href"] for a in links] == [f"{department.url}?article={article.pk}"]
    assert department.title in links[0].get_text()


def test_no_answer_falls_back_to_the_support_centres_departments(client, helpdesk, kb, department):
    sales = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    closed = factories.make_department(helpdesk, title="Closed desk", prefix="CLO", live=False)
    article = factories.make_article(kb, "Pricing", department=closed)

    response = client.get(_vote(client, article, "no")["Location"])

    hrefs = [a["href"] for a in _feedback(response).select(".wt-kb-departments a")]
    assert hrefs == [f"{department.url}?article={article.pk}", f"{sales.url}?article={article.pk}"]


def test_yes_answer_offers_no_form(client, article):
    response = client.get(_vote(client, article, "yes")["Location"])
    assert not _feedback(response).select(".wt-kb-departments a")
    assert not _feedback(client.get(article.url)).select(".wt-kb-departments a")


@pytest.fixture
def kb_editor(kb):
    user = factories.make_admin_user("editor")
    group = Group.objects.create(name="KB editors")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=group,
        page=kb,
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    user.groups.add(group)
    return user


@pytest.mark.parametrize(
    ("role", "sees_counts"),
    [
        (None, False),
        ("customer", False),
        ("agent", False),
        ("other_agent", False),
        ("kb_editor", True),
        ("superuser", True),
    ],
)
def test_vote_counts_are_shown_to_editors_only(request, client, article, role, sees_counts):
    for n in range(3):
        ArticleVote.objects.create(article=article, voter=f"y{n}", helpful=True)
    ArticleVote.objects.create(article=article, voter="n", helpful=False)
    if role:
        client.force_login(request.getfixturevalue(role))

    counts = _feedback(client.get(article.url)).select_one(".wt-kb-votes")

    if sees_counts:
        assert "3 yes, 1 no" in counts.get_text()
    else:
        assert counts is None


def test_article_page_is_not_shared_between_visitors_by_caches(client, article):
    first = client.get(article.url)
    assert "Cookie" in first["Vary"]
    _vote(client, article, "yes")
    voted = client.get(article.url)
    assert "no-store" in voted["Cache-Control"] or "private" in voted["Cache-Control"]


# --- support centre -----------------------------------------------------------------------


def test_support_centre_offers_knowledge_base_search_and_links(client, helpdesk):
    assert not _soup(client.get(helpdesk.url)).select(".wt-kb-search")
    first = factories.make_kb(helpdesk, "Guides")
    second = factories.make_kb(helpdesk, "FAQ")
    factories.make_kb(helpdesk, "Draft KB", live=False)
    private = factories.make_kb(helpdesk, "Staff KB")
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)

    soup = _soup(client.get(helpdesk.url))

    form = soup.select_one("form.wt-kb-search")
    assert form["method"] == "get"
    assert form["action"] == first.url + "search/"
    field = form.select_one("input[name=q]")
    assert soup.select_one(f"label[for={field['id']}]")
    links = [(a.get_text(), a["href"]) for a in soup.select(".wt-kb-links a")]
    assert links == [("Guides", first.url), ("FAQ", second.url)]


# --- query ceilings -----------------------------------------------------------------------


def _measure(django_assert_max_num_queries, ceiling, get):
    get()  # warm caches (content types, site root paths)
    with django_assert_max_num_queries(ceiling) as captured:
        response = get()
    assert response.status_code == 200
    return response, len(captured.captured_queries)


def _fill(kb, category, start, count):
    for n in range(start, start + count):
        parent = category if n % 2 else kb
        article = factories.make_article(
            parent, f"Printer tip {n}", summary=f"printer tip {n}", tags=[f"tag{n % 3}"]
        )
        ArticleVote.objects.create(article=article, voter=f"v{n}", helpful=bool(n % 3))


def test_index_page_query_ceiling(client, kb, django_assert_max_num_queries):
    category = factories.make_kb(kb, "Printing")
    _fill(kb, category, 0, 3)

    def get():
        return client.get(kb.url)

    response, small = _measure(django_assert_max_num_queries, INDEX_PAGE_QUERIES, get)
    assert len(_titles(response)) == 2
    for n in range(3):
        factories.make_kb(kb, f"Extra {n}")
    _fill(kb, category, 3, 27)
    response, big = _measure(django_assert_max_num_queries, INDEX_PAGE_QUERIES, get)
    assert len(_titles(response)) == 15
    assert big == small == INDEX_PAGE_QUERIES


@pytest.mark.parametrize(
    ("path", "ceiling"), [("search/?q=printer", "SEARCH_QUERIES"), ("search/", "POPULAR_QUERIES")]
)
def test_search_query_ceiling(client, kb, django_assert_max_num_queries, path, ceiling):
    ceiling = globals()[ceiling]
    category = factories.make_kb(kb, "Printing")
    _fill(kb, category, 0, 3)

    def get():
        return client.get(kb.url + path)

    response, small = _measure(django_assert_max_num_queries, ceiling, get)
    assert len(_titles(response)) == 3
    _fill(kb, category, 3, 27)
    response, big = _measure(django_assert_max_num_queries, ceiling, get)
    assert len(_titles(response)) == 20
    assert big == small == ceiling


def test_article_page_query_ceiling(client, kb, department, django_assert_max_num_queries):
    category = factories.make_kb(kb, "Printing")
    article = factories.make_article(category, "Printer basics", department=department, tags=["a"])
    _fill(kb, category, 0, 3)

    def relate_and_vote(start, count):
        for n, other in enumerate(
            ArticlePage.objects.exclude(pk=article.pk).order_by("pk")[start : start + count]
        ):
            RelatedArticle.objects.create(page=article, article=other, sort_order=start + n)
            ArticleVote.objects.create(article=article, voter=f"a{start + n}", helpful=True)

    def get():
        return client.get(article.url)

    relate_and_vote(0, 3)
    response, small = _measure(django_assert_max_num_queries, ARTICLE_QUERIES, get)
    assert len(_soup(response).select(".wt-kb-related a")) == 3
    _fill(kb, category, 3, 27)
    relate_and_vote(3, 27)
    response, big = _measure(django_assert_max_num_queries, ARTICLE_QUERIES, get)
    assert len(_soup(response).select(".wt-kb-related a")) == 30
    assert big == small == ARTICLE_QUERIES


def test_article_page_after_no_vote_query_ceiling(
    client, helpdesk, kb, django_assert_max_num_queries
):
    article = factories.make_article(kb, "Printer basics")
    _vote(client, article, "no")

    def get():
        return client.get(article.url)

    for n in range(3):
        factories.make_department(helpdesk, title=f"Desk {n}", prefix=f"DK{n}")
    response, small = _measure(django_assert_max_num_queries, ARTICLE_AFTER_NO_VOTE_QUERIES, get)
    assert len(_feedback(response).select(".wt-kb-departments a")) == 3
    for n in range(3, 30):
        factories.make_department(helpdesk, title=f"Desk {n}", prefix=f"DK{n}")
    response, big = _measure(django_assert_max_num_queries, ARTICLE_AFTER_NO_VOTE_QUERIES, get)
    assert len(_feedback(response).select(".wt-kb-departments a")) == 30
    assert big == small == ARTICLE_AFTER_NO_VOTE_QUERIES
