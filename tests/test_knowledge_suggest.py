"""Article suggestions on the department form, deflection figures, the knowledge-base
search ranking behind them."""

import json
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.core.paginator import Paginator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction, Site

from tests import factories
from wagtail_tickets import deflection, kb_search
from wagtail_tickets.models import HelpdeskPage, SuggestionStat, Ticket

pytestmark = pytest.mark.django_db

# The same for 3 and for 30 articles, on SQLite and PostgreSQL: Wagtail's routing and
# view restriction checks (5: the support centre finds the department and its specific
# row in one query, the restrictions are one query), the ranking and the articles (3
# with the restrictions for public()), the knowledge base for "search_url" (2, likewise).
SUGGEST_QUERIES = 10


# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture
def sales(helpdesk):
    return factories.make_department(helpdesk, title="Billing", prefix="BIL")


@pytest.fixture
def kb(helpdesk):
    return factories.make_kb(helpdesk, "Knowledge base")


@pytest.fixture
def other_site_article(db):
    """A password article in another site's knowledge base."""
    root = Page.get_first_root_node()
    home = root.add_child(instance=Page(title="Other home", slug="other-home"))
    Site.objects.create(hostname="other.example", port=80, root_page=home)
    helpdesk = HelpdeskPage(title="Other support", slug="other-support")
    home.add_child(instance=helpdesk)
    helpdesk.save_revision().publish()
    other_kb = factories.make_kb(helpdesk, "Other answers")
    return factories.make_article(other_kb, "Password help on the other site", summary="x")


@pytest.fixture
def articles(kb, department, sales, other_site_article):
    """Eight articles: five public password ones (one the department's own), a printer
    one, and password articles that must never be suggested: a draft, a private one and
    one on another site."""
    private = factories.make_kb(kb, "Staff only")
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    made = {
        "reset": factories.make_article(
            kb,
            "Reset your password",
            summary="Forgot it? Get a new one by e-mail.",
            department=sales,
        ),
        "expired": factories.make_article(
            kb,
            "Password expired",
            summary="What to do when it stops working.",
            department=department,
        ),
        "mailbox": factories.make_article(
            kb, "Change the password of your mailbox", summary="In the mail settings."
        ),
        "strong": factories.make_article(
            kb, "Choosing strong passwords", summary="Length beats symbols."
        ),
        "printer": factories.make_article(
            kb, "Printer is on fire", summary="Unplug it.", department=department
        ),
        "draft": factories.make_article(kb, "Password draft", summary="Not ready.", live=False),
        "private": factories.make_article(
            private, "Password of the staff vault", summary="Secret."
        ),
    }
    made["other_site"] = other_site_article
    return made


def _suggest_url(department, query="", **extra):
    from urllib.parse import urlencode

    params = {"q": query, **extra} if query is not None else extra
    return department.url + "suggest/?" + urlencode(params)


def _suggest(client, department, query, **extra):
    response = client.get(_suggest_url(department, query), **extra)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def _titles(data):
    return [item["title"] for item in data["results"]]


def _url(page):
    """The page's address as the default site's pages see it: relative."""
    return page.relative_url(Site.objects.get(is_default_site=True))


def _soup(response):
    return BeautifulSoup(response.content.decode(), "html.parser")


def _csrf_client(department):
    """A client that enforces CSRF, with the token of the department's form."""
    client = Client(enforce_csrf_checks=True)
    response = client.get(department.url)
    token = _soup(response).select_one("input[name=csrfmiddlewaretoken]")["value"]
    return client, token


def _stat(department):
    return SuggestionStat.objects.filter(department=department, day=timezone.localdate()).first()


# --------------------------------------------------------------------------------------
# Relevance and what may be suggested
# --------------------------------------------------------------------------------------


def test_half_typed_subject_finds_the_password_articles_department_first(
    client, department, articles
):
    data = _suggest(client, department, "passw")

    titles = _titles(data)
    assert titles[0] == "Password expired"  # the department's own
    assert set(titles) == {
        "Password expired",
        "Reset your password",
        "Change the password of your mailbox",
        "Choosing strong passwords",
    }


def test_another_department_gets_its_own_article_first(client, sales, articles):
    assert _titles(_suggest(client, sales, "passw"))[0] == "Reset your password"


