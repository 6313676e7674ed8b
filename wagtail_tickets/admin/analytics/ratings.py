"""Ratings: every rating of the period with its comment, and the scores' spread."""

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ...analytics import charts, queries
from ...models.ratings import UNHAPPY_SCORES
from .base import AnalyticsView
from .filters import RatingsFilterSet
from .format import CommentColumn, FormattedColumn, ScoreColumn, TicketColumn, short_datetime


class RatingsView(AnalyticsView):
    screen = "ratings"
    screen_title = _("Analytics: ratings")
    results_template_name = "wagtail_tickets/admin/analytics/ratings_results.html"
    filterset_class = RatingsFilterSet
    export_filename = "analytics-ratings"
    verbose_name_plural = _("ratings")
    paginate_by = 50
    list_export = [
        "created_at",
        "score",
        "comment",
        "agent_name",
        "department_title",
        "ticket.code",
        "ticket.subject",
    ]
    export_headings = {
        "created_at": _("Rated"),
        "score": _("Score"),
        "comment": _("Comment"),
        "agent_name": _("Agent"),
        "department_title": _("Department"),
        "ticket.code": _("Ticket"),
        "ticket.subject": _("Subject"),
    }

    @cached_property
    def columns(self):
        return [
            FormattedColumn("created_at", label=_("Rated"), formatter=short_datetime),
            ScoreColumn("score", label=_("Score")),
            CommentColumn("comment", label=_("Comment")),
            FormattedColumn("agent_name", label=_("Agent")),
            FormattedColumn("department_title", label=_("Department")),
            TicketColumn("ticket", label=_("Ticket")),
        ]

    def get_rows(self):
        chosen = self.filters.cleaned("score")
        scores = None
        if chosen == RatingsFilterSet.UNHAPPY:
            scores = UNHAPPY_SCORES
        elif chosen:
            scores = (int(chosen),)
        ratings = queries.ratings(self.scope, scores=scores)
        return ratings.select_related("ticket", "agent")

    def decorate_paginated_queryset(self, object_list):
        titles = self.department_titles
        rows = list(object_list)
        for rating in rows:
            agent = rating.agent
            if agent is None:
                rating.agent_name = gettext("Former staff")
            else:
                rating.agent_name = agent.get_full_name() or agent.get_username()
            rating.department_title = titles.get(rating.ticket.department_id) or gettext(
                "No department"
            )
            rating.ticket_url = reverse("helpdesk_tickets:detail", args=[rating.ticket_id])
        return rows

    def get_table(self, object_list):
        return super().get_table(self.decorate_paginated_queryset(object_list))

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        totals = queries.rating_totals(self.scope)
        context["totals"] = totals
        context["charts"] = [
            charts.hbars(
                gettext("Ratings by score"),
                gettext("How many replies got each score in the period."),
                [(str(n), totals["by_score"][n]) for n in (5, 4, 3, 2, 1)],
                value_label=gettext("Ratings"),
            )
        ]
        return context

    def as_spreadsheet(self, queryset, spreadsheet_format):
        return super().as_spreadsheet(
            self.decorate_paginated_queryset(queryset), spreadsheet_format
        )
