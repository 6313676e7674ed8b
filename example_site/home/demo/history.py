"""A year of helpdesk history for the analytics: older tickets with their replies,
resolutions and ratings, knowledge-base suggestions and votes.

The tickets go through the workflow with backdated moments (``at=``), so every figure
is kept exactly as on a live site, and so is the tickets' search table. Mail is left out
while they are made (the notifications would go nowhere).
"""

import random
import secrets
from datetime import timedelta

from django.test.utils import override_settings
from django.utils import timezone

from wagtail_tickets import workflow
from wagtail_tickets.models import (
    ArticlePage,
    ArticleVote,
    Message,
    Status,
    SuggestionStat,
)

from . import content
from .people import ANONYMOUS

SEED = 20250601
HISTORY_TICKETS = 220
#: The history is older than the recent tickets (TicketMaker: the last 60 days).
OLDEST_DAYS, NEWEST_DAYS = 365, 55
DEPARTMENT_WEIGHTS = {"TECH": 5, "BILL": 2, "GEN": 3}
#: Scores customers give, most of them happy.
SCORE_WEIGHTS = [1, 1, 2, 5, 8]
COMMENTS = {
    1: ["It is still broken.", "Nobody read my message properly.", ""],
    2: ["Took far too long.", "The answer did not help.", ""],
    3: ["OK in the end.", ""],
    4: ["Thanks, that worked.", "Quick and clear.", ""],
    5: ["Excellent, thank you!", "Solved in minutes.", "Great support.", ""],
}
NO_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


class HistoryMaker:
    def __init__(self, departments, agents, customers, now):
        self.rng = random.Random(SEED)
        self.departments = departments
        self.agents = agents
        self.customers = customers
        self.now = now
        self.resolved = Status.first_of_kind(Status.Kind.RESOLVED)

    def make_all(self):
        with override_settings(TASKS=NO_TASKS):
            return [self.make(n) for n in range(HISTORY_TICKETS)]

    def _moment(self, after, hours):
        return after + timedelta(minutes=self.rng.uniform(5, hours * 60))

    def make(self, number):
        rng = self.rng
        prefix = rng.choices(list(DEPARTMENT_WEIGHTS), weights=DEPARTMENT_WEIGHTS.values())[0]
        department = self.departments[prefix]
        scenario = rng.choice(content.SCENARIOS[prefix])
        # More tickets lately than a year ago: the helpdesk grew.
        age = OLDEST_DAYS - (OLDEST_DAYS - NEWEST_DAYS) * rng.random() ** 0.8
        opened = self.now - timedelta(days=age, minutes=rng.randint(0, 1440))
        if prefix != "BILL" and rng.random() < 0.35:
            customer, (name, email) = None, rng.choice(ANONYMOUS)
        else:
            customer = rng.choice(self.customers)
            name, email = customer.get_full_name(), customer.email
        agent = rng.choice(self.agents[prefix])
        ticket, _token = workflow.open_ticket(
            department=department,
            subject=scenario["subject"],
            body=scenario["body"],
            customer=customer,
            customer_name=name,
            customer_email=email,
            language="en",
            at=opened,
        )
        if rng.random() < 0.9:
            workflow.assign(ticket, agent)
        # Some agents answer faster than others; a few tickets wait over a weekend.
        speed = {0: 2, 1: 6, 2: 12}[self.agents[prefix].index(agent) % 3]
        moment = self._moment(opened, speed if rng.random() < 0.85 else 60)
        last_staff = None
        for step, body in enumerate(scenario["replies"][: rng.randint(1, 4)]):
            if step % 2 == 0:
                last_staff = workflow.post_reply(
                    ticket,
                    body=body,
                    author=agent,
                    by_staff=True,
                    time_spent_minutes=rng.choice([5, 10, 15, 20, 30, 45]),
                    at=moment,
                )
            else:
                workflow.post_reply(
                    ticket,
                    body=body,
                    author=customer,
                    author_name=name,
                    author_email=email,
                    at=moment,
                )
            moment = self._moment(moment, 20)
        if rng.random() < 0.97:
            workflow.change_status(ticket, self.resolved, user=agent, at=moment)
            if last_staff is not None and rng.random() < 0.55:
                moment = self._moment(moment, 30)
                score = rng.choices([1, 2, 3, 4, 5], weights=SCORE_WEIGHTS)[0]
                rated = workflow.rate(
                    last_staff,
                    score=score,
                    comment=rng.choice(COMMENTS[score]),
                    user=customer,
                    at=moment,
                )
                if score <= 2 and rng.random() < 0.6:
                    # The unhappy customer reopens; the agent answers and resolves again.
                    workflow.reopen_unhappy(rated.rating, user=customer, at=moment)
                    moment = self._moment(moment, 8)
                    workflow.post_reply(
                        ticket,
                        body=rng.choice(content.STAFF_FILLERS),
                        author=agent,
                        by_staff=True,
                        time_spent_minutes=20,
                        at=moment,
                    )
                    moment = self._moment(moment, 24)
                    workflow.change_status(ticket, self.resolved, user=agent, at=moment)
            if rng.random() < 0.5:
                workflow.close(ticket, user=agent, at=self._moment(moment, 24 * 7))
        return ticket


