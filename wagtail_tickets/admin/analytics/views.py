"""The analytics screens: Wagtail report views over the rollups.

Each screen is a ``ReportView`` with the period, department and agent filters; its table
is what the CSV and XLSX exports hold, and its figures and charts sit above the table,
in the part Wagtail refreshes when a filter changes. Who may see them: holders of
"Can view helpdesk analytics" (``view_analytics``); anyone else gets a 403. Figures are
limited to the departments the user sees in the desk, in the screens and the exports.
"""

from django.http import HttpResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.defaults import permission_denied
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets.button import Button

from ...analytics import charts, queries
from ...models.ratings import UNHAPPY_SCORES
from ...permissions import sees_all_departments
from .filters import AnalyticsFilterSet, RatingsFilterSet, load_choices
from .format import (
    CommentColumn,
    FastTable,
    FormattedColumn,
    ScoreColumn,
    TicketColumn,
    duration,
    neutralise,
    percent,
    score,
    short_date,
    short_datetime,
)

Column = FormattedColumn

NAMESPACE = "helpdesk_analytics"
PERMISSION = "wagtail_tickets.view_analytics"


def can_view_analytics(user):
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(PERMISSION))


class AnalyticsView(ReportView):
    """What every screen shares: access, filters, scope, navigation, exports."""

    screen = None
    screen_title = None
    template_name = "wagtail_tickets/admin/analytics/screen.html"
    filterset_class = AnalyticsFilterSet
    header_icon = "crosshairs"
    permission_policy = None
    paginate_by = None
    table_class = FastTable
    export_filename = "analytics"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Spreadsheet cells that start like a formula are written as text.
        self.custom_value_preprocess = {
            **self.custom_value_preprocess,
            str: {self.FORMAT_CSV: neutralise, self.FORMAT_XLSX: neutralise},
        }

    def dispatch(self, request, *args, **kwargs):
        if not can_view_analytics(request.user):
            return permission_denied(request, exception=None)
        return super().dispatch(request, *args, **kwargs)

    @property
    def page_title(self):
        return self.screen_title

    @cached_property
    def index_url_name(self):
        return f"{NAMESPACE}:{self.screen}"

    @cached_property
    def index_results_url_name(self):
        return f"{NAMESPACE}:{self.screen}_results"

    @cached_property
    def choices(self):
        return load_choices(self.request.user)

    def get_filterset_kwargs(self):
        return {**super().get_filterset_kwargs(), "choices": self.choices}

    @cached_property
    def scope(self):
        return self.filters.scope

    @property
    def department_titles(self):
        return self.filters.department_titles

    def filter_queryset(self, queryset):
        return queryset  # the scope applies the filters

    def get_queryset(self):
        return self.get_rows()

    def get_rows(self):
        raise NotImplementedError

    def get_filename(self):
        period = self.scope.period
        return f"{self.export_filename}-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}"

    def filter_query(self):
        """The query string of the filters, to carry to the other screens."""
        params = self.request.GET.copy()
        for key in ("export", "p", "ordering", "_w_filter_fragment"):
            params.pop(key, None)
        return params.urlencode()

    def screens(self):
        query = self.filter_query()
        return [
            {
                "name": name,
                "label": label,
                "url": reverse(f"{NAMESPACE}:{name}") + (f"?{query}" if query else ""),
                "current": name == self.screen,
            }
            for name, label in SCREENS
        ]

    def period_label(self):
        period = self.scope.period
        days = period.days
        return ngettext(
            "%(start)s – %(end)s (%(days)d day)",
            "%(start)s – %(end)s (%(days)d days)",
            days,
        ) % {
            "start": _date(period.start),
            "end": _date(period.end),
            "days": days,
        }

    def scope_label(self):
        """The department and agent the figures are limited to, in words."""
        scope = self.scope
        parts = []
        if scope.department is not None:
            parts.append(self.department_titles.get(scope.department, "—"))
        elif scope.departments is not None:
            parts.append(gettext("your departments"))
        else:
            parts.append(gettext("all departments"))
        if scope.agent is not None:
            parts.append(self.filters.agent_names.get(scope.agent, "—"))
        return ", ".join(parts)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context.update(
            screens=self.screens(),
            period_label=self.period_label(),
            scope_label=self.scope_label(),
            sees_all=sees_all_departments(self.request.user),
        )
        return context


def _date(value):
    from django.utils.formats import date_format

    return date_format(value, "DATE_FORMAT")


# --------------------------------------------------------------------------------------
# Overview
# --------------------------------------------------------------------------------------