def test_a_closer_match_beats_the_department_boost(client, sales, articles):
    # Sales' own password article must not push aside the one the subject names.
    assert _titles(_suggest(client, sales, "password expired"))[0] == "Password expired"


def test_results_carry_url_and_summary(client, department, articles):
    data = _suggest(client, department, "printer on fi")
    article = articles["printer"]
    assert data["results"][0] == {
        "id": article.pk,
        "title": "Printer is on fire",
        "url": _url(article),
        "summary": "Unplug it.",
    }


def test_stop_words_of_a_whole_sentence_do_not_match_everything(client, department, articles):
    data = _suggest(client, department, "How do I change my mailbox")
    assert _titles(data) == ["Change the password of your mailbox"]


@pytest.mark.parametrize("role", ["anonymous", "customer", "agent", "other_agent", "superuser"])
def test_drafts_private_and_other_sites_never_appear_whoever_asks(
    client, department, articles, role, request
):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    titles = _titles(_suggest(client, department, "password"))
    assert "Password draft" not in titles
    assert "Password of the staff vault" not in titles
    assert "Password help on the other site" not in titles
    assert len(titles) == 4


def test_at_most_five_suggestions(client, department, kb):
    for n in range(7):
        factories.make_article(kb, f"Password tip {n}")
    assert len(_suggest(client, department, "password tip")["results"]) == 5


def test_search_url_points_to_the_knowledge_base_search(client, department, kb, articles):
    data = _suggest(client, department, "passw")
    assert data["search_url"] == _url(kb) + "search/?q=passw"


def test_no_search_url_without_a_knowledge_base(client, department):
    assert _suggest(client, department, "passw") == {"results": [], "search_url": None}


@pytest.mark.parametrize("query", ["", "pa", "  pa  ", "ab"])
def test_short_queries_answer_empty_without_searching(client, department, articles, query):
    with CaptureQueriesContext(connection) as captured:
        data = _suggest(client, department, query)
    assert data == {"results": [], "search_url": None}
    assert not [q for q in captured.captured_queries if "indexentry" in q["sql"]]


@pytest.mark.parametrize(
    "query", ['pass" OR "x', "NOT AND *", '"""', "passw*", "pass^2 (x)", "{title}: pass", "ǅ² 🔥"]
)
def test_search_syntax_in_the_subject_is_just_text(client, department, articles, query):
    data = _suggest(client, department, query)
    assert isinstance(data["results"], list)


def test_titles_come_back_as_plain_strings(client, department, kb):
    title = '<script>alert("x")</script> Password & more'
    factories.make_article(kb, title, summary="<b>bold</b> & summary")

    response = client.get(_suggest_url(department, "password"))

    body = response.content.decode()
    assert "<script>" not in body and "<b>" not in body and "&" not in body
    item = json.loads(body)["results"][0]
    assert item["title"] == title
    assert item["summary"] == "<b>bold</b> & summary"


def test_query_ceiling_does_not_grow_with_the_articles(
    client, department, kb, django_assert_max_num_queries
):
    def measure():
        # The first request after a cache clear also reads the site's root paths.
        _suggest(client, department, "printer")
        with django_assert_max_num_queries(SUGGEST_QUERIES) as captured:
            data = _suggest(client, department, "printer")
        return len(data["results"]), len(captured.captured_queries)

    for n in range(3):
        factories.make_article(kb, f"Printer tip {n}", department=department if n % 2 else None)
    small = measure()
    for n in range(3, 30):
        factories.make_article(kb, f"Printer tip {n}", department=department if n % 2 else None)
    big = measure()
    assert small == (3, SUGGEST_QUERIES)
    assert big == (5, SUGGEST_QUERIES)


# --------------------------------------------------------------------------------------
# Access, rate limit, caching
# --------------------------------------------------------------------------------------


def test_unpublished_department_answers_404(client, helpdesk, articles):
    hidden = factories.make_department(helpdesk, title="Hidden", prefix="HID", live=False)
    assert client.get(f"{helpdesk.url}hidden/suggest/?q=passw").status_code == 404
    assert hidden.live is False


def test_logged_in_only_department_still_suggests_to_visitors(client, helpdesk, articles):
    members = factories.make_department(
        helpdesk, title="Members", prefix="MEM", submitters="logged_in"
    )
    assert len(_suggest(client, members, "passw")["results"]) == 4