def rate_recent(tickets, now, seed=SEED + 1):
    """Ratings of the last staff reply of about half the recent resolved tickets, one of
    them unhappy, so the ratings screen and the inbox's "unhappy customers" have some."""
    rng = random.Random(seed)
    done = [t for t in tickets if t.resolved_at is not None]
    for number, ticket in enumerate(done):
        if number and rng.random() < 0.5:
            continue
        reply = (
            Message.objects.filter(ticket=ticket, is_staff_reply=True, is_internal=False)
            .order_by("-created_at", "-pk")
            .first()
        )
        if reply is None:
            continue
        rated_at = min(ticket.resolved_at + timedelta(hours=rng.uniform(1, 30)), now)
        score = 2 if number == 0 else rng.choices([1, 2, 3, 4, 5], weights=SCORE_WEIGHTS)[0]
        workflow.rate(
            reply,
            score=score,
            comment=rng.choice(COMMENTS[score]),
            user=ticket.customer,
            at=rated_at,
        )


def knowledge_feedback(departments, now, seed=SEED + 2):
    """A year of article suggestions on the ticket forms, and readers' votes."""
    rng = random.Random(seed)
    stats = []
    today = timezone.localdate(now)
    for department in departments.values():
        for age in range(365):
            shown = max(0, int(rng.gauss(6 + 4 * (365 - age) / 365, 3)))
            if not shown:
                continue
            opened = rng.randint(0, shown)
            filed = rng.randint(0, max(0, shown - opened // 2))
            stats.append(
                SuggestionStat(
                    department=department,
                    day=today - timedelta(days=age),
                    shown=shown,
                    opened=opened,
                    filed=filed,
                )
            )
    SuggestionStat.objects.bulk_create(stats, ignore_conflicts=True)
    votes = []
    for article in ArticlePage.objects.live().order_by("pk"):
        helpful_share = rng.uniform(0.3, 0.95)
        for _n in range(rng.randint(3, 25)):
            votes.append(
                ArticleVote(
                    article=article,
                    voter=secrets.token_hex(16),
                    helpful=rng.random() < helpful_share,
                    created_at=now - timedelta(days=rng.uniform(0, 365)),
                )
            )
    ArticleVote.objects.bulk_create(votes)
    return len(stats), len(votes)


def articles_from_tickets(tickets, kb, user, count=2):
    """Draft articles from a few resolved tickets, as an agent would make them."""
    made = []
    for ticket in tickets:
        if len(made) == count:
            break
        ticket.refresh_from_db()
        if ticket.status.kind not in Status.ARCHIVED_KINDS or ticket.articles.exists():
            continue
        try:
            made.append(workflow.convert_to_article(ticket, kb, user=user))
        except workflow.WorkflowError:
            continue
    return made
