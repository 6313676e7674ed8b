"""Customers rate staff replies: the workflow, the ticket page, the resolve mail's links,
reopening when unhappy, who is told, and who may rate what."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from wagtail_tickets import links, signals, workflow
from wagtail_tickets.models import (
    ActivityRollup,
    Message,
    Rating,
    Status,
    Ticket,
    TicketLogEntry,
)
from wagtail_tickets.models.ratings import ALL_AGENTS

pytestmark = pytest.mark.django_db

RATE_LINK_RE = re.compile(r"https?://[^\s<>\"]+/rate/[A-Za-z0-9_-]+/")


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def answered(ticket, agent):
    """The customer's ticket with one public staff reply (and an internal note)."""
    reply = factories.staff_reply(ticket, agent, "Restart the printer, please.")
    factories.staff_reply(ticket, agent, "Customer seems grumpy.", internal=True)
    return ticket, reply


def resolved_status():
    return Status.first_of_kind(Status.Kind.RESOLVED)


def ticket_url(helpdesk, ticket):
    return helpdesk.url + helpdesk.reverse_subpage("ticket_route", args=[ticket.code])


def rated_counts(agent):
    """The agent's ratings by score in today's rollup row."""
    row = ActivityRollup.objects.filter(grain="d", agent_id=agent.pk).first()
    return [getattr(row, f"rated_{score}") for score in range(1, 6)] if row else [0] * 5


# --- the workflow ------------------------------------------------------------------------


def test_rating_belongs_to_the_replys_author_and_counts_for_them(answered, agent, customer):
    ticket, reply = answered
    rated = workflow.rate(reply, score=4, comment=" Quick, thanks ", user=customer)
    rating = Rating.objects.get()
    assert (rated.created, rated.changed, rated.reopened) == (True, True, False)
    assert (rating.message, rating.ticket, rating.agent) == (reply, ticket, agent)
    assert (rating.score, rating.comment, rating.rated_by) == (4, "Quick, thanks", customer)
    assert rated_counts(agent) == [0, 0, 0, 1, 0]
    entry = TicketLogEntry.objects.filter(action="wagtail_tickets.rating.create").get()
    assert entry.data["score"] == 4 and entry.data["message_id"] == reply.pk
    assert entry.data["agent"]["id"] == agent.pk


def test_changing_a_rating_moves_the_count(answered, agent):
    _ticket, reply = answered
    workflow.rate(reply, score=5)
    rated = workflow.rate(reply, score=2, comment="It broke again", change_days=14)
    assert (rated.created, rated.changed) == (False, True)
    assert Rating.objects.get().score == 2
    assert rated_counts(agent) == [0, 1, 0, 0, 0]
    entry = TicketLogEntry.objects.filter(action="wagtail_tickets.rating.change").get()
    assert (entry.data["old_score"], entry.data["score"]) == (5, 2)
    # The same score and comment again change nothing and log nothing.
    assert workflow.rate(reply, score=2, comment="It broke again").changed is False
    assert TicketLogEntry.objects.filter(action__startswith="wagtail_tickets.rating").count() == 2


def test_a_rating_can_be_changed_only_for_the_configured_days(answered):
    _ticket, reply = answered
    long_ago = timezone.now() - timedelta(days=15)
    workflow.rate(reply, score=5, at=long_ago)
    with pytest.raises(workflow.WorkflowError):
        workflow.rate(reply, score=1, change_days=14)
    assert Rating.objects.get().score == 5
    workflow.rate(reply, score=1, change_days=30)
    assert Rating.objects.get().score == 1


@pytest.mark.parametrize("score", [0, 6, -1, "x", None, 10**30, "4.5"])
def test_scores_outside_one_to_five_are_refused(answered, score):
    _ticket, reply = answered
    with pytest.raises(workflow.WorkflowError):
        workflow.rate(reply, score=score)
    assert not Rating.objects.exists()


def test_only_public_staff_replies_can_be_rated(ticket, agent):
    first = ticket.messages.get()
    note = factories.staff_reply(ticket, agent, "Internal.", internal=True)
    for message in (first, note):
        with pytest.raises(workflow.WorkflowError):
            workflow.rate(message, score=5)
    assert not Rating.objects.exists()


def test_comment_is_cleaned_and_cut(answered):
    _ticket, reply = answered
    workflow.rate(reply, score=3, comment="a\x00b" + "c" * 3000)
    comment = Rating.objects.get().comment
    assert "\x00" not in comment and len(comment) == 2000


