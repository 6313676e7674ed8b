"""What a report covers, and the small helpers every query shares.

``Scope``: the period, the departments the user may see, the department and agent
filters; it turns them into conditions on the rollups (see ``Period.signed_blocks``).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

from django.db.models import Case, F, Q, Sum, When

from ..models import Ticket
from ..models.ratings import ALL_AGENTS, SATISFIED_SCORES, Grain
from .periods import Period
from .rollups import COUNTERS

SCORES = (1, 2, 3, 4, 5)
#: The counts the agents screen shows; an agent with none of them is left out.
AGENT_COUNTERS = (
    "replies",
    "touched",
    "resolved",
    "time_spent",
    "first_responses",
    *(f"rated_{score}" for score in SCORES),
)
#: The counts the departments screen shows; a department with none of them is left out.
DEPARTMENT_COUNTERS = (
    "opened",
    "resolved",
    "first_responses",
    "sla_total",
    *(f"rated_{score}" for score in SCORES),
)


@dataclass(frozen=True)
class Scope:
    """What a report covers.

    ``departments``: the ids the user may see, or None for every department (and
    tickets without one). ``department`` and ``agent``: the filters, or None.
    ``known_departments``: the ids of the departments that exist, for reports grouped by
    department (others count as 0).
    """

    period: Period
    departments: tuple | None = None
    department: int | None = None
    agent: int | None = None
    known_departments: frozenset = field(default_factory=frozenset)

    @property
    def is_empty(self):
        return (
            self.department is not None
            and self.departments is not None
            and self.department not in self.departments
        )

    def department_q(self, name="department_id"):
        if self.is_empty:
            return Q(pk__in=[])
        if self.department is not None:
            return Q(**{name: self.department})
        if self.departments is not None:
            return Q(**{f"{name}__in": self.departments})
        return Q()

    def department_list(self):
        """The departments as a list for ``deflection`` (None: all)."""
        if self.is_empty:
            return []
        if self.department is not None:
            return [self.department]
        return None if self.departments is None else list(self.departments)

    def department_of(self, dept):
        return dept if dept in self.known_departments else 0

    def blocks_q(self):
        """The rollup rows a sum over the period reads (see ``signed``)."""
        return self._signed[0]

    def signed(self, name):
        """``name`` of a rollup row, negative on the days taken away from whole months
        (``Period.signed_blocks``): summed over ``blocks_q``, it gives the period's sum."""
        return Case(When(self._signed[1], then=-F(name)), default=F(name))

    def sum(self, name):
        return Sum(self.signed(name))

    def block_branches(self):
        """The period's rows as a few conditions (quarters, months, days) whose union is
        ``blocks_q``."""
        return self._signed[2]

    @cached_property
    def _signed(self):
        # Days as a list of equal days rather than ranges: then the database walks the
        # buckets of each day in the index (see DurationRollup's key).
        quarters, months, add, take = self.period.signed_blocks()
        branches = [
            Q(grain=grain, day__in=starts)
            for grain, starts in (
                (Grain.QUARTER, quarters),
                (Grain.MONTH, months),
                (Grain.DAY, [*add, *take]),
            )
            if starts
        ]
        condition = Q(pk__in=[])
        for branch in branches:
            condition |= branch
        taken = Q(grain=Grain.DAY, day__in=take) if take else Q(pk__in=[])
        return condition, taken, branches

    def unsigned_blocks_q(self):
        """The rows of the period without any taken away, for maximums (topics)."""
        quarters, months, days = self.period.blocks()
        condition = Q(pk__in=[])
        for grain, starts in ((Grain.QUARTER, quarters), (Grain.MONTH, months), (Grain.DAY, days)):
            if starts:
                condition |= Q(grain=grain, day__in=starts)
        return condition

    def agent_family_q(self):
        return Q(agent_id=self.agent if self.agent is not None else ALL_AGENTS)

    def per_agent_q(self):
        return Q(agent_id=self.agent) if self.agent is not None else Q(agent_id__gte=0)


SUMMED = tuple(f"wt_{name}" for name in COUNTERS)


def counter_sums(scope=None):
    """Sums of every counter; over blocks (``scope``) with the days taken away negative."""
    if scope is None:
        return {f"wt_{name}": Sum(name) for name in COUNTERS}
    return {f"wt_{name}": scope.sum(name) for name in COUNTERS}


def add_counts(total, row):
    for name in COUNTERS:
        total[name] += row[name]


def zero():
    return dict.fromkeys(COUNTERS, 0)


def ratio(part, whole):
    return part / whole if whole else None


def rating_figures(counts):
    """Count, sum, average, satisfaction and unhappy count from per-score counts."""
    by_score = {score: counts[f"rated_{score}"] for score in SCORES}
    total = sum(by_score.values())
    score_sum = sum(score * n for score, n in by_score.items())
    satisfied = sum(by_score[score] for score in SATISFIED_SCORES)
    return {
        "ratings": total,
        "score_sum": score_sum,
        "average": ratio(score_sum, total),
        "satisfied": satisfied,
        "satisfaction": ratio(satisfied, total),
        "by_score": by_score,
    }


def person_name(user):
    return user.get_full_name() or user.get_username()


def open_tickets(scope):
    """Tickets not resolved now, in the scope's departments (and of its agent)."""
    tickets = Ticket.objects.filter(scope.department_q(), resolved_at__isnull=True)
    if scope.agent is not None:
        tickets = tickets.filter(assignee_id=scope.agent)
    return tickets


def as_date(value):
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def as_datetime(value):
    """A datetime column read by ``raw_rows``: text in UTC on SQLite."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value
