"""The desk's "Create article" screen, the ticket screen's articles, the reply form's
knowledge-base search."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import ArticlePage, Attachment

pytestmark = pytest.mark.django_db

ARTICLE_BUTTON = "Create article"
# Session, user, permissions, profiles, view restrictions, the search, the pages.
KB_SEARCH_CEILING = 9
FORM_CEILING = 18
# The ticket screen of a resolved ticket: 19 as for an open one, one for the button's
# check, one for the articles list.
SCREEN_CEILING = 21


def url(name, *args):
    return reverse(f"helpdesk_tickets:{name}", args=args)


def grant_documents(user):
    """Let ``user`` add documents to the root collection, as Wagtail's group editor does."""
    from wagtail.models import Collection, GroupCollectionPermission

    group, _created = Group.objects.get_or_create(name="Document editors")
    GroupCollectionPermission.objects.get_or_create(
        group=group,
        collection=Collection.get_first_root_node(),
        permission=Permission.objects.get(codename="add_document"),
    )
    user.groups.add(group)
    return user


@pytest.fixture
def kb(helpdesk):
    return factories.make_kb(helpdesk, "Help articles")


@pytest.fixture
def printers(kb):
    return factories.make_kb(kb, "Printers")


@pytest.fixture
def other_kb(helpdesk):
    return factories.make_kb(helpdesk, "Partner base")


@pytest.fixture
def resolved(ticket, agent):
    factories.staff_reply(
        ticket,
        agent,
        "Hello Alice, unplug it and call 555-123-4567.",
        files=[("fix.txt", b"steps\n")],
    )
    factories.staff_reply(
        ticket, agent, "Internal: RMA later", internal=True, files=[("internal-note.txt", b"no\n")]
    )
    factories.resolve(ticket, agent)
    return ticket


@pytest.fixture
def editor_agent(agent, kb):
    """An agent of the ticket's department who may add pages under the knowledge base."""
    return factories.grant_add_page(agent, kb)


# --------------------------------------------------------------------------------------
# Who may open the screen
# --------------------------------------------------------------------------------------


def test_anonymous_and_customers_are_sent_to_the_admin_login(client, resolved, customer, kb):
    for user in (None, customer):
        if user:
            client.force_login(user)
        for method in ("get", "post"):
            response = getattr(client, method)(url("create_article", resolved.pk))
            assert response.status_code == 302
            assert reverse("wagtailadmin_login") in response["Location"]
    assert not ArticlePage.objects.exists()


def assert_denied(response):
    """Wagtail's answer to PermissionDenied: back to the dashboard with its message."""
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")


def test_agent_without_page_permission_is_denied(client, resolved, agent, kb):
    client.force_login(agent)
    target = url("create_article", resolved.pk)
    assert_denied(client.get(target))
    assert_denied(client.post(target, {"parent": kb.pk}))
    # Scripts get the plain 403.
    assert client.get(target, headers={"x-requested-with": "XMLHttpRequest"}).status_code == 403
    assert not ArticlePage.objects.exists()
    screen = client.get(url("detail", resolved.pk)).content.decode()
    assert ARTICLE_BUTTON not in screen
    assert url("create_article", resolved.pk) not in screen


def test_agent_of_another_department_gets_404(client, resolved, other_agent, kb):
    factories.grant_add_page(other_agent, kb)
    client.force_login(other_agent)
    assert client.get(url("create_article", resolved.pk)).status_code == 404
    assert client.post(url("create_article", resolved.pk), {"parent": kb.pk}).status_code == 404
    assert not ArticlePage.objects.exists()


def test_admin_user_without_desk_profile_gets_404(client, resolved, kb):
    editor = factories.make_admin_user("pageeditor")
    factories.grant_add_page(editor, kb)
    client.force_login(editor)
    assert client.get(url("create_article", resolved.pk)).status_code == 404
    assert client.post(url("create_article", resolved.pk), {"parent": kb.pk}).status_code == 404


def test_view_all_departments_holder_with_page_permission(client, resolved, other_agent, kb):
    other_agent = factories.grant(other_agent, "view_all_departments")
    factories.grant_add_page(other_agent, kb)
    client.force_login(other_agent)
    assert client.get(url("create_article", resolved.pk)).status_code == 200
    response = client.post(url("create_article", resolved.pk), {"parent": kb.pk})
    assert response.status_code == 302
    assert ArticlePage.objects.get().owner == other_agent


def test_post_needs_csrf(resolved, editor_agent, kb):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor_agent)
    response = client.post(url("create_article", resolved.pk), {"parent": kb.pk})
    assert response.status_code == 403
    assert not ArticlePage.objects.exists()


# --------------------------------------------------------------------------------------
# The form
# --------------------------------------------------------------------------------------