def test_signal_is_sent_after_commit(answered, django_capture_on_commit_callbacks):
    _ticket, reply = answered
    received = []
    handler = lambda sender, **kwargs: received.append(kwargs)  # noqa: E731
    signals.ticket_rated.connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            workflow.rate(reply, score=2)
        assert received == []
        for callback in callbacks:
            callback()
    finally:
        signals.ticket_rated.disconnect(handler)
    sent = [(r["rating"].score, r["created"], r["reopened"]) for r in received]
    assert sent == [(2, True, False)]


def test_unhappy_score_reopens_when_asked_and_tells_the_assignee(answered, agent, commit):
    ticket, reply = answered
    workflow.assign(ticket, agent)
    workflow.change_status(ticket, resolved_status())
    mail.outbox.clear()
    with commit():
        rated = workflow.rate(reply, score=1, comment="Still broken", reopen_if_unhappy=True)
    assert rated.reopened
    ticket.refresh_from_db()
    assert ticket.status.kind == Status.Kind.OPEN and ticket.resolved_at is None
    [message] = [m for m in mail.outbox if m.to == [agent.email]]
    assert ticket.code in message.subject and "1 of 5" in message.subject
    assert "Still broken" in message.body and "reopened" in message.body


def test_unhappy_score_without_the_setting_leaves_the_ticket_and_tells_department_staff(
    answered, agent, commit
):
    ticket, reply = answered
    workflow.change_status(ticket, resolved_status())
    mail.outbox.clear()
    with commit():
        assert not workflow.rate(reply, score=2).reopened
    ticket.refresh_from_db()
    assert ticket.status.kind == Status.Kind.RESOLVED
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert "offered to reopen" in mail.outbox[0].body


def test_good_scores_tell_nobody(answered, commit):
    _ticket, reply = answered
    mail.outbox.clear()
    with commit():
        workflow.rate(reply, score=3, reopen_if_unhappy=True)
    assert mail.outbox == []


def test_customer_reopens_after_an_unhappy_rating(answered, agent, customer, commit):
    ticket, reply = answered
    workflow.change_status(ticket, resolved_status())
    rating = workflow.rate(reply, score=2).rating
    mail.outbox.clear()
    with commit():
        assert workflow.reopen_unhappy(rating, user=customer) is True
    ticket.refresh_from_db()
    assert ticket.status.kind == Status.Kind.OPEN
    assert TicketLogEntry.objects.filter(action="wagtail_tickets.rating.reopen").count() == 1
    [message] = mail.outbox
    assert "Reopened" in message.subject and "customer has reopened" in message.body
    assert workflow.reopen_unhappy(rating, user=customer) is False  # already open


def test_a_happy_rating_cannot_reopen(answered):
    ticket, reply = answered
    workflow.change_status(ticket, resolved_status())
    rating = workflow.rate(reply, score=4).rating
    with pytest.raises(workflow.WorkflowError):
        workflow.reopen_unhappy(rating)


def test_merging_moves_ratings_with_their_replies(answered, department, agent, customer):
    ticket, reply = answered
    workflow.rate(reply, score=5)
    # Only one customer's tickets can be merged.
    target = factories.open_ticket(department, customer=customer, subject="Another")
    # Merging needs "Can change ticket fields".
    workflow.merge(target, [ticket], user=factories.grant(agent, "change_ticket_fields"))
    assert Rating.objects.get().ticket == target


def test_deleting_a_rated_reply_takes_its_rating_out_of_the_figures(answered, agent):
    _ticket, reply = answered
    workflow.rate(reply, score=5)
    reply.refresh_from_db()
    workflow.delete_message(reply, user=agent)
    assert not Rating.objects.exists()
    assert rated_counts(agent) == [0] * 5


def test_deleting_a_ticket_takes_back_its_figures(answered, agent):
    ticket, reply = answered
    workflow.rate(reply, score=5)
    assert ActivityRollup.objects.filter(agent_id=ALL_AGENTS).exclude(opened=0).exists()
    Ticket.objects.filter(pk=ticket.pk).delete()
    assert not ActivityRollup.objects.exclude(opened=0, replies=0, rated_5=0).exists()


# --- the ticket page ----------------------------------------------------------------------


def rate_forms(response):
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    return soup.select("form.wt-rating__form")