def overview_charts(figures):
    series = figures["series"]
    weekly = len(series) and series[0]["first"] != series[0]["last"] or len(series) > 31
    labels = [row["first"].strftime("%d.%m") for row in series]
    per = gettext("per week") if weekly else gettext("per day")
    return [
        charts.bars(
            gettext("New and resolved tickets, %(per)s") % {"per": per},
            gettext("Tickets opened and tickets resolved in each %(unit)s of the period.")
            % {"unit": gettext("week") if weekly else gettext("day")},
            labels,
            [
                charts.Series(gettext("New"), [row["opened"] for row in series], 0),
                charts.Series(gettext("Resolved"), [row["resolved"] for row in series], 1),
            ],
        ),
        charts.lines(
            gettext("Backlog"),
            gettext("Tickets not resolved at the end of each %(unit)s.")
            % {"unit": gettext("week") if weekly else gettext("day")},
            labels,
            [charts.Series(gettext("Open tickets"), [row["backlog"] for row in series], 2)],
        ),
    ]


def overview_facts(figures):
    """The overview's figures as (label, value shown, value exported) rows."""
    kb = figures["deflection"]
    return [
        (gettext("New tickets"), figures["opened"], figures["opened"]),
        (gettext("Resolved tickets"), figures["resolved"], figures["resolved"]),
        (gettext("Backlog now"), figures["backlog_now"], figures["backlog_now"]),
        (
            gettext("Median first response"),
            duration(figures["first_response_median"]),
            figures["first_response_median"],
        ),
        (
            gettext("Median resolution time"),
            duration(figures["resolution_median"]),
            figures["resolution_median"],
        ),
        (
            gettext("SLA met"),
            percent(figures["sla_share"]),
            _share(figures["sla_share"]),
        ),
        (
            gettext("Satisfaction (scores of 4 and 5)"),
            percent(figures["satisfaction"]),
            _share(figures["satisfaction"]),
        ),
        (gettext("Average score"), score(figures["average"]), _round(figures["average"])),
        (gettext("Ratings"), figures["ratings"], figures["ratings"]),
        (
            gettext("Knowledge-base deflection"),
            percent(kb["deflection_rate"]),
            _share(kb["deflection_rate"]),
        ),
    ]


def _share(value):
    return None if value is None else round(value * 100, 1)


def _round(value):
    return None if value is None else round(value, 2)


class OverviewView(AnalyticsView):
    screen = "overview"
    screen_title = _("Analytics: overview")
    results_template_name = "wagtail_tickets/admin/analytics/overview_results.html"
    export_filename = "analytics-overview"
    verbose_name_plural = _("periods")
    list_export = ["first", "last", "opened", "resolved", "backlog"]
    export_headings = {
        "first": _("From"),
        "last": _("To"),
        "opened": _("New tickets"),
        "resolved": _("Resolved tickets"),
        "backlog": _("Backlog at the end"),
    }
    columns = [
        FormattedColumn("first", label=_("From"), formatter=short_date),
        FormattedColumn("last", label=_("To"), formatter=short_date),
        Column("opened", label=_("New")),
        Column("resolved", label=_("Resolved")),
        FormattedColumn("backlog", label=_("Backlog at the end")),
    ]

    @cached_property
    def figures(self):
        return queries.overview(self.scope)

    @cached_property
    def pdf_url(self):
        query = self.filter_query()
        return reverse(f"{NAMESPACE}:overview_pdf") + (f"?{query}" if query else "")

    @cached_property
    def header_more_buttons(self):
        return [
            *super().header_more_buttons,
            Button(_("Download PDF"), url=self.pdf_url, icon_name="download", priority=80),
        ]

    def get_rows(self):
        return self.figures["series"]

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        figures = self.figures
        context.update(
            figures=figures,
            facts=overview_facts(figures),
            charts=overview_charts(figures),
            pdf_url=self.pdf_url,
        )
        return context


class OverviewPDFView(OverviewView):
    """The overview with its charts as a PDF: the report a manager sends on."""

    def get(self, request, *args, **kwargs):
        from ...pdf import render_pdf

        figures = self.figures
        context = {
            "figures": figures,
            "facts": overview_facts(figures),
            "charts": overview_charts(figures),
            "period_label": self.period_label(),
            "scope_label": self.scope_label(),
            "site_name": _site_name(request),
            "generated_at": _now(),
        }
        pdf = render_pdf("wagtail_tickets/pdf/analytics_overview.html", context, request=request)
        response = HttpResponse(pdf, content_type="application/pdf")
        name = slugify(self.get_filename()) or "analytics"
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response