def test_form_lists_only_the_allowed_indexes_with_their_trail(
    client, resolved, editor_agent, kb, printers, other_kb
):
    client.force_login(editor_agent)
    response = client.get(url("create_article", resolved.pk))
    assert response.status_code == 200
    html = response.content.decode()
    choices = response.context["form"].fields["parent"].choices
    assert [pk for pk, _label in choices] == [kb.pk, printers.pk]
    labels = [label for _pk, label in choices]
    assert labels[1].endswith("Support › Help articles › Printers")
    assert "Partner base" not in html
    assert "personal data" in html.lower()
    assert "draft" in html.lower()
    assert "w-breadcrumbs" in html
    assert resolved.code in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_superuser_sees_every_index(client, resolved, superuser, kb, printers, other_kb):
    client.force_login(superuser)
    response = client.get(url("create_article", resolved.pk))
    choices = response.context["form"].fields["parent"].choices
    assert {pk for pk, _label in choices} == {kb.pk, printers.pk, other_kb.pk}


def test_form_offers_only_public_attachments(client, resolved, editor_agent):
    grant_documents(editor_agent)
    client.force_login(editor_agent)
    html = client.get(url("create_article", resolved.pk)).content.decode()
    assert "fix.txt" in html
    assert "internal-note.txt" not in html


def test_files_are_offered_only_to_who_may_add_them_to_the_library(client, resolved, editor_agent):
    client.force_login(editor_agent)
    response = client.get(url("create_article", resolved.pk))
    assert "attachments" not in response.context["form"].fields
    assert "fix.txt" not in response.content.decode()


def test_post_creates_the_draft_and_opens_the_editor(client, resolved, editor_agent, printers):
    grant_documents(editor_agent)
    client.force_login(editor_agent)
    public = Attachment.objects.get(original_name="fix.txt")
    response = client.post(
        url("create_article", resolved.pk), {"parent": printers.pk, "attachments": [public.pk]}
    )
    page = ArticlePage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[page.pk])
    assert not page.live
    assert page.get_parent().pk == printers.pk
    assert page.source_ticket_id == resolved.pk
    assert "555-123-4567" not in str(page.body.raw_data)
    assert "fix.txt" in str(page.body.raw_data)


def test_the_editor_opens_on_the_draft(client, resolved, editor_agent, kb):
    client.force_login(editor_agent)
    response = client.post(url("create_article", resolved.pk), {"parent": kb.pk}, follow=True)
    assert response.status_code == 200
    page = ArticlePage.objects.get()
    assert response.redirect_chain[-1][0] == reverse("wagtailadmin_pages:edit", args=[page.pk])
    html = response.content.decode()
    assert 'value="Printer is on fire"' in html
    assert "created from" in html  # the success message


def test_internal_attachment_cannot_be_posted(client, resolved, editor_agent, kb):
    grant_documents(editor_agent)
    client.force_login(editor_agent)
    internal = Attachment.objects.get(original_name="internal-note.txt")
    response = client.post(
        url("create_article", resolved.pk), {"parent": kb.pk, "attachments": [internal.pk]}
    )
    assert response.status_code == 400
    assert not ArticlePage.objects.exists()


def test_an_index_the_user_may_not_add_to_cannot_be_posted(
    client, resolved, editor_agent, other_kb
):
    client.force_login(editor_agent)
    response = client.post(url("create_article", resolved.pk), {"parent": other_kb.pk})
    assert response.status_code == 400
    assert not ArticlePage.objects.exists()


@pytest.mark.parametrize("size", [1, 6])
def test_form_query_ceiling(
    client, resolved, editor_agent, kb, size, django_assert_max_num_queries
):
    grant_documents(editor_agent)
    parent = kb
    for n in range(size):
        parent = factories.make_kb(parent, f"Level {n}")
        factories.staff_reply(
            resolved, editor_agent, f"More {n}", files=[(f"file-{n}.txt", b"x\n")]
        )
    factories.resolve(resolved, editor_agent)
    client.force_login(editor_agent)
    with django_assert_max_num_queries(FORM_CEILING):
        response = client.get(url("create_article", resolved.pk))
    form = response.context["form"]
    assert len(form.fields["parent"].choices) == size + 1
    assert len(form.fields["attachments"].choices) == size + 1


def test_open_ticket_is_refused_with_the_workflows_reason(client, ticket, editor_agent, kb):
    client.force_login(editor_agent)
    form = client.get(url("create_article", ticket.pk))
    assert form.status_code == 200
    html = form.content.decode()
    assert "Only resolved or closed tickets can become articles" in html
    assert "Create draft article" not in html
    response = client.post(url("create_article", ticket.pk), {"parent": kb.pk})
    assert response.status_code == 400
    assert "Only resolved or closed tickets can become articles" in response.content.decode()
    assert not ArticlePage.objects.exists()


# --------------------------------------------------------------------------------------
# The ticket screen
# --------------------------------------------------------------------------------------