@pytest.fixture
def clock(monkeypatch):
    """The rate limiter's clock, pinned to the start of a minute.

    The limit counts per whole minute, so requests made on the real clock can straddle
    two windows and each stay under the limit.
    """
    from wagtail_tickets.views import suggestions

    now = [1_800_000_000.0]  # a whole minute
    monkeypatch.setattr(suggestions, "time", SimpleNamespace(time=lambda: now[0]))
    return now


def test_rate_limit_per_address(client, department, articles, settings, clock):
    settings.WAGTAIL_TICKETS_SUGGEST_REQUESTS_PER_MINUTE = 3
    url = _suggest_url(department, "passw")
    for _ in range(3):
        assert client.get(url, REMOTE_ADDR="203.0.113.5").status_code == 200

    refused = client.get(url, REMOTE_ADDR="203.0.113.5")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert "error" in json.loads(refused.content)
    assert "no-cache" in refused["Cache-Control"]
    # Another address is not affected.
    assert client.get(url, REMOTE_ADDR="203.0.113.6").status_code == 200
    clock[0] += 59
    assert client.get(url, REMOTE_ADDR="203.0.113.5").status_code == 429
    # The next minute counts afresh.
    clock[0] += 1
    assert client.get(url, REMOTE_ADDR="203.0.113.5").status_code == 200


def test_rate_limit_counts_the_figures_requests_too(department, articles, settings, clock):
    settings.WAGTAIL_TICKETS_SUGGEST_REQUESTS_PER_MINUTE = 2
    client, token = _csrf_client(department)
    url = _suggest_url(department, None)
    for _ in range(2):
        assert client.post(url, {"event": "shown", "csrfmiddlewaretoken": token}).status_code == 204
    assert client.post(url, {"event": "shown", "csrfmiddlewaretoken": token}).status_code == 429
    assert _stat(department).shown == 2


def test_rate_limit_can_be_turned_off(client, department, articles, settings):
    settings.WAGTAIL_TICKETS_SUGGEST_REQUESTS_PER_MINUTE = 0
    url = _suggest_url(department, "passw")
    assert all(client.get(url).status_code == 200 for _ in range(70))


def test_answers_may_be_kept_briefly_by_the_browser_only(client, department, articles):
    response = client.get(_suggest_url(department, "passw"))
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert cache_control == {"private", "max-age=60"}


def test_other_methods_are_refused(client, department):
    assert client.put(_suggest_url(department, "passw")).status_code == 405


# --------------------------------------------------------------------------------------
# Deflection figures: shown, opened, filed
# --------------------------------------------------------------------------------------


def test_looking_up_suggestions_counts_nothing(client, department, articles):
    _suggest(client, department, "passw")
    _suggest(client, department, "password expired")
    assert not SuggestionStat.objects.exists()


