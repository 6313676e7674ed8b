"""Customers' ratings of staff replies, and the rollups the analytics read.

The rollups are sums kept by the workflow (``analytics.rollups``) in the transaction of
the change that causes them, so that reports over a year read a few hundred rows
instead of the history. Their keys are plain integers rather than foreign keys: a
deleted department or user leaves its figures in place (the reports show them as "no
department" or "former staff"), and 0 stands for "none".
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MIN_SCORE = 1
MAX_SCORE = 5
#: Scores that count as satisfied (the "satisfaction" share) and as unhappy.
SATISFIED_SCORES = (4, 5)
UNHAPPY_SCORES = (1, 2)
#: The scores with their names, best first, as the customer chooses them.
SCORE_CHOICES = [
    (5, _("5 – Excellent")),
    (4, _("4 – Good")),
    (3, _("3 – OK")),
    (2, _("2 – Poor")),
    (1, _("1 – Very poor")),
]


class Rating(models.Model):
    """A customer's score (1-5) of one public staff reply; it counts for the reply's author."""

    class Source(models.TextChoices):
        PAGE = "page", _("Ticket page")
        EMAIL = "email", _("Link in an e-mail")

    message = models.OneToOneField(
        "wagtail_tickets.Message",
        verbose_name=_("reply"),
        on_delete=models.CASCADE,
        related_name="rating",
    )
    ticket = models.ForeignKey(
        "wagtail_tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="ratings",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent rated"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(MIN_SCORE), MaxValueValidator(MAX_SCORE)]
    )
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(
        _("given on"), max_length=10, choices=Source.choices, default=Source.PAGE
    )
    created_at = models.DateTimeField(_("rated"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=MIN_SCORE, score__lte=MAX_SCORE),
                name="wt_rating_score_range",
            )
        ]
        indexes = [
            models.Index(fields=["created_at"], name="wt_rating_created"),
            models.Index(fields=["score", "ticket"], name="wt_rating_score_ticket"),
        ]

    def __str__(self):
        return f"{self.score}/{MAX_SCORE} · {self.ticket_id}"

    @property
    def is_unhappy(self):
        return self.score in UNHAPPY_SCORES


class Grain(models.TextChoices):
    """How much time a rollup row covers: reports add the quarters and months inside
    their period and the days at its edges (``Period.blocks``)."""

    DAY = "d", _("day")
    MONTH = "m", _("month")
    QUARTER = "q", _("quarter")


#: agent_id of the rows that hold a department's total over all agents.
ALL_AGENTS = -1


class ActivityRollup(models.Model):
    """Counts per day (or month) in the site's time zone, department and agent.

    Each count belongs to one agent: new and resolved tickets to the assignee, replies
    and time to the author, first responses to the one who gave them, ratings to the
    agent rated. ``agent_id`` is the user's id, 0 for none, ``ALL_AGENTS`` for the
    department's total.
    """

    grain = models.CharField(_("grain"), max_length=1, choices=Grain.choices)
    day = models.DateField(_("first day"))
    department_id = models.IntegerField(_("department id"))
    agent_id = models.IntegerField(_("agent id"))
    opened = models.IntegerField(_("new tickets"), default=0)
    resolved = models.IntegerField(_("resolved tickets"), default=0)
    replies = models.IntegerField(_("replies"), default=0)
    touched = models.IntegerField(_("tickets answered"), default=0)
    time_spent = models.IntegerField(_("time spent (minutes)"), default=0)
    first_responses = models.IntegerField(_("first responses"), default=0)
    sla_total = models.IntegerField(_("resolved tickets with targets"), default=0)
    sla_met = models.IntegerField(_("resolved within targets"), default=0)
    rated_1 = models.IntegerField(_("ratings of 1"), default=0)
    rated_2 = models.IntegerField(_("ratings of 2"), default=0)
    rated_3 = models.IntegerField(_("ratings of 3"), default=0)
    rated_4 = models.IntegerField(_("ratings of 4"), default=0)
    rated_5 = models.IntegerField(_("ratings of 5"), default=0)

    class Meta:
        verbose_name = _("activity rollup")
        verbose_name_plural = _("activity rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "day", "department_id", "agent_id"], name="wt_activity_key"
            )
        ]

    def __str__(self):
        return f"{self.grain} {self.day} {self.department_id}/{self.agent_id}"


class DurationRollup(models.Model):
    """How many first responses (or resolutions) took how long, for exact percentiles.

    A duration in whole minutes is counted three times: at ``level`` 0 in its minute,
    at level 1 in its 32-minute bucket and at level 2 in its 1,024-minute bucket. A
    percentile is found by reading the coarse counts, then only the finer counts inside
    the bucket that holds it: three small reads whatever the history (see
    ``analytics.percentiles``).
    """

    class Metric(models.IntegerChoices):
        FIRST_RESPONSE = 1, _("first response time")
        RESOLUTION = 2, _("resolution time")

    metric = models.PositiveSmallIntegerField(_("metric"), choices=Metric.choices)
    level = models.PositiveSmallIntegerField(_("level"))
    grain = models.CharField(_("grain"), max_length=1, choices=Grain.choices)
    day = models.DateField(_("first day"))
    department_id = models.IntegerField(_("department id"))
    agent_id = models.IntegerField(_("agent id"))
    bucket = models.IntegerField(_("bucket"))
    count = models.IntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("duration rollup")
        verbose_name_plural = _("duration rollups")
        constraints = [
            models.UniqueConstraint(
                # Bucket right after the day: a percentile reads a range of buckets on
                # each day, month and quarter of the period.
                fields=["metric", "level", "grain", "day", "bucket", "agent_id", "department_id"],
                name="wt_duration_key",
            )
        ]

    def __str__(self):
        return f"{self.metric}/{self.level} {self.grain} {self.day} {self.bucket}: {self.count}"


class TopicRollup(models.Model):
    """Resolved tickets per day (or month), department, status and topic key: the
    "Frequent requests" report. The status is kept so that the report counts only
    statuses that are of a resolved or closed kind when it is read."""

    grain = models.CharField(_("grain"), max_length=1, choices=Grain.choices)
    day = models.DateField(_("first day"))
    department_id = models.IntegerField(_("department id"))
    status_id = models.IntegerField(_("status id"))
    subject_key = models.CharField(_("topic key"), max_length=120)
    resolved = models.IntegerField(_("resolved tickets"), default=0)
    last_resolved = models.DateTimeField(_("last resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("topic rollup")
        verbose_name_plural = _("topic rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "day", "department_id", "status_id", "subject_key"],
                name="wt_topic_key",
            )
        ]

    def __str__(self):
        return f"{self.grain} {self.day} {self.subject_key}: {self.resolved}"
