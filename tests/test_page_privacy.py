"""Page privacy (Wagtail's view restrictions) on the package's pages, read in one query."""

import pytest
from wagtail.models import Page, PageViewRestriction

from tests import factories


def _wagtails(page):
    """The restrictions as Wagtail's own implementation finds them."""
    return set(Page.get_view_restrictions(page).values_list("pk", flat=True))


def _ours(page):
    return set(page.get_view_restrictions().values_list("pk", flat=True))


def _restrict(page, kind=PageViewRestriction.LOGIN, **extra):
    return PageViewRestriction.objects.create(page=page, restriction_type=kind, **extra)


@pytest.fixture
def tree(db):
    helpdesk = factories.make_helpdesk()
    department = factories.make_department(helpdesk, title="Billing", prefix="BIL")
    kb = factories.make_kb(helpdesk)
    article = factories.make_article(kb, title="Refunds")
    return helpdesk, department, kb, article


def test_no_restrictions_anywhere(tree):
    for page in tree:
        assert _ours(page) == _wagtails(page) == set()


def test_restrictions_of_the_page_and_its_ancestors(tree):
    helpdesk, department, kb, article = tree
    on_helpdesk = _restrict(helpdesk)
    on_kb = _restrict(kb, PageViewRestriction.PASSWORD, password="s3cret")
    on_home = _restrict(helpdesk.get_parent())
    assert _ours(department) == _wagtails(department) == {on_helpdesk.pk, on_home.pk}
    assert _ours(article) == _wagtails(article) == {on_helpdesk.pk, on_kb.pk, on_home.pk}
    assert _ours(kb) == _wagtails(kb) == {on_helpdesk.pk, on_kb.pk, on_home.pk}
    # A sibling's restriction is not the page's.
    assert on_kb.pk not in _ours(department)


def test_a_chain_of_aliases_leads_to_the_source_pages_restrictions(tree):
    helpdesk, department, _, _ = tree
    home = helpdesk.get_parent()
    private = _restrict(helpdesk)
    alias = helpdesk.create_alias(parent=home, update_slug="support-mirror", recursive=True)
    alias_of_alias = alias.create_alias(parent=home, update_slug="support-again", recursive=True)
    mirrored = alias_of_alias.get_children().get(slug=department.slug).specific
    assert mirrored.alias_of.alias_of_id == department.pk  # two links to the source
    assert _ours(mirrored) == _wagtails(mirrored) == {private.pk}
    assert _ours(alias_of_alias.specific) == {private.pk}


def test_one_query(tree, django_assert_num_queries):
    _, department, _, article = tree
    _restrict(department.get_parent())
    with django_assert_num_queries(1):
        assert len(department.get_view_restrictions()) == 1
    with django_assert_num_queries(1):
        assert len(article.get_view_restrictions()) == 1


def test_a_private_support_centre_reached_through_an_alias_asks_to_log_in(tree, client):
    helpdesk, department, _, article = tree
    _restrict(helpdesk)
    alias = helpdesk.create_alias(
        parent=helpdesk.get_parent(), update_slug="support-mirror", recursive=True
    )
    mirrored = alias.get_children().get(slug=department.slug).specific
    for url in (department.url, mirrored.url, article.url):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"] or "login" in response["Location"]