def test_shown_is_counted_by_a_post_with_the_form_token(department, articles):
    client, token = _csrf_client(department)

    response = client.post(
        _suggest_url(department, None), {"event": "shown", "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 204
    assert "no-cache" in response["Cache-Control"]
    stat = _stat(department)
    assert (stat.shown, stat.opened, stat.filed) == (1, 0, 0)


def test_figures_cannot_be_posted_without_the_csrf_token(department, articles):
    client = Client(enforce_csrf_checks=True)
    response = client.post(_suggest_url(department, None), {"event": "shown"})
    assert response.status_code == 403
    assert not SuggestionStat.objects.exists()


def test_opening_a_suggestion_counts_opened(department, articles):
    client, token = _csrf_client(department)
    url = _suggest_url(department, None)
    for _ in range(2):
        response = client.post(
            url,
            {"event": "opened", "article": articles["expired"].pk, "csrfmiddlewaretoken": token},
        )
        assert response.status_code == 204
    assert _stat(department).opened == 2


@pytest.mark.parametrize(
    "article", ["", "abc", "-1", "999999", "draft", "private", "other_site", "kb"]
)
def test_opened_needs_an_article_that_could_have_been_suggested(department, articles, kb, article):
    client, token = _csrf_client(department)
    if article in articles:
        article = articles[article].pk
    elif article == "kb":
        article = kb.pk
    response = client.post(
        _suggest_url(department, None),
        {"event": "opened", "article": article, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 400
    assert not SuggestionStat.objects.exists()


def test_unknown_event_is_refused(department):
    client, token = _csrf_client(department)
    response = client.post(
        _suggest_url(department, None), {"event": "filed", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 400
    assert not SuggestionStat.objects.exists()


def _form_data(**extra):
    return {
        "name": "Visitor",
        "email": "visitor@example.com",
        "subject": "My password expired",
        "message": "I cannot sign in any more.",
        **extra,
    }


def test_a_ticket_filed_after_suggestions_counts_filed(client, department, site_settings, articles):
    response = client.post(department.url, _form_data(kb_suggestions_shown="1"))
    assert response.status_code == 302
    stat = _stat(department)
    assert (stat.shown, stat.opened, stat.filed) == (0, 0, 1)


def test_a_ticket_without_suggestions_shown_counts_nothing(
    client, department, site_settings, articles
):
    response = client.post(department.url, _form_data(kb_suggestions_shown=""))
    assert response.status_code == 302
    assert not SuggestionStat.objects.exists()


def test_a_failed_submission_counts_nothing_and_keeps_the_mark(client, department, site_settings):
    response = client.post(department.url, _form_data(kb_suggestions_shown="1", email="nope"))

    assert response.status_code == 400
    assert not SuggestionStat.objects.exists()
    # The script sees the form was counted already and does not count it again.
    assert _soup(response).select_one("input[name=kb_suggestions_shown]")["value"] == "1"


def test_a_fresh_form_is_not_marked(client, department, site_settings):
    response = client.get(department.url)
    assert _soup(response).select_one("input[name=kb_suggestions_shown]")["value"] == ""


def test_record_adds_to_the_day_row(department, sales):
    day = date(2025, 3, 1)
    deflection.record(department, "shown", day=day)
    deflection.record(department, "shown", day=day)
    deflection.record(department, "filed", day=day)
    deflection.record(sales, "opened", day=day)
    deflection.record(department, "shown", day=day + timedelta(days=1))

    rows = {
        (row.department_id, row.day): (row.shown, row.opened, row.filed)
        for row in SuggestionStat.objects.all()
    }
    assert rows == {
        (department.pk, day): (2, 0, 1),
        (sales.pk, day): (0, 1, 0),
        (department.pk, day + timedelta(days=1)): (1, 0, 0),
    }


def test_record_adds_to_a_row_created_by_a_concurrent_request(department, monkeypatch):
    """The day's first count loses the race to create the row: it adds to the winner's."""
    from django.db.models.query import QuerySet

    day = date(2025, 3, 1)
    real_update = QuerySet.update
    calls = []

    def update_racing(queryset, **kwargs):
        if queryset.model is SuggestionStat and not calls:
            calls.append(1)
            # Another request creates the row after our UPDATE found none.
            SuggestionStat.objects.create(department=department, day=day, shown=5)
            return 0
        return real_update(queryset, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update_racing)
    deflection.record(department, "shown", day=day)

    assert SuggestionStat.objects.get(department=department, day=day).shown == 6


def test_record_refuses_an_unknown_counter(department):
    with pytest.raises(ValueError):
        deflection.record(department, "clicked")


def test_figures_per_department_for_a_date_range(department, sales, helpdesk):
    quiet = factories.make_department(helpdesk, title="Quiet", prefix="QUI")
    start = date(2025, 3, 1)
    for offset, (shown, opened, filed) in enumerate([(10, 4, 3), (10, 2, 1)]):
        SuggestionStat.objects.create(
            department=department,
            day=start + timedelta(days=offset),
            shown=shown,
            opened=opened,
            filed=filed,
        )
    SuggestionStat.objects.create(department=sales, day=start, shown=4, opened=0, filed=6)
    SuggestionStat.objects.create(department=quiet, day=start, shown=0, opened=0, filed=2)
    # Outside the range.
    SuggestionStat.objects.create(department=department, day=start - timedelta(days=1), shown=100)
    SuggestionStat.objects.create(department=department, day=start + timedelta(days=2), shown=100)

    with CaptureQueriesContext(connection) as captured:
        rows = deflection.figures(start, start + timedelta(days=1))

    assert len(captured.captured_queries) == 1
    assert rows == [
        {
            "department": sales.pk,
            "title": "Billing",
            "shown": 4,
            "opened": 0,
            "filed": 6,
            "deflection_rate": 0.0,
        },
        {
            "department": quiet.pk,
            "title": "Quiet",
            "shown": 0,
            "opened": 0,
            "filed": 2,
            "deflection_rate": None,
        },
        {
            "department": department.pk,
            "title": "Technical support",
            "shown": 20,
            "opened": 6,
            "filed": 4,
            "deflection_rate": pytest.approx(0.8),
        },
    ]
    only = deflection.figures(start, start, departments=[department])
    assert [(row["department"], row["shown"], row["filed"]) for row in only] == [
        (department.pk, 10, 3)
    ]
    assert deflection.totals(start, start + timedelta(days=1)) == {
        "shown": 24,
        "opened": 6,
        "filed": 12,
        "deflection_rate": pytest.approx(0.5),
    }
    assert deflection.totals(start - timedelta(days=30), start - timedelta(days=29)) == {
        "shown": 0,
        "opened": 0,
        "filed": 0,
        "deflection_rate": None,
    }


# --------------------------------------------------------------------------------------
# The form: suggestion box, the no-JS link, "About the article"
# --------------------------------------------------------------------------------------


def test_form_carries_the_suggestion_box_under_the_subject(client, department, site_settings, kb):
    response = client.get(department.url)
    soup = _soup(response)
    subject_field = soup.select_one("input[name=subject]").find_parent(class_="wt-field")
    box = subject_field.find_next_sibling()
    assert box["id"] == "wt-suggest"
    assert box.select_one("[role=status][aria-live=polite]") is not None
    config = json.loads(soup.select_one("#wt-suggest-config").string)
    assert config["url"] == department.url + "suggest/"
    assert config["found"]["1"] == "1 article may answer your question."
    assert config["found"]["3"] == "3 articles may answer your question."
    assert soup.select_one('script[src$="wagtail_tickets/kb-suggest.js"]') is not None


def test_no_js_link_to_the_knowledge_base_search(client, department, site_settings, kb):
    link = _soup(client.get(department.url)).select_one(".wt-suggest__kb-link a")
    assert link["href"] == kb.url + "search/"
    assert link["target"] == "_blank" and link["rel"] == ["noopener"]
    assert "Search the knowledge base" in link.get_text()


def test_no_knowledge_base_no_link(client, department, site_settings):
    factories.make_kb(department.get_parent(), "Draft answers", live=False)
    assert _soup(client.get(department.url)).select_one(".wt-suggest__kb-link") is None


def test_the_link_prefers_the_knowledge_base_of_the_departments_support_centre(
    client, department, site_settings
):
    # A knowledge base earlier in the tree, under another support centre of the site.
    other_helpdesk = factories.make_helpdesk(title="Partners", slug="partners")
    Page.objects.get(pk=other_helpdesk.pk).move(department.get_parent(), pos="left")
    factories.make_kb(other_helpdesk, "Partner answers")
    own = factories.make_kb(department.get_parent(), "Our answers")

    link = _soup(client.get(department.url)).select_one(".wt-suggest__kb-link a")

    assert link["href"] == own.url + "search/"


def test_the_link_falls_back_to_any_knowledge_base_of_the_site(client, department, site_settings):
    other_helpdesk = factories.make_helpdesk(title="Partners", slug="partners")
    elsewhere = factories.make_kb(other_helpdesk, "Partner answers")
    link = _soup(client.get(department.url)).select_one(".wt-suggest__kb-link a")
    assert link["href"] == elsewhere.url + "search/"


def test_article_parameter_shows_the_article_on_the_form(
    client, department, site_settings, articles
):
    article = articles["expired"]
    soup = _soup(client.get(f"{department.url}?article={article.pk}"))

    about = soup.select_one(".wt-about-article")
    assert "About the article:" in about.get_text()
    assert about.select_one("a")["href"] == _url(article)
    assert about.select_one("a").get_text() == "Password expired"
    assert soup.select_one("input[name=article]")["value"] == str(article.pk)


def test_article_is_recorded_on_the_ticket(client, department, site_settings, articles):
    article = articles["expired"]
    response = client.post(f"{department.url}?article={article.pk}", _form_data(article=article.pk))

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.submitter_referrer == "http://localhost" + _url(article)
    assert ticket.source_page.endswith(_url(department))


@pytest.mark.parametrize(
    "value", ["", "abc", "0", "-3", "999999", "draft", "private", "other_site", "kb"]
)
def test_bogus_article_is_ignored(client, department, site_settings, articles, kb, value):
    if value in articles:
        value = articles[value].pk
    elif value == "kb":
        value = kb.pk
    page = client.get(f"{department.url}?article={value}")
    assert page.status_code == 200
    assert _soup(page).select_one(".wt-about-article") is None
    assert _soup(page).select_one("input[name=article]") is None

    response = client.post(department.url, _form_data(article=value))

    assert response.status_code == 302
    assert Ticket.objects.get().submitter_referrer == ""


def test_article_survives_a_failed_submission(client, department, site_settings, articles):
    article = articles["expired"]
    # The form posts to its own address; the hidden field carries the article even
    # when the query string is gone.
    response = client.post(department.url, _form_data(article=article.pk, email="nope"))

    assert response.status_code == 400
    soup = _soup(response)
    assert soup.select_one("input[name=article]")["value"] == str(article.pk)
    assert "Password expired" in soup.select_one(".wt-about-article").get_text()

    client.post(department.url, _form_data(article=article.pk))
    assert Ticket.objects.get().submitter_referrer.endswith(_url(article))


# --------------------------------------------------------------------------------------
# search_articles (the knowledge-base search page) and the generic fallback
# --------------------------------------------------------------------------------------


def test_search_articles_ranks_and_paginates(kb, department, articles):
    for n in range(25):
        factories.make_article(kb, f"Account note {n}", body_text="Keep your password safe.")
    results = kb_search.search_articles("mailbox password", root=kb)

    with CaptureQueriesContext(connection) as captured:
        page = Paginator(results, 10).get_page(2)
        titles = [article.title for article in page.object_list]
    assert len(captured.captured_queries) == 2  # the ranked ids, the page's articles
    assert page.paginator.count == 29  # any of the words: 25 notes, 4 password articles
    assert len(titles) == 10
    # The article matching both words in its title ranks first.
    assert results[0].title == "Change the password of your mailbox"
    assert "Password draft" not in {a.title for a in results}


def test_search_articles_respects_the_callers_queryset(kb, articles):
    queryset = kb_search.live_articles(root=kb).filter(department__isnull=True)
    titles = {article.title for article in kb_search.search_articles("password", queryset=queryset)}
    assert titles == {"Change the password of your mailbox", "Choosing strong passwords"}


def test_search_articles_without_words_finds_nothing(kb, articles):
    results = kb_search.search_articles("  !!! ", root=kb)
    assert results.count() == 0 and list(results) == [] and results[0:10] == []


def test_other_backends_use_wagtails_autocomplete_with_the_same_boost(
    client, department, sales, articles, monkeypatch
):
    monkeypatch.setattr(kb_search, "_ranking", lambda *args, **kwargs: None)
    assert _titles(_suggest(client, department, "passw"))[0] == "Password expired"
    assert _titles(_suggest(client, sales, "passw"))[0] == "Reset your password"
    titles = {
        a.title
        for a in kb_search.search_articles(
            "password", root=Site.objects.get(is_default_site=True).root_page
        )
    }
    assert "Password draft" not in titles and "Password expired" in titles


# --------------------------------------------------------------------------------------
# Concurrency on PostgreSQL
# --------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_first_counts_of_a_day_lose_nothing():
    from tests.test_concurrency import THREADS, run_in_threads

    helpdesk = factories.make_helpdesk()
    department = factories.make_department(helpdesk, title="Technical support", prefix="TECH")
    day = date(2025, 3, 1)

    def count(index):
        for _ in range(3):
            deflection.record(department, "shown", day=day)
        return [index]

    run_in_threads(count)

    assert SuggestionStat.objects.get(department=department, day=day).shown == THREADS * 3


def test_live_articles_can_go_through_wagtails_search(kb, articles):
    # Search backends only filter on indexed fields: the queryset must say it with them.
    found = {article.title for article in kb_search.live_articles(root=kb).search("password")}
    assert "Password expired" in found
    assert "Password of the staff vault" not in found and "Password draft" not in found
