"""The overview: the period's main figures, its charts, and the same as a PDF."""

from django.http import HttpResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import slugify
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets.button import Button

from ...analytics import charts, queries
from .base import NAMESPACE, AnalyticsView, rounded, share
from .format import FormattedColumn, duration, percent, score, short_date


def overview_charts(figures):
    series = figures["series"]
    weekly = figures["period"].days > queries.DAILY_DAYS
    labels = [row["first"].strftime("%d.%m") for row in series]
    per = gettext("per week") if weekly else gettext("per day")
    return [
        charts.bars(
            gettext("New and resolved tickets, %(per)s") % {"per": per},
            gettext("Tickets opened and tickets resolved in each %(unit)s of the period.")
            % {"unit": gettext("week") if weekly else gettext("day")},
            labels,
            [
                charts.Series(
                    pgettext("tickets counted", "New"), [row["opened"] for row in series], 0
                ),
                charts.Series(
                    pgettext("tickets counted", "Resolved"), [row["resolved"] for row in series], 1
                ),
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
            share(figures["sla_share"]),
        ),
        (
            gettext("Satisfaction (scores of 4 and 5)"),
            percent(figures["satisfaction"]),
            share(figures["satisfaction"]),
        ),
        (gettext("Average score"), score(figures["average"]), rounded(figures["average"])),
        (gettext("Ratings"), figures["ratings"], figures["ratings"]),
        (
            gettext("Knowledge-base deflection"),
            percent(kb["deflection_rate"]),
            share(kb["deflection_rate"]),
        ),
    ]


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
        FormattedColumn("opened", label=pgettext_lazy("tickets counted", "New")),
        FormattedColumn("resolved", label=pgettext_lazy("tickets counted", "Resolved")),
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
