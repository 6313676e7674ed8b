"""Departments: reaction speed and satisfaction per department."""

from django.utils.functional import cached_property
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from ...analytics import charts, queries
from .base import AnalyticsView, rounded, share
from .format import FormattedColumn, duration, percent, score


class DepartmentsView(AnalyticsView):
    screen = "departments"
    screen_title = _("Analytics: departments")
    results_template_name = "wagtail_tickets/admin/analytics/departments_results.html"
    export_filename = "analytics-departments"
    verbose_name_plural = _("departments")
    list_export = [
        "department",
        "opened",
        "resolved",
        "backlog_now",
        "first_response_median",
        "first_response_p90",
        "resolution_median",
        "resolution_p90",
        "sla_percent",
        "ratings",
        "average_score",
        "satisfaction_percent",
    ]
    export_headings = {
        "department": _("Department"),
        "opened": _("New tickets"),
        "resolved": _("Resolved tickets"),
        "backlog_now": _("Backlog now"),
        "first_response_median": _("Median first response (minutes)"),
        "first_response_p90": _("90th percentile first response (minutes)"),
        "resolution_median": _("Median resolution time (minutes)"),
        "resolution_p90": _("90th percentile resolution time (minutes)"),
        "sla_percent": _("SLA met (%)"),
        "ratings": _("Ratings"),
        "average_score": _("Average score"),
        "satisfaction_percent": _("Satisfaction (%)"),
    }

    @cached_property
    def columns(self):
        return [
            FormattedColumn("department", label=_("Department")),
            FormattedColumn("opened", label=pgettext_lazy("tickets counted", "New")),
            FormattedColumn("resolved", label=pgettext_lazy("tickets counted", "Resolved")),
            FormattedColumn("backlog_now", label=_("Backlog now")),
            FormattedColumn(
                "first_response_median", label=_("First response, median"), formatter=duration
            ),
            FormattedColumn("first_response_p90", label=_("90th percentile"), formatter=duration),
            FormattedColumn("resolution_median", label=_("Resolution, median"), formatter=duration),
            FormattedColumn("resolution_p90", label=_("90th percentile"), formatter=duration),
            FormattedColumn("sla_share", label=_("SLA met"), formatter=percent),
            FormattedColumn("ratings", label=_("Ratings")),
            FormattedColumn("average", label=_("Average score"), formatter=score),
            FormattedColumn("satisfaction", label=_("Satisfaction"), formatter=percent),
        ]

    @cached_property
    def rows(self):
        rows = queries.departments(self.scope, self.department_titles)
        for row in rows:
            row["department"] = row["title"] or gettext("No department")
            row["sla_percent"] = share(row["sla_share"])
            row["average_score"] = rounded(row["average"])
            row["satisfaction_percent"] = share(row["satisfaction"])
        return rows

    def get_rows(self):
        return self.rows

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        timed = [row for row in self.rows if row["first_response_median"] is not None]
        context["charts"] = [
            charts.hbars(
                gettext("Median first response"),
                gettext("Half of the first responses of each department came this fast."),
                [(row["department"], row["first_response_median"]) for row in timed],
                value_label=gettext("Median first response"),
                formatter=duration,
            )
        ]
        return context
