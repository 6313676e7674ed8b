"""Agents: who works for two, and who could speed up."""

from django.utils.functional import cached_property
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from ...analytics import charts, queries
from .base import AnalyticsView, rounded, share
from .format import FormattedColumn, duration, percent, score


def agent_name(row):
    if row["agent_id"] == 0:
        return gettext("No agent (unassigned or former staff)")
    name = row["name"] or "—"
    return name if row["is_active"] else gettext("%(name)s (inactive)") % {"name": name}


class AgentsView(AnalyticsView):
    screen = "agents"
    screen_title = _("Analytics: agents")
    results_template_name = "wagtail_tickets/admin/analytics/agents_results.html"
    export_filename = "analytics-agents"
    verbose_name_plural = _("agents")
    list_export = [
        "agent",
        "replies",
        "touched",
        "resolved",
        "time_spent",
        "open_now",
        "first_response_median",
        "ratings",
        "average_score",
        "satisfaction_percent",
    ]
    export_headings = {
        "agent": _("Agent"),
        "replies": _("Replies"),
        "touched": _("Tickets answered"),
        "resolved": _("Tickets resolved"),
        "time_spent": _("Time spent (minutes)"),
        "open_now": _("Open now"),
        "first_response_median": _("Median first response (minutes)"),
        "ratings": _("Ratings"),
        "average_score": _("Average score"),
        "satisfaction_percent": _("Satisfaction (%)"),
    }

    @cached_property
    def columns(self):
        return [
            FormattedColumn("agent", label=_("Agent")),
            FormattedColumn("replies", label=_("Replies")),
            FormattedColumn("touched", label=_("Tickets answered")),
            FormattedColumn("resolved", label=pgettext_lazy("tickets counted", "Resolved")),
            FormattedColumn("time_spent", label=_("Time spent"), formatter=duration),
            FormattedColumn("open_now", label=_("Open now")),
            FormattedColumn(
                "first_response_median", label=_("Median first response"), formatter=duration
            ),
            FormattedColumn("ratings", label=_("Ratings")),
            FormattedColumn("average", label=_("Average score"), formatter=score),
            FormattedColumn("satisfaction", label=_("Satisfaction"), formatter=percent),
        ]

    @cached_property
    def rows(self):
        rows = queries.agents(self.scope)
        for row in rows:
            row["agent"] = agent_name(row)
            row["average_score"] = rounded(row["average"])
            row["satisfaction_percent"] = share(row["satisfaction"])
        return rows

    def get_rows(self):
        return self.rows

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        working = [row for row in self.rows if row["replies"]]
        context["charts"] = [
            charts.hbars(
                gettext("Share of the replies"),
                gettext("Each agent's part of the public replies in the period."),
                [(row["agent"], row["reply_share"]) for row in working],
                value_label=gettext("Share of replies"),
                share=True,
            )
        ]
        return context