def test_customer_rates_a_reply_on_the_ticket_page(
    client, helpdesk, answered, customer, site_settings, agent
):
    ticket, reply = answered
    client.force_login(customer)
    url = ticket_url(helpdesk, ticket)
    [form] = rate_forms(client.get(url))
    # An accessible radio group with a legend, and a labelled comment box.
    assert form.find("legend").get_text(strip=True) == "How helpful was this reply?"
    radios = form.select("input[type=radio][name=score]")
    assert sorted(int(r["value"]) for r in radios) == [1, 2, 3, 4, 5]
    assert all(form.find("label", attrs={"for": r["id"]}) for r in radios)
    assert form.find("label", attrs={"for": form.find("textarea")["id"]})
    assert form.find("input", attrs={"name": "csrfmiddlewaretoken"})

    response = client.post(
        url, {"action": "rate", "message": reply.pk, "score": "4", "comment": "Good <b>one</b>"}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#message-{reply.pk}")
    rating = Rating.objects.get()
    assert (rating.score, rating.source, rating.rated_by, rating.agent) == (
        4,
        Rating.Source.PAGE,
        customer,
        agent,
    )
    page = client.get(url).content.decode()
    assert "You rated this reply 4 of 5." in page
    assert "Good &lt;b&gt;one&lt;/b&gt;" in page and "<b>one</b>" not in page


def test_ratings_are_read_with_the_conversation(
    client, helpdesk, answered, customer, site_settings, agent, django_assert_max_num_queries
):
    ticket, reply = answered
    workflow.rate(reply, score=5)
    client.force_login(customer)
    url = ticket_url(helpdesk, ticket)
    client.get(url)
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for n in range(4):
        workflow.rate(factories.staff_reply(ticket, agent, f"More {n}"), score=3)
    # The first view after new replies also marks them read (one UPDATE); compare like
    # with like.
    client.get(url)
    with django_assert_max_num_queries(30) as more:
        client.get(url)
    assert len(more.captured_queries) == len(few.captured_queries)


def test_a_private_link_holder_may_rate(client, helpdesk, department, agent, site_settings):
    ticket, token = factories.open_ticket_with_token(department)
    reply = factories.staff_reply(ticket, agent, "Try this.")
    client.get(helpdesk.url + helpdesk.reverse_subpage("access_route", args=[token]))
    response = client.post(
        ticket_url(helpdesk, ticket), {"action": "rate", "message": reply.pk, "score": "5"}
    )
    assert response.status_code == 302
    assert Rating.objects.get().rated_by is None


def test_others_cannot_rate(client, helpdesk, answered, other_customer, site_settings, agent):
    ticket, reply = answered
    url = ticket_url(helpdesk, ticket)
    post = {"action": "rate", "message": reply.pk, "score": "1"}
    # Anonymous: the private-ticket page; another customer, or a desk agent: as if it did
    # not exist.
    assert Client().post(url, post).status_code == 403
    for user in (other_customer, agent):
        client.force_login(user)
        assert client.post(url, post).status_code == 404
    assert not Rating.objects.exists()


def test_a_reply_of_another_ticket_cannot_be_rated_through_mine(
    client, helpdesk, department, customer, agent, site_settings
):
    mine = factories.open_ticket(department, customer=customer)
    theirs = factories.open_ticket(department, name="Bob", email="bob@example.com")
    their_reply = factories.staff_reply(theirs, agent, "Not yours.")
    client.force_login(customer)
    response = client.post(
        ticket_url(helpdesk, mine), {"action": "rate", "message": their_reply.pk, "score": "1"}
    )
    assert response.status_code == 302
    assert not Rating.objects.exists()


def test_rating_needs_post_and_csrf(helpdesk, answered, customer, site_settings):
    ticket, reply = answered
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer)
    url = ticket_url(helpdesk, ticket)
    browser.get(url + f"?action=rate&message={reply.pk}&score=1")
    response = browser.post(url, {"action": "rate", "message": reply.pk, "score": "1"})
    assert response.status_code == 403
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "values",
    [
        {"message": "x", "score": "5"},
        {"message": str(2**70), "score": "5"},
        {"message": "-1", "score": "5"},
        {"message": "1\x00", "score": "5"},
        {"score": "5"},
        {"message": "{reply}", "score": "99999999999999999999"},
        {"message": "{reply}", "score": "'; DROP TABLE"},
        {"message": "{reply}", "score": "5", "comment": "x" * 10000},
        {"message": "{reply}"},
    ],
)
def test_odd_input_never_fails(client, helpdesk, answered, customer, site_settings, values):
    ticket, reply = answered
    client.force_login(customer)
    data = {"action": "rate", **{k: v.format(reply=reply.pk) for k, v in values.items()}}
    response = client.post(ticket_url(helpdesk, ticket), data)
    assert response.status_code == 302
    assert not Rating.objects.exists()