def test_header_button_for_resolved_and_closed_tickets_only(client, ticket, editor_agent, kb):
    client.force_login(editor_agent)
    target = url("create_article", ticket.pk)
    assert target not in client.get(url("detail", ticket.pk)).content.decode()
    factories.resolve(ticket)
    html = client.get(url("detail", ticket.pk)).content.decode()
    assert target in html and ARTICLE_BUTTON in html
    workflow.close(ticket)
    assert target in client.get(url("detail", ticket.pk)).content.decode()


def test_no_query_about_articles_for_an_open_ticket(client, ticket, editor_agent, kb):
    client.force_login(editor_agent)
    client.get(url("detail", ticket.pk))  # records the view
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("detail", ticket.pk))
    assert response.status_code == 200
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "knowledgebaseindexpage" not in sql.lower()


def test_screen_lists_articles_from_this_ticket(client, resolved, editor_agent, kb, superuser):
    first = workflow.convert_to_article(resolved, kb, user=editor_agent)
    second = workflow.convert_to_article(resolved, kb, user=editor_agent)
    second.save_revision(user=superuser).publish()
    client.force_login(editor_agent)
    html = client.get(url("detail", resolved.pk)).content.decode()
    assert "Articles from this ticket" in html
    for page in (first, second):
        assert reverse("wagtailadmin_pages:edit", args=[page.pk]) in html
    panel = html[html.index("Articles from this ticket") :]
    assert ">draft<" in panel and ">live<" in panel
    # The ticket's history tells what happened.
    assert "Article drafted" in html


def test_no_articles_panel_without_articles(client, resolved, editor_agent):
    client.force_login(editor_agent)
    assert (
        "Articles from this ticket" not in client.get(url("detail", resolved.pk)).content.decode()
    )


@pytest.mark.parametrize("articles", [1, 6])
def test_screen_query_ceiling_with_articles(
    client, resolved, editor_agent, kb, articles, django_assert_max_num_queries
):
    for _n in range(articles):
        workflow.convert_to_article(resolved, kb, user=editor_agent)
    client.force_login(editor_agent)
    client.get(url("detail", resolved.pk))
    with django_assert_max_num_queries(SCREEN_CEILING):
        response = client.get(url("detail", resolved.pk))
    assert response.content.decode().count('class="wt-articles__item"') == articles


# --------------------------------------------------------------------------------------
# Knowledge-base search for the reply form
# --------------------------------------------------------------------------------------


@pytest.fixture
def articles(kb):
    made = [
        factories.make_article(kb, f"Printer fix number {n}", summary="Printer help.")
        for n in range(12)
    ]
    factories.make_article(kb, "Printer draft only", live=False)
    factories.make_article(kb, "Scanner calibration", summary="Scanner help.")
    return made


def test_kb_search_returns_live_articles_with_absolute_urls(client, agent, articles):
    client.force_login(agent)
    response = client.get(url("kb_search"), {"q": "printer"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    results = response.json()["results"]
    assert len(results) == 10
    titles = {result["title"] for result in results}
    assert "Printer draft only" not in titles
    assert all(title.startswith("Printer fix number") for title in titles)
    assert all(result["url"].startswith("http://") for result in results)
    page = ArticlePage.objects.get(title=results[0]["title"])
    assert results[0]["url"] == page.get_full_url()


def test_kb_search_empty_query(client, agent, articles):
    client.force_login(agent)
    assert client.get(url("kb_search")).json() == {"results": []}
    assert client.get(url("kb_search"), {"q": "   "}).json() == {"results": []}


def test_kb_search_is_for_desk_users(client, customer, articles):
    assert client.get(url("kb_search"), {"q": "printer"}).status_code == 302
    client.force_login(customer)
    assert client.get(url("kb_search"), {"q": "printer"}).status_code == 302
    client.force_login(factories.make_admin_user("pageeditor"))
    assert_denied(client.get(url("kb_search"), {"q": "printer"}))
    response = client.get(
        url("kb_search"), {"q": "printer"}, headers={"x-requested-with": "XMLHttpRequest"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("count", [1, 12])
def test_kb_search_query_ceiling(client, agent, kb, count, django_assert_max_num_queries):
    for n in range(count):
        factories.make_article(kb, f"Router reset {n}")
    client.force_login(agent)
    client.get(url("kb_search"), {"q": "router"})
    with django_assert_max_num_queries(KB_SEARCH_CEILING):
        response = client.get(url("kb_search"), {"q": "router"})
    assert len(response.json()["results"]) == min(count, 10)


def test_reply_form_has_the_search_box(client, ticket, agent):
    client.force_login(agent)
    html = client.get(url("detail", ticket.pk)).content.decode()
    assert "data-wt-kb-search" in html
    assert f'data-wt-kb-search-url="{url("kb_search")}"' in html
    assert 'data-wt-kb-search-target="id_message"' in html
    assert "admin-kb-search.js" in html
