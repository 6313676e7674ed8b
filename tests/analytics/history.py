"""A random helpdesk history made through the workflow, and the analytics' figures
computed from it in plain Python, independently of ``wagtail_tickets.analytics``.

The history spreads over the last ``DAYS`` days, or further back to the latest
daylight-saving change in the months without one; a share of its moments falls within
minutes of the site's midnights, and around those changes, where a day's figures are
easiest to get wrong.
"""

import random
from collections import Counter, defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.models import Message, Priority, Rating, Status, Ticket

DAYS = 75
YEAR = 370


class History:
    def __init__(self, seed, *, tickets=28, helpdesk=None):
        self.rng = random.Random(seed)
        self.count = tickets
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.now = timezone.now()
        self.helpdesk = helpdesk or factories.make_helpdesk(slug=f"support-{seed}")
        self.departments = [
            factories.make_department(
                self.helpdesk, title=f"Dept {n} {seed}", prefix=f"D{n}S{seed}"
            )
            for n in range(3)
        ]
        self.agents = [
            factories.make_agent(
                f"agent{n}-{seed}",
                departments=[self.departments[n % 3], self.departments[(n + 1) % 3]],
                first_name=f"Agent{n}",
            )
            for n in range(4)
        ]
        # Replies that resolve need "Can change ticket fields"; the first agent merges
        # tickets of any department, which needs seeing them all.
        self.agents = [
            factories.grant(
                agent,
                "change_ticket_fields",
                *(["view_all_departments"] if n == 0 else []),
            )
            for n, agent in enumerate(self.agents)
        ]
        self.customers = [factories.make_user(f"cust{n}-{seed}") for n in range(3)]
        self.priorities = [
            Priority.objects.create(
                name=f"P{n}-{seed}",
                sort_order=50 + n,
                first_response_minutes=target[0],
                resolution_minutes=target[1],
            )
            for n, target in enumerate([(30, 600), (None, 240), (120, None), (None, None)])
        ]
        self.days, self.transitions = self.find_transitions()
        self.resolved = Status.first_of_kind(Status.Kind.RESOLVED)
        self.waiting = Status.first_of_kind(Status.Kind.WAITING)

    # -- moments ---------------------------------------------------------------------------

    def moment(self, after, *, spread_hours=60):
        """A moment after ``after``: often a few minutes either side of a local midnight,
        sometimes right at a daylight-saving change, otherwise anywhere."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            local = (after + timedelta(hours=rng.uniform(1, spread_hours))).astimezone(self.zone)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            candidate = midnight + timedelta(minutes=rng.uniform(-9, 9))
        elif roll < 0.4 and self.transitions:
            candidate = rng.choice(self.transitions) + timedelta(minutes=rng.uniform(-90, 90))
        else:
            candidate = after + timedelta(minutes=rng.uniform(1, spread_hours * 60))
        if candidate <= after:
            candidate = after + timedelta(minutes=rng.uniform(1, 30))
        return min(candidate, self.now - timedelta(seconds=rng.randint(1, 3000)))

    def find_transitions(self):
        """How many days the history spans, and the instants of the zone's offset
        changes within it: ``DAYS``, or enough to reach the latest change (from about
        January to March there is none in the last ``DAYS`` days)."""
        found = []
        moment = self.now - timedelta(days=YEAR)
        previous = moment.astimezone(self.zone).utcoffset()
        while moment < self.now:
            moment += timedelta(minutes=15)
            offset = moment.astimezone(self.zone).utcoffset()
            if offset != previous:
                found.append(moment)
                previous = offset
        days = DAYS
        if found and found[-1] < self.now - timedelta(days=DAYS):
            days = (self.now - found[-1]).days + 5
        start = self.now - timedelta(days=days + 5)
        return days, [moment for moment in found if moment >= start]

    # -- the history -------------------------------------------------------------------------

    def build(self):
        tickets = [self.ticket(n) for n in range(self.count)]
        rng = self.rng
        # Changes that happen now: departments, a merge, deleted replies.
        for ticket in rng.sample(tickets, 3):
            ticket.refresh_from_db()
            workflow.update_fields(ticket, department=rng.choice(self.departments))
        # Only one customer's tickets can be merged: the customer with the most.
        by_customer = {}
        for ticket in tickets:
            if ticket.customer_id:
                by_customer.setdefault(ticket.customer_id, []).append(ticket)
        mergeable = max(by_customer.values(), key=len)
        target, *sources = rng.sample(mergeable, 3)
        for ticket in (target, *sources):
            ticket.refresh_from_db()
        workflow.merge(target, sources, user=self.agents[0])
        # Not the pointer a merged-away ticket is left with: like a first message, it
        # cannot be deleted.
        staff = list(
            Message.objects.filter(
                is_staff_reply=True, ticket__in=tickets, ticket__merged_into=None
            ).select_related("ticket")
        )
        for message in rng.sample(staff, min(2, len(staff))):
            workflow.delete_message(message, user=self.agents[1])
        return tickets

    def ticket(self, number):
        rng = self.rng
        department = rng.choice(self.departments)
        customer = rng.choice([*self.customers, None])
        opened = self.now - timedelta(days=rng.uniform(2, self.days))
        opened = self.moment(opened - timedelta(hours=2), spread_hours=2)
        extra = {}
        if customer is None:
            extra = {"name": "Anon", "email": f"anon{number}@example.com"}
        ticket = factories.open_ticket(
            department,
            customer=customer,
            subject=rng.choice(["Printer is on fire", "Cannot log in", "Invoice is blank"]),
            priority=rng.choice(self.priorities),
            at=opened,
            **extra,
        )
        moment = opened
        staff_of = [a for a in self.agents if department in a.helpdesk_profile.departments.all()]
        for _step in range(rng.randint(0, 7)):
            moment = self.moment(moment)
            action = rng.choices(
                ["staff", "note", "customer", "resolve", "close", "reopen", "assign", "rate"],
                weights=[5, 1, 3, 2, 1, 1, 2, 3],
            )[0]
            self.act(ticket, action, moment, staff_of or self.agents)
        return ticket

    def act(self, ticket, action, moment, staff):
        rng = self.rng
        ticket.refresh_from_db()
        if action in ("staff", "note"):
            workflow.post_reply(
                ticket,
                body="Staff words",
                author=rng.choice([*staff, None]) if action == "staff" else rng.choice(staff),
                author_name="" if action == "note" else "Support",
                by_staff=True,
                is_internal=action == "note",
                time_spent_minutes=rng.choice([0, 0, 5, 30]),
                new_status=rng.choice([None, None, self.resolved]),
                at=moment,
            )
        elif action == "customer":
            workflow.post_reply(
                ticket,
                body="Customer words",
                author=ticket.customer,
                author_name=ticket.customer_name,
                author_email=ticket.customer_email,
                at=moment,
            )
        elif action == "resolve":
            workflow.change_status(ticket, rng.choice([self.resolved, self.waiting]), at=moment)
        elif action == "close":
            try:
                workflow.close(ticket, at=moment)
            except workflow.WorkflowError:
                pass
        elif action == "reopen":
            try:
                workflow.reopen(ticket, at=moment)
            except workflow.WorkflowError:
                pass
        elif action == "assign":
            workflow.assign(ticket, rng.choice([*staff, None]))
        elif action == "rate":
            replies = list(
                Message.objects.filter(ticket=ticket, is_staff_reply=True, is_internal=False)
            )
            if replies:
                workflow.rate(
                    rng.choice(replies),
                    score=rng.randint(1, 5),
                    comment=rng.choice(["", "Thanks", "Slow"]),
                    reopen_if_unhappy=rng.random() < 0.5,
                    at=moment,
                )


# --------------------------------------------------------------------------------------
# Plain computations
# --------------------------------------------------------------------------------------


def nearest_rank(values, percent):
    """The percentile by the definition the package documents, on a plain list."""
    if not values:
        return None
    ordered = sorted(values)
    index = -(-percent * len(ordered) // 100)  # ceil
    return ordered[max(index, 1) - 1]


class Truth:
    """What the analytics must show, computed from the saved rows."""

    def __init__(self, existing_users=None, authors=None):
        self.zone = ZoneInfo(settings.TIME_ZONE)
        # Who wrote each staff message, as the workflow saw it when the reply was made
        # (message pk -> user pk): a deleted user's messages lose their author in the
        # database, yet "tickets answered" counts once per agent who answered, and an
        # agent deleted since is still another agent than one who never had an account.
        self.authors = authors or {}
        self.tickets = list(Ticket.objects.select_related("priority"))
        self.messages = defaultdict(list)
        for message in Message.objects.filter(is_staff_reply=True).order_by("created_at", "pk"):
            self.messages[message.ticket_id].append(message)
        self.ratings = list(Rating.objects.select_related("ticket"))
        from django.contrib.auth import get_user_model

        self.users = set(get_user_model().objects.values_list("pk", flat=True))
        from wagtail_tickets.models import DepartmentPage

        self.department_ids = set(DepartmentPage.objects.values_list("pk", flat=True))

    def day(self, moment):
        return moment.astimezone(self.zone).date()

    def who(self, pk):
        return pk if pk in self.users else 0

    def dept(self, pk):
        return pk if pk in self.department_ids else 0

    @staticmethod
    def minutes(start, end):
        return max(0, int((end - start).total_seconds()) // 60)

    def responder(self, ticket):
        public = [m for m in self.messages[ticket.pk] if not m.is_internal]
        return self.who(public[0].author_id) if public else 0

    def matches(self, ticket, scope, agent_id):
        if scope.department is not None and ticket.department_id != scope.department:
            return False
        if scope.departments is not None and ticket.department_id not in scope.departments:
            return False
        return scope.agent is None or agent_id == scope.agent

    def sla(self, ticket):
        priority = ticket.priority
        first, resolution = priority.first_response_minutes, priority.resolution_minutes
        if not (first or resolution):
            return None
        answered = (ticket.first_response_at or ticket.resolved_at) - ticket.created_at
        took = ticket.resolved_at - ticket.created_at
        return (not first or answered <= timedelta(minutes=first)) and (
            not resolution or took <= timedelta(minutes=resolution)
        )

    def overview(self, scope, today):
        period = scope.period
        inside = lambda moment: period.start <= self.day(moment) <= period.end  # noqa: E731
        figures = Counter()
        first_times, resolution_times = [], []
        for t in self.tickets:
            assignee = self.who(t.assignee_id)
            if self.matches(t, scope, assignee):
                figures["opened"] += inside(t.created_at)
                if t.resolved_at and inside(t.resolved_at):
                    figures["resolved"] += 1
                    if t.merged_into_id is None:
                        resolution_times.append(self.minutes(t.created_at, t.resolved_at))
                        met = self.sla(t)
                        if met is not None:
                            figures["sla_total"] += 1
                            figures["sla_met"] += met
                figures["backlog_now"] += t.resolved_at is None
            if (
                t.first_response_at
                and t.merged_into_id is None
                and inside(t.first_response_at)
                and self.matches(t, scope, self.responder(t))
            ):
                first_times.append(self.minutes(t.created_at, t.first_response_at))
        scores = Counter()
        for rating in self.ratings:
            if inside(rating.created_at) and self.matches(
                rating.ticket, scope, self.who(rating.agent_id)
            ):
                scores[rating.score] += 1
        series = []
        from wagtail_tickets.analytics.queries import series_buckets

        for first, last in series_buckets(period):
            opened = sum(
                1
                for t in self.tickets
                if self.matches(t, scope, self.who(t.assignee_id))
                and first <= self.day(t.created_at) <= last
            )
            resolved = sum(
                1
                for t in self.tickets
                if self.matches(t, scope, self.who(t.assignee_id))
                and t.resolved_at
                and first <= self.day(t.resolved_at) <= last
            )
            backlog = sum(
                1
                for t in self.tickets
                if self.matches(t, scope, self.who(t.assignee_id))
                and self.day(t.created_at) <= last
                and (t.resolved_at is None or self.day(t.resolved_at) > last)
            )
            series.append((first, last, opened, resolved, backlog if last <= today else None))
        return {
            **figures,
            "first_response_median": nearest_rank(first_times, 50),
            "resolution_median": nearest_rank(resolution_times, 50),
            "scores": dict(scores),
            "series": series,
        }

    def agents(self, scope):
        period = scope.period
        inside = lambda moment: period.start <= self.day(moment) <= period.end  # noqa: E731
        rows = defaultdict(Counter)
        frt = defaultdict(list)
        for t in self.tickets:
            assignee = self.who(t.assignee_id)
            if self.matches(t, scope, assignee):
                if t.resolved_at and inside(t.resolved_at):
                    rows[assignee]["resolved"] += 1
                if t.resolved_at is None:
                    rows[assignee]["open_now"] += 1
            answered = set()
            for m in self.messages[t.pk]:
                agent = self.who(m.author_id)
                if not self.matches(t, scope, agent):
                    continue
                if inside(m.created_at):
                    rows[agent]["time_spent"] += m.time_spent_minutes
                if m.is_internal:
                    continue
                if inside(m.created_at):
                    rows[agent]["replies"] += 1
                author = self.authors.get(m.pk, m.author_id)
                if author not in answered:
                    answered.add(author)
                    if inside(m.created_at):
                        rows[agent]["touched"] += 1
            responder = self.responder(t)
            if (
                t.first_response_at
                and t.merged_into_id is None
                and inside(t.first_response_at)
                and self.matches(t, scope, responder)
            ):
                frt[responder].append(self.minutes(t.created_at, t.first_response_at))
                rows[responder]["first_responses"] += 1
        for rating in self.ratings:
            agent = self.who(rating.agent_id)
            if inside(rating.created_at) and self.matches(rating.ticket, scope, agent):
                rows[agent]["ratings"] += 1
                rows[agent]["score_sum"] += rating.score
        result = {}
        for agent, counts in rows.items():
            result[agent] = {
                **{
                    key: counts[key]
                    for key in (
                        "replies",
                        "touched",
                        "resolved",
                        "time_spent",
                        "open_now",
                        "first_responses",
                        "ratings",
                        "score_sum",
                    )
                },
                "first_response_median": nearest_rank(frt[agent], 50),
            }
        return {
            agent: row
            for agent, row in result.items()
            if any(value for key, value in row.items() if key != "first_response_median")
        }

    def departments(self, scope):
        period = scope.period
        inside = lambda moment: period.start <= self.day(moment) <= period.end  # noqa: E731
        first, resolution = defaultdict(list), defaultdict(list)
        counts = defaultdict(Counter)
        for t in self.tickets:
            dept = self.dept(t.department_id or 0)
            assignee = self.who(t.assignee_id)
            if self.matches(t, scope, assignee):
                counts[dept]["opened"] += inside(t.created_at)
                counts[dept]["backlog_now"] += t.resolved_at is None
                if t.resolved_at and inside(t.resolved_at):
                    counts[dept]["resolved"] += 1
                    if t.merged_into_id is None:
                        resolution[dept].append(self.minutes(t.created_at, t.resolved_at))
                        met = self.sla(t)
                        if met is not None:
                            counts[dept]["sla_total"] += 1
                            counts[dept]["sla_met"] += met
            responder = self.responder(t)
            if (
                t.first_response_at
                and t.merged_into_id is None
                and inside(t.first_response_at)
                and self.matches(t, scope, responder)
            ):
                first[dept].append(self.minutes(t.created_at, t.first_response_at))
                counts[dept]["first_responses"] += 1
        for rating in self.ratings:
            agent = self.who(rating.agent_id)
            if inside(rating.created_at) and self.matches(rating.ticket, scope, agent):
                dept = self.dept(rating.ticket.department_id or 0)
                counts[dept]["ratings"] += 1
                counts[dept]["score_sum"] += rating.score
        result = {}
        busy = {dept for dept, figures in counts.items() if any(figures.values())}
        for dept in set(first) | set(resolution) | busy:
            result[dept] = {
                "opened": counts[dept]["opened"],
                "resolved": counts[dept]["resolved"],
                **{
                    key: counts[dept][key]
                    for key in (
                        "backlog_now",
                        "first_responses",
                        "sla_total",
                        "sla_met",
                        "ratings",
                        "score_sum",
                    )
                },
                "first_response_median": nearest_rank(first[dept], 50),
                "first_response_p90": nearest_rank(first[dept], 90),
                "resolution_median": nearest_rank(resolution[dept], 50),
                "resolution_p90": nearest_rank(resolution[dept], 90),
            }
        return result
