""" "Was this helpful?" answers are limited per IP address and article, whatever cookie
the voter sends, and the limit holds under concurrency."""

import pytest
from django.test import Client

from tests import factories
from wagtail_tickets.models import ArticleVote

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(helpdesk):
    kb = factories.make_kb(helpdesk, "Knowledge base")
    return factories.make_article(kb, "Printer jams"), factories.make_article(kb, "Toner")


def _vote(article, ip, answer="yes"):
    # A new client each time: a voter who drops the cookie.
    return Client().post(article.url + "vote/", {"helpful": answer}, REMOTE_ADDR=ip)


def test_dropping_the_cookie_does_not_stuff_the_votes(articles, settings):
    settings.WAGTAIL_TICKETS_KB_VOTES_PER_IP_PER_DAY = 3
    jam, toner = articles
    answers = [_vote(jam, "203.0.113.5") for _ in range(6)]
    assert all(response.status_code == 302 for response in answers)
    assert ArticleVote.objects.filter(article=jam).count() == 3
    refused = answers[-1]
    assert "voted=limited" in refused["Location"]
    page = Client().get(refused["Location"], REMOTE_ADDR="203.0.113.5")
    assert "was not counted" in page.content.decode()
    # Another address, or another article, has its own share.
    assert "voted=1" in _vote(jam, "198.51.100.7")["Location"]
    assert "voted=1" in _vote(toner, "203.0.113.5")["Location"]
    assert ArticleVote.objects.filter(article=jam).count() == 4
    # The address itself is not stored.
    assert not ArticleVote.objects.filter(ip_hash__contains="203.0.113.5").exists()


def test_the_limit_is_per_day(articles, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.WAGTAIL_TICKETS_KB_VOTES_PER_IP_PER_DAY = 1
    jam, _toner = articles
    _vote(jam, "203.0.113.5")
    assert "voted=limited" in _vote(jam, "203.0.113.5")["Location"]
    ArticleVote.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    assert "voted=1" in _vote(jam, "203.0.113.5")["Location"]


def test_logged_in_readers_count_against_their_address_too(articles, settings):
    settings.WAGTAIL_TICKETS_KB_VOTES_PER_IP_PER_DAY = 2
    jam, _toner = articles
    for n in range(3):
        client = Client()
        client.force_login(factories.make_user(f"reader{n}"))
        client.post(jam.url + "vote/", {"helpful": "no"}, REMOTE_ADDR="203.0.113.5")
    assert ArticleVote.objects.filter(article=jam).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_votes_from_one_address_hold_the_limit(settings):
    from tests.test_limits_concurrency import at_once

    settings.WAGTAIL_TICKETS_KB_VOTES_PER_IP_PER_DAY = 3
    helpdesk = factories.make_helpdesk()
    jam = factories.make_article(factories.make_kb(helpdesk, "KB"), "Printer jams")
    at_once(20, lambda index: _vote(jam, "203.0.113.5").status_code)
    assert ArticleVote.objects.filter(article=jam).count() == 3