def test_rating_is_rate_limited(client, helpdesk, answered, customer, site_settings, settings):
    settings.WAGTAIL_TICKETS_RATINGS_PER_HOUR = 3
    ticket, reply = answered
    client.force_login(customer)
    url = ticket_url(helpdesk, ticket)
    with mock.patch("wagtail_tickets.views.ratings.time.time", return_value=7200.0):
        for score in (1, 2, 3):
            client.post(url, {"action": "rate", "message": reply.pk, "score": str(score)})
        response = client.post(
            url, {"action": "rate", "message": reply.pk, "score": "5"}, follow=True
        )
    assert Rating.objects.get().score == 3
    assert "many ratings" in response.content.decode()


def test_changing_is_offered_only_within_the_days(
    client, helpdesk, answered, customer, site_settings
):
    ticket, reply = answered
    site_settings.rating_change_days = 7
    site_settings.save()
    workflow.rate(reply, score=4, at=timezone.now() - timedelta(days=8))
    client.force_login(customer)
    url = ticket_url(helpdesk, ticket)
    response = client.get(url)
    assert rate_forms(response) == []
    assert "You rated this reply 4 of 5." in response.content.decode()
    client.post(url, {"action": "rate", "message": reply.pk, "score": "1"})
    assert Rating.objects.get().score == 4


def test_low_score_on_a_resolved_ticket_offers_reopening(
    client, helpdesk, answered, customer, site_settings
):
    ticket, reply = answered
    workflow.change_status(ticket, resolved_status())
    client.force_login(customer)
    url = ticket_url(helpdesk, ticket)
    response = client.post(url, {"action": "rate", "message": reply.pk, "score": "2"}, follow=True)
    page = response.content.decode()
    assert "reopen the ticket" in page
    soup = BeautifulSoup(page, "html.parser")
    button = soup.find("button", string="Reopen my ticket")
    form = button.find_parent("form")
    assert form.find("input", attrs={"name": "action"})["value"] == "reopen_unhappy"
    client.post(url, {"action": "reopen_unhappy", "message": reply.pk})
    ticket.refresh_from_db()
    assert ticket.status.kind == Status.Kind.OPEN


