"""The crafted inputs of the security review, each of which gave a server error."""

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from wagtail_tickets.inputs import local_url, parse_id, search_text

pytestmark = pytest.mark.django_db

HUGE = "9" * 20


@pytest.fixture
def agent_client(agent):
    client = Client(raise_request_exception=False)
    client.force_login(agent)
    return client


def test_huge_article_id_on_the_department_form(department, site_settings):
    client = Client(raise_request_exception=False)
    assert client.get(department.url, {"article": HUGE}).status_code == 200
    response = client.post(department.url, {"article": HUGE, "subject": "x", "message": "y"})
    assert response.status_code in (200, 302, 400)


def test_huge_article_id_in_the_suggestion_post(department):
    response = Client(raise_request_exception=False).post(
        department.url + "suggest/", {"event": "opened", "article": HUGE}
    )
    assert response.status_code == 400


def test_huge_ids_in_the_customers_filters(helpdesk, customer):
    client = Client(raise_request_exception=False)
    client.force_login(customer)
    for name in ("department", "status"):
        assert client.get(helpdesk.url + "tickets/", {name: HUGE}).status_code == 200


def test_huge_attachment_id_in_the_customers_route(helpdesk, ticket, customer):
    client = Client(raise_request_exception=False)
    client.force_login(customer)
    response = client.get(f"{helpdesk.url}tickets/{ticket.code}/files/{HUGE}/")
    assert response.status_code == 404


def test_huge_ids_in_the_inbox(agent_client, ticket):
    star = reverse("helpdesk_inbox:star", args=[1]).replace("/1/", f"/{HUGE}/")
    assert agent_client.post(star).status_code == 404
    detail = reverse("helpdesk_tickets:detail", args=[1]).replace("/1/", f"/{HUGE}/")
    assert agent_client.get(detail).status_code == 404
    for ids in ([HUGE], ["²"], ["١٢"], [HUGE, str(ticket.pk)]):
        url = reverse("wagtail_bulk_action", args=["wagtail_tickets", "ticket", "close"])
        query = urlencode([("id", value) for value in ids])
        assert agent_client.get(f"{url}?{query}").status_code == 200


@pytest.mark.parametrize(
    "query",
    ['"', "'", 'printer "fire', "a\x00b", " ".join(f"word{n}" for n in range(2000)), "x" * 10000],
)
def test_odd_inbox_searches(agent_client, ticket, query):
    factories.index_tickets(ticket)
    assert agent_client.get("/admin/helpdesk_inbox/", {"q": query}).status_code == 200
    url = reverse("wagtail_bulk_action", args=["wagtail_tickets", "ticket", "close"])
    assert agent_client.get(url, {"id": "all", "q": query}).status_code == 200


def test_nul_in_the_knowledge_base_search(helpdesk):
    kb = factories.make_kb(helpdesk, "Knowledge base")
    client = Client(raise_request_exception=False)
    for params in ({"q": "a\x00b"}, {"tag": "a\x00b"}, {"category": HUGE}):
        assert client.get(kb.url + "search/", params).status_code == 200


def test_the_helpers():
    assert parse_id("12") == 12
    for value in (HUGE, "0", "-1", "²", "١٢", " 1", "1.0", "", None, True, 2**63):
        assert parse_id(value) is None, value
    assert search_text("a\x00b  " + "w " * 100) == "a b " + " ".join(["w"] * 10)
    assert len(search_text("x" * 1000)) == 200


def test_next_urls_must_be_paths_of_this_site(rf):
    request = rf.get("/")
    for bad in ("'", "https://evil.example/", "//evil.example/", "javascript:alert(1)", "/a\x00"):
        assert local_url(request, bad, "/fallback/") == "/fallback/"
    assert local_url(request, "/admin/?p=2", "/fallback/") == "/admin/?p=2"