def _site_name(request):
    from wagtail.models import Site

    site = Site.find_for_request(request)
    return site.site_name if site and site.site_name else ""


def _now():
    from django.utils import timezone

    return timezone.now()


# --------------------------------------------------------------------------------------
# Agents
# --------------------------------------------------------------------------------------


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
            Column("agent", label=_("Agent")),
            Column("replies", label=_("Replies")),
            Column("touched", label=_("Tickets answered")),
            Column("resolved", label=_("Resolved")),
            FormattedColumn("time_spent", label=_("Time spent"), formatter=duration),
            Column("open_now", label=_("Open now")),
            FormattedColumn(
                "first_response_median", label=_("Median first response"), formatter=duration
            ),
            Column("ratings", label=_("Ratings")),
            FormattedColumn("average", label=_("Average score"), formatter=score),
            FormattedColumn("satisfaction", label=_("Satisfaction"), formatter=percent),
        ]

    @cached_property
    def rows(self):
        rows = queries.agents(self.scope)
        for row in rows:
            row["agent"] = agent_name(row)
            row["average_score"] = _round(row["average"])
            row["satisfaction_percent"] = _share(row["satisfaction"])
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


# --------------------------------------------------------------------------------------
# Departments
# --------------------------------------------------------------------------------------


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
            Column("department", label=_("Department")),
            Column("opened", label=_("New")),
            Column("resolved", label=_("Resolved")),
            Column("backlog_now", label=_("Backlog now")),
            FormattedColumn(
                "first_response_median", label=_("First response, median"), formatter=duration
            ),
            FormattedColumn("first_response_p90", label=_("90th percentile"), formatter=duration),
            FormattedColumn("resolution_median", label=_("Resolution, median"), formatter=duration),
            FormattedColumn("resolution_p90", label=_("90th percentile"), formatter=duration),
            FormattedColumn("sla_share", label=_("SLA met"), formatter=percent),
            Column("ratings", label=_("Ratings")),
            FormattedColumn("average", label=_("Average score"), formatter=score),
            FormattedColumn("satisfaction", label=_("Satisfaction"), formatter=percent),
        ]

    @cached_property
    def rows(self):
        rows = queries.departments(self.scope, self.department_titles)
        for row in rows:
            row["department"] = row["title"] or gettext("No department")
            row["sla_percent"] = _share(row["sla_share"])
            row["average_score"] = _round(row["average"])
            row["satisfaction_percent"] = _share(row["satisfaction"])
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


# --------------------------------------------------------------------------------------
# Ratings
# --------------------------------------------------------------------------------------


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
            Column("agent_name", label=_("Agent")),
            Column("department_title", label=_("Department")),
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


# --------------------------------------------------------------------------------------
# Knowledge base
# --------------------------------------------------------------------------------------


class KnowledgeBaseView(AnalyticsView):
    screen = "knowledge_base"
    screen_title = _("Analytics: knowledge base")
    results_template_name = "wagtail_tickets/admin/analytics/knowledge_base_results.html"
    export_filename = "analytics-knowledge-base"
    verbose_name_plural = _("departments")
    list_export = ["title", "shown", "opened", "filed", "deflection_percent"]
    export_headings = {
        "title": _("Department"),
        "shown": _("Forms with suggestions shown"),
        "opened": _("Suggestions opened"),
        "filed": _("Tickets filed after suggestions"),
        "deflection_percent": _("Deflection (%)"),
    }

    @cached_property
    def columns(self):
        return [
            Column("title", label=_("Department")),
            Column("shown", label=_("Suggestions shown")),
            Column("opened", label=_("Suggestions opened")),
            Column("filed", label=_("Tickets still filed")),
            FormattedColumn("deflection_rate", label=_("Deflection"), formatter=percent),
        ]

    @cached_property
    def figures(self):
        figures = queries.knowledge_base(self.scope, self.department_titles)
        for row in figures["departments"]:
            row["deflection_percent"] = _share(row["deflection_rate"])
        return figures

    def get_rows(self):
        return self.figures["departments"]

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["kb"] = self.figures
        return context


SCREENS = [
    ("overview", _("Overview")),
    ("agents", _("Agents")),
    ("departments", _("Departments")),
    ("ratings", _("Ratings")),
    ("knowledge_base", _("Knowledge base")),
]

VIEWS = {
    "overview": OverviewView,
    "agents": AgentsView,
    "departments": DepartmentsView,
    "ratings": RatingsView,
    "knowledge_base": KnowledgeBaseView,
}

__all__ = ["VIEWS", "OverviewPDFView", "can_view_analytics"]