def test_the_site_setting_reopens_by_itself(client, helpdesk, answered, customer, site_settings):
    ticket, reply = answered
    site_settings.reopen_on_low_rating = True
    site_settings.save()
    workflow.change_status(ticket, resolved_status())
    client.force_login(customer)
    response = client.post(
        ticket_url(helpdesk, ticket),
        {"action": "rate", "message": reply.pk, "score": "1"},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.status.kind == Status.Kind.OPEN
    assert "has been reopened" in response.content.decode()


# --- the resolve mail's links ----------------------------------------------------------


def resolve_mail_links(ticket, agent, commit):
    mail.outbox.clear()
    # Resolving (a status beyond close/reopen) needs "Can change ticket fields".
    agent = factories.grant(agent, "change_ticket_fields")
    with commit():
        workflow.change_status(ticket, resolved_status(), user=agent)
    [message] = [m for m in mail.outbox if ticket.customer_email in m.to]
    return message, RATE_LINK_RE.findall(message.body)


def test_resolve_mail_asks_how_we_did_with_a_link_per_score(
    helpdesk, answered, agent, customer, commit
):
    ticket, reply = answered
    later = factories.staff_reply(ticket, agent, "And this fixes it.")
    message, urls = resolve_mail_links(ticket, agent, commit)
    assert "How did we do?" in message.body
    assert len(urls) == 5 and len(set(urls)) == 5
    # Built from the Site record, and naming the last public staff reply.
    assert all(url.startswith(helpdesk.get_full_url()) for url in urls)
    for url, score in zip(urls, (5, 4, 3, 2, 1), strict=True):
        token = url.rstrip("/").rsplit("/", 1)[1]
        assert links.parse_rating_token(token) == (later.pk, score)


def test_resolve_mail_without_a_staff_reply_has_no_links(helpdesk, ticket, agent, commit):
    message, urls = resolve_mail_links(ticket, agent, commit)
    assert urls == [] and "How did we do?" not in message.body


def test_opening_a_link_only_asks_and_posting_rates(helpdesk, answered, agent, commit):
    ticket, reply = answered
    _message, urls = resolve_mail_links(ticket, agent, commit)
    two = urls[3]
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(two)
    assert page.status_code == 200
    assert not Rating.objects.exists(), "a GET (a mail scanner) never rates"
    soup = BeautifulSoup(page.content.decode(), "html.parser")
    checked = soup.select_one("input[name=score][checked]")
    assert checked["value"] == "2"
    assert soup.find("textarea", attrs={"name": "comment"})
    assert "Restart the printer, please." in page.content.decode()
    token = soup.find("input", attrs={"name": "csrfmiddlewaretoken"})["value"]

    response = browser.post(
        two,
        {"csrfmiddlewaretoken": token, "action": "rate", "score": "2", "comment": "Meh"},
        follow=True,
    )
    rating = Rating.objects.get()
    assert (rating.score, rating.comment, rating.source, rating.message) == (
        2,
        "Meh",
        Rating.Source.EMAIL,
        reply,
    )
    page = response.content.decode()
    assert "Reopen my ticket" in page
    soup = BeautifulSoup(page, "html.parser")
    token = soup.find("input", attrs={"name": "csrfmiddlewaretoken"})["value"]
    browser.post(two, {"csrfmiddlewaretoken": token, "action": "reopen"})
    ticket.refresh_from_db()
    assert ticket.status.kind == Status.Kind.OPEN


def test_another_score_can_be_chosen_on_the_confirmation_page(helpdesk, answered, agent, commit):
    ticket, _reply = answered
    _message, urls = resolve_mail_links(ticket, agent, commit)
    Client().post(urls[0], {"action": "rate", "score": "3"})
    assert Rating.objects.get().score == 3


@pytest.mark.parametrize("how", ["forged", "tampered", "expired", "internal", "customer"])
def test_forged_or_expired_links_are_refused_kindly(helpdesk, answered, agent, commit, how):
    ticket, reply = answered
    _message, urls = resolve_mail_links(ticket, agent, commit)
    url = urls[0]
    if how == "forged":
        url = url.rsplit("/rate/", 1)[0] + "/rate/" + "A" * 60 + "/"
    elif how == "tampered":
        token = url.rstrip("/").rsplit("/", 1)[1]
        url = url.replace(token, token[:-3] + ("abc" if token[-3:] != "abc" else "xyz"))
    elif how == "expired":
        with mock.patch("django.core.signing.time.time", return_value=0):
            url = links.rating_link_url(helpdesk, reply, 5)
    else:
        message = (
            Message.objects.filter(ticket=ticket, is_internal=True).get()
            if how == "internal"
            else ticket.messages.order_by("pk").first()
        )
        url = links.rating_link_url(helpdesk, message, 5)
    for method in ("get", "post"):
        response = getattr(Client(), method)(url, {"action": "rate", "score": "5"})
        assert response.status_code == 404
        assert "This rating link does not work" in response.content.decode()
    assert not Rating.objects.exists()


def test_a_link_of_another_support_centre_is_refused(helpdesk, answered, agent):
    _ticket, reply = answered
    other = factories.make_helpdesk(title="Other", slug="other")
    response = Client().get(links.rating_link_url(other, reply, 5))
    assert response.status_code == 404


# --- the desk ------------------------------------------------------------------------------


def test_agents_see_the_rating_beside_the_rated_reply(client, answered, agent):
    ticket, reply = answered
    workflow.rate(reply, score=2, comment="Did not help <script>")
    client.force_login(agent)
    page = client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk])).content.decode()
    soup = BeautifulSoup(page, "html.parser")
    item = soup.find(id=f"message-{reply.pk}")
    rating = item.select_one(".wt-msg__rating")
    assert rating["data-wt-rating"] == "2"
    assert "Rated 2 of 5" in rating.get_text() and "Did not help <script>" in rating.get_text()
    assert "<script>" not in page.split("Did not help", 1)[1][:30]
    assert len(soup.select(".wt-msg__rating")) == 1


def test_inbox_quick_view_lists_unhappy_customers(client, department, answered, agent):
    ticket, reply = answered
    happy = factories.open_ticket(department, subject="All good")
    workflow.rate(factories.staff_reply(happy, agent, "Done."), score=5)
    workflow.rate(reply, score=1)
    client.force_login(agent)
    url = reverse("helpdesk_inbox:index")
    inbox = client.get(url + "?all=1").content.decode()
    assert "Unhappy customers" in inbox and "unhappy=1" in inbox
    page = client.get(url + "?unhappy=1").content.decode()
    assert ticket.code in page and happy.code not in page
